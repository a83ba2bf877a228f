"""PyTorch reference for the LatentLab VAE training benchmark (bench: vae-train).

Builds the same model as src/LatentLab/Vae (the chapter's VAE with Keras' asymmetric "same" padding), trains it
with the same loss, Adam settings and batch size on the same images, and prints one JSON line with the throughput
of the timed epochs and the peak resident memory.

    python3 vae_train.py IMAGES_IDX_GZ --threads 2 --epochs 3 --batch-size 128 --limit 10000

Debian's python3-torch defaults to ONE intra-op thread (torch.get_num_threads() == 1); --threads sets it.
"""
import argparse
import gzip
import json
import struct
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class Encoder(nn.Module):
    def __init__(self, latent_dim, channels, size):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 32, 3, stride=2)
        self.conv2 = nn.Conv2d(32, 64, 3, stride=2)
        self.dense = nn.Linear(64 * (size // 4) ** 2, 16)
        self.z_mean = nn.Linear(16, latent_dim)
        self.z_log_var = nn.Linear(16, latent_dim)

    def forward(self, images):
        # Keras "same" with stride 2 on an even side: no padding top/left, one row/column bottom/right.
        hidden = F.relu(self.conv1(F.pad(images, (0, 1, 0, 1))))
        hidden = F.relu(self.conv2(F.pad(hidden, (0, 1, 0, 1))))
        hidden = F.relu(self.dense(hidden.flatten(1)))
        return self.z_mean(hidden), self.z_log_var(hidden)


class Decoder(nn.Module):
    def __init__(self, latent_dim, channels, size):
        super().__init__()
        self.side = size // 4
        self.dense = nn.Linear(latent_dim, 64 * self.side ** 2)
        self.deconv1 = nn.ConvTranspose2d(64, 64, 3, stride=2)
        self.deconv2 = nn.ConvTranspose2d(64, 32, 3, stride=2)
        self.conv_out = nn.Conv2d(32, channels, 3, padding=1)

    def forward(self, latents):
        hidden = F.relu(self.dense(latents)).view(-1, 64, self.side, self.side)
        # Keras "same" transposed convolution: the full output, cropped at the bottom/right to twice the input.
        side = 2 * self.side
        hidden = F.relu(self.deconv1(hidden)[:, :, :side, :side])
        hidden = F.relu(self.deconv2(hidden)[:, :, :2 * side, :2 * side])
        return self.conv_out(hidden)


class Vae(nn.Module):
    def __init__(self, latent_dim=2, channels=1, size=28):
        super().__init__()
        self.encoder = Encoder(latent_dim, channels, size)
        self.decoder = Decoder(latent_dim, channels, size)


def read_idx_images(path):
    with gzip.open(path, "rb") as file:
        data = file.read()
    magic, count, rows, cols = struct.unpack_from(">4I", data)
    assert magic == 2051, f"{path}: not an IDX image file"
    return np.frombuffer(data, np.uint8, offset=16).reshape(count, 1, rows, cols)


def rss_bytes(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return -1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("images")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--limit", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    default_threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    pixels = read_idx_images(args.images)[: args.limit]
    count = len(pixels)

    model = Vae()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    epoch_rates, epoch_rss = [], []
    generator = np.random.default_rng(args.seed)
    for epoch in range(args.epochs):
        order = generator.permutation(count)
        start = time.perf_counter()
        for first in range(0, count, args.batch_size):
            batch = torch.from_numpy(pixels[order[first:first + args.batch_size]].astype(np.float32) / 255)
            mean, log_var = model.encoder(batch)
            latents = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
            logits = model.decoder(latents)
            per_pixel = F.binary_cross_entropy_with_logits(logits, batch, reduction="none")
            reconstruction = per_pixel.flatten(1).sum(1).mean()
            kl = (-0.5 * (1 + log_var - mean.square() - log_var.exp())).mean()
            loss = reconstruction + kl
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        epoch_rates.append(count / (time.perf_counter() - start))
        epoch_rss.append(rss_bytes("VmRSS:"))

    timed = epoch_rates[1:] if len(epoch_rates) > 1 else epoch_rates
    print(json.dumps({
        "images_per_second": sum(timed) / len(timed),
        "epoch_images_per_second": epoch_rates,
        "epoch_rss_bytes": epoch_rss,
        "peak_rss_bytes": rss_bytes("VmHWM:"),
        "threads": torch.get_num_threads(),
        "default_threads": default_threads,
        "torch": torch.__version__,
        "blas": torch.__config__.show().split("BLAS_INFO=")[1].split(",")[0],
        "final_loss": float(loss),
    }))


if __name__ == "__main__":
    main()
