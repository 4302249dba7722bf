#!/usr/bin/env python3
"""Benchmark the generators: forward ms/image at 256 and 512 (FFHQ-512 architecture, random weights),
and load time of the same network as an NVIDIA pickle and as AutoDrag safetensors.

Usage: python scripts/bench_generator.py [--repeats 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autodrag.networks import build_generator, load_generator, save_generator
from tests.networks.nvidia_format import write_network_pickle


def ffhq_config(resolution: int) -> dict:
    """stylegan2-ffhq-512x512's constructor kwargs (stylegan3 repo, config stylegan2), at `resolution`."""
    return dict(
        z_dim=512,
        c_dim=0,
        w_dim=512,
        img_resolution=resolution,
        img_channels=3,
        mapping_kwargs=dict(num_layers=8),
        channel_base=32768,
        channel_max=512,
        num_fp16_res=4,
        conv_clamp=256,
    )


def time_forward(G: torch.nn.Module, repeats: int) -> list[float]:
    z = torch.randn([1, G.z_dim])
    times = []
    with torch.no_grad():
        G(z, None, noise_mode="const")  # warm-up
        for _ in range(repeats):
            start = time.perf_counter()
            G(z, None, noise_mode="const")
            times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"machine: {platform.machine()}, {args.threads} torch threads, torch {torch.__version__}")
    print("| network | forward ms/image (median of N) | params |")
    print("|---|---|---|")
    for res in (256, 512):
        G = build_generator("stylegan2", ffhq_config(res)).eval().requires_grad_(False)
        times = time_forward(G, args.repeats)
        params = sum(p.numel() for p in G.parameters())
        print(
            f"| StyleGAN2 FFHQ-arch {res}px | {statistics.median(times):.0f} (N={args.repeats}) | {params / 1e6:.1f} M |"
        )
    with tempfile.TemporaryDirectory() as tmp:
        pkl = write_network_pickle(Path(tmp) / "ffhq512.pkl", G)
        st = save_generator(G, Path(tmp) / "ffhq512.safetensors")
        for label, path in (("NVIDIA pickle", pkl), ("safetensors", st)):
            times = []
            for _ in range(3):
                start = time.perf_counter()
                load_generator(path)
                times.append(time.perf_counter() - start)
            size = path.stat().st_size / 2**20
            print(
                f"| load {label} ({size:.0f} MiB) | {statistics.median(times) * 1000:.0f} ms (median of 3) | |"
            )


if __name__ == "__main__":
    main()
