"""Benchmark pix2pix training speed and peak memory.

Times full training steps (D update + G update, vanilla GAN + L1, Adam) of the paper-sized
networks on random data, so data loading is excluded. Each configuration runs in its own
subprocess so that peak memory (max RSS on CPU, max allocated on CUDA) is its own.

Usage:
    python scripts/bench_pix2pix.py                       # the 4 standard configurations on CPU
    python scripts/bench_pix2pix.py --threads 2 --steps 5
    python scripts/bench_pix2pix.py --device cuda --amp --channels-last

Side by side with junyanz/pytorch-CycleGAN-and-pix2pix (issue #19):
    OMP_WAIT_POLICY=PASSIVE python scripts/bench_pix2pix.py --junyanz-root /tmp/junyanz --iters 150
    python scripts/bench_pix2pix.py --junyanz-root /tmp/junyanz --ablation     # what each speed-up buys
    python scripts/bench_pix2pix.py --junyanz-root /tmp/junyanz --inference-study --iters 1600

The side-by-side mode imports ``models/networks.py`` of a junyanz checkout by file path (its
``models/__init__.py``, which pulls in the rest of that project, is never run, and networks.py
itself imports only torch, so no torchvision stub is needed). Nothing of that project is copied
here. Both sides get the same U-Net-128 + 3-layer PatchGAN with our initial weights copied into
theirs, vanilla GAN + 100 x L1, Adam 2e-4 (0.5, 0.999), batch 1, and the same tensors in the same
order from a procedural paired set (label + edge maps -> shaded scenes, 128 px) generated here; the
two are trained alternately, one step each, in one process, so machine load hits both alike. Then
ours keeps training alone until its summed step time reaches theirs (equal wall-clock time).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads OpenMP: idle threads sleep, not spin
# (generator, side, batch): 256x256 batch 1 as in the paper, 128x128 batch 8
CONFIGS = [("unet", 256, 1), ("resnet", 256, 1), ("unet", 128, 8), ("resnet", 128, 8)]


def _rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def run_one(
    arch: str, side: int, batch: int, steps: int, warmup: int, device: str, amp: bool, channels_last: bool
) -> dict:
    """Time ``steps`` training steps after ``warmup`` ones; returns the measured figures."""
    import torch

    from autodrag.pix2pix.config import TrainConfig
    from autodrag.pix2pix.distributed import resolve_device
    from autodrag.pix2pix.networks import GeneratorConfig
    from autodrag.pix2pix.trainer import Pix2PixTrainer

    dev = resolve_device(device)
    cfg = TrainConfig(
        generator=GeneratorConfig(arch=arch, unet_depth=8 if side >= 256 else 7),
        batch_size=batch,
        amp=amp,
        channels_last=channels_last,
    )
    trainer = Pix2PixTrainer(cfg, dev)
    batch_data = {
        "A": torch.rand(batch, 3, side, side) * 2 - 1,
        "B": torch.rand(batch, 3, side, side) * 2 - 1,
    }
    rss_after_build = _rss_mib()
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    for _ in range(warmup):
        trainer.training_step(batch_data)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    start = time.perf_counter()
    for _ in range(steps):
        trainer.training_step(batch_data)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    elapsed = time.perf_counter() - start
    result = {
        "arch": arch,
        "size": f"{side}x{side}",
        "batch": batch,
        "images_per_s": steps * batch / elapsed,
        "s_per_step": elapsed / steps,
        "params_G_M": sum(p.numel() for p in trainer.netG.parameters()) / 1e6,
        "params_D_M": sum(p.numel() for p in trainer.netD.parameters()) / 1e6,
    }
    if dev.type == "cuda":
        result["peak_cuda_MiB"] = torch.cuda.max_memory_allocated(dev) / 2**20
    else:
        result["peak_rss_MiB"] = _rss_mib()
        result["rss_after_build_MiB"] = rss_after_build
    return result


def main() -> None:
    from autodrag.pix2pix.config import D_PRECISIONS

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda, auto")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="torch intra-op threads (CPU)")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per configuration")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    parser.add_argument("--amp", action="store_true", help="bfloat16 autocast (CUDA)")
    parser.add_argument("--channels-last", action="store_true", help="channels-last memory format (CUDA)")
    parser.add_argument("--only", default=None, help="internal: run one 'arch,side,batch' and print JSON")
    parser.add_argument("--junyanz-root", default=None, help="a junyanz checkout: run the side-by-side mode")
    parser.add_argument("--iters", type=int, default=150, help="side by side: training steps each")
    parser.add_argument("--train-pairs", type=int, default=200, help="side by side: generated training pairs")
    parser.add_argument("--test-pairs", type=int, default=40, help="side by side: generated test pairs")
    parser.add_argument("--seed", type=int, default=0, help="side by side: weights, data and dropout seed")
    parser.add_argument(
        "--d-precision",
        default="auto",
        choices=D_PRECISIONS,
        help="side by side: our D's arithmetic",
    )
    parser.add_argument("--ablation", action="store_true", help="side by side: time each speed-up on its own")
    parser.add_argument(
        "--inference-study",
        action="store_true",
        help="ours alone: test L1 of default vs --eval mode over training",
    )
    parser.add_argument("--json", default=None, help="side by side: also write the figures to this file")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    if args.junyanz_root:
        from bench_pix2pix_sidebyside import run_ablation, run_inference_study, run_side_by_side

        if args.ablation:
            run_ablation(args.junyanz_root, args.iters, args.seed)
        elif args.inference_study:
            run_inference_study(args)
        else:
            run_side_by_side(args)
        return
    if args.only:
        arch, side, batch = args.only.split(",")
        figures = run_one(
            arch, int(side), int(batch), args.steps, args.warmup, args.device, args.amp, args.channels_last
        )
        print(json.dumps(figures))
        return

    print(f"# torch {torch.__version__}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"threads {args.threads}, device {args.device}, steps {args.steps} (+{args.warmup} warm-up)")  # fmt: skip
    print("| generator | size | batch | images/s | s/step | peak memory (MiB) |")
    print("|---|---|---|---|---|---|")
    for arch, side, batch in CONFIGS:
        cmd = [sys.executable, __file__, "--only", f"{arch},{side},{batch}"] + [
            a for a in sys.argv[1:] if not a.startswith("--only")
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        r = json.loads(out)
        memory = r.get("peak_cuda_MiB", r.get("peak_rss_MiB"))
        print(
            f"| {arch} | {r['size']} | {batch} | {r['images_per_s']:.2f} | {r['s_per_step']:.2f} | {memory:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
