"""PyTorch reference for `bench diffusion`: the chapter's diffusion U-Net, timed like LatentLab's.

Same network (1x1 conv in, noise-variance channel, residual blocks with affine-free batch norm (eps 1e-3,
momentum 0.01), swish, avg-pool down, bilinear up, zero-initialised 1x1 conv out), same training step (normalised
images, unit noise, uniform times, offset cosine rates, mean absolute error, AdamW lr 1e-3 wd 0.004 eps 1e-7) and
the same 20-step deterministic sampler. Prints one JSON line: images/s for training and sampling per size, and
peak resident memory.

usage: python3 diffusion_unet.py --sizes 32,64,128 --threads 2 --batch 32 --train-steps 6,4,2 --sample-batches 1
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class ResidualBlock(nn.Module):
    def __init__(self, input_width, width):
        super().__init__()
        self.skip = nn.Conv2d(input_width, width, 1) if input_width != width else None
        self.norm = nn.BatchNorm2d(input_width, eps=1e-3, momentum=0.01, affine=False)
        self.conv1 = nn.Conv2d(input_width, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, x):
        residual = x if self.skip is None else self.skip(x)
        x = F.silu(self.conv1(self.norm(x)))
        return self.conv2(x) + residual


class UNet(nn.Module):
    def __init__(self, channels=3, widths=(32, 64, 96, 128), depth=2):
        super().__init__()
        self.conv_in = nn.Conv2d(channels, widths[0], 1)
        current = widths[0] + 1
        skips = []
        self.down_blocks = nn.ModuleList()
        for width in widths[:-1]:
            blocks = nn.ModuleList()
            for _ in range(depth):
                blocks.append(ResidualBlock(current, width))
                current = width
                skips.append(width)
            self.down_blocks.append(blocks)
        self.mid_blocks = nn.ModuleList()
        for _ in range(depth):
            self.mid_blocks.append(ResidualBlock(current, widths[-1]))
            current = widths[-1]
        self.up_blocks = nn.ModuleList()
        for width in reversed(widths[:-1]):
            blocks = nn.ModuleList()
            for _ in range(depth):
                blocks.append(ResidualBlock(current + skips.pop(), width))
                current = width
            self.up_blocks.append(blocks)
        self.conv_out = nn.Conv2d(current, channels, 1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, images, variances):
        b, _, h, w = images.shape
        x = torch.cat([self.conv_in(images), variances.expand(b, 1, h, w)], 1)
        skips = []
        for stage in self.down_blocks:
            for block in stage:
                x = block(x)
                skips.append(x)
            x = F.avg_pool2d(x, 2)
        for block in self.mid_blocks:
            x = block(x)
        for stage in self.up_blocks:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            for block in stage:
                x = block(torch.cat([x, skips.pop()], 1))
        return self.conv_out(x)


START, END = math.acos(0.95), math.acos(0.02)


def rates(times):
    angles = START + times * (END - START)
    return torch.sin(angles), torch.cos(angles)


def measure(size, batch, train_steps, sample_batches, channels_last):
    torch.manual_seed(0)
    net = UNet()
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.004, eps=1e-7)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    net = net.to(memory_format=fmt)
    images = torch.rand(batch, 3, size, size).to(memory_format=fmt)

    def train_step():
        noises = torch.randn_like(images)
        noise_rates, signal_rates = rates(torch.rand(batch, 1, 1, 1))
        noisy = signal_rates * images + noise_rates * noises
        predicted = net(noisy, noise_rates ** 2)
        loss = (noises - predicted).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    net.train()
    train_step()  # warm-up
    start = time.perf_counter()
    for _ in range(train_steps):
        train_step()
    train_rate = train_steps * batch / (time.perf_counter() - start)

    net.eval()
    with torch.no_grad():
        def sample():
            x = torch.randn(batch, 3, size, size).to(memory_format=fmt)
            for step in range(20):
                t = torch.full((batch, 1, 1, 1), 1 - step / 20)
                nr, sr = rates(t)
                noise = net(x, nr ** 2)
                pred = (x - nr * noise) / sr
                nnr, nsr = rates(t - 1 / 20)
                x = nsr * pred + nnr * noise
            return pred
        sample()
        start = time.perf_counter()
        for _ in range(sample_batches):
            sample()
        sample_rate = sample_batches * batch / (time.perf_counter() - start)
    return train_rate, sample_rate


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="32,64,128")
    parser.add_argument("--train-steps", default="6,4,2")
    parser.add_argument("--sample-batches", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--channels-last", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sizes = [int(s) for s in args.sizes.split(",")]
    steps = [int(s) for s in args.train_steps.split(",")]
    results = {}
    for size, train_steps in zip(sizes, steps):
        train_rate, sample_rate = measure(size, args.batch, train_steps, args.sample_batches, args.channels_last)
        results[str(size)] = {"train_images_per_s": train_rate, "sample_images_per_s": sample_rate}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "results": results, "peak_bytes": peak}))


if __name__ == "__main__":
    main()
