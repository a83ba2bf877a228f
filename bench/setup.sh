#!/usr/bin/env bash
# Installs what the benchmarks' PyTorch references need (Debian/Ubuntu, as root):
# - python3-torch (Debian's PyTorch 1.13), which the bench/reference/*.py scripts import;
# - dataset-fashion-mnist, the full 70,000-image Fashion-MNIST for full-size runs;
# - OpenBLAS unpacked into bench/.blas (not installed system-wide): Debian's torch links the slow reference BLAS,
#   and `LATENTLAB_BENCH_BLAS_DIR=bench/.blas/usr/lib/x86_64-linux-gnu/openblas-pthread` makes the reference use
#   OpenBLAS for a fair comparison without changing the system's BLAS.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
apt-get update -qq
apt-get install -y -qq python3-torch dataset-fashion-mnist
mkdir -p "$here/.blas" && cd "$here/.blas"
apt-get download -qq libopenblas0-pthread
dpkg -x libopenblas0-pthread_*.deb .
echo "OpenBLAS for the reference: export LATENTLAB_BENCH_BLAS_DIR=$here/.blas/usr/lib/x86_64-linux-gnu/openblas-pthread"
