using System.Globalization;

namespace LatentLab.Bench;

/// <summary>
/// This CPU's theoretical peak, from /proc/cpuinfo: cores x clock x FLOPs per cycle, where FLOPs per cycle follow
/// from the vector flags (an estimate: the flags do not say how many FMA units a core has).
/// </summary>
public sealed record CpuPeak(int Cores, double GigaHertz, int Float32FlopsPerCycle, int BFloat16FlopsPerCycle, string Basis)
{
    public double Float32GFlops => Cores * GigaHertz * Float32FlopsPerCycle;

    public double BFloat16GFlops => Cores * GigaHertz * BFloat16FlopsPerCycle;

    public static CpuPeak Detect()
    {
        string flags = MachineInfo.ReadCpuField("flags") ?? "";
        string vendor = MachineInfo.ReadCpuField("vendor_id") ?? "";
        double megahertz = double.TryParse(MachineInfo.ReadCpuField("cpu MHz"), NumberStyles.Float,
            CultureInfo.InvariantCulture, out double value) ? value : 0;
        bool HasFlag(string flag) => flags.Split(' ').Contains(flag, StringComparer.Ordinal);
        int cores = TorchSharp.torch.get_num_threads();
        (int fp32, string basis) = (HasFlag("avx512f"), HasFlag("fma"), vendor) switch
        {
            // Zen 4 runs 512-bit FMAs on two 256-bit pipes: 2 x 8 lanes x 2 FLOPs.
            (true, _, "AuthenticAMD") => (32, "AVX-512 on AMD Zen 4 (two 256-bit FMA pipes): 32 FP32 FLOPs/cycle/core"),
            (true, _, _) => (64, "AVX-512 with two 512-bit FMA units: 64 FP32 FLOPs/cycle/core"),
            (false, true, _) => (32, "AVX2 with two 256-bit FMA units: 32 FP32 FLOPs/cycle/core"),
            _ => (8, "SSE only: 8 FP32 FLOPs/cycle/core"),
        };
        // AVX512_BF16's dot-product instruction does two bf16 multiply-adds per float32 lane.
        int bf16 = HasFlag("avx512_bf16") ? 2 * fp32 : fp32;
        return new CpuPeak(cores, megahertz / 1000, fp32, bf16,
            basis + (HasFlag("avx512_bf16") ? "; bf16 x2 (avx512_bf16)" : "; no bf16 instructions"));
    }
}
