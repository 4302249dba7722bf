#!/usr/bin/env python3
"""Benchmark a drag step: the fast path (`DragSession`) vs the full-resolution formulation.

For 1 and 5 handles at 128, 256 and 512 px (StyleGAN2 FFHQ-512 architecture, random weights; plus
1 handle with a mask at 512). Timing: both paths in one process, `--warmup` steps each, then
`--steps` timed steps alternating full/fast (so that load from other jobs hits both alike); the
median wall time per step, and the speed-up also from process CPU time.

Fast path: synthesis up to the feature block, features sampled at sub-pixel positions straight
from the 128x128 map, mask term at feature resolution, no gradients for G's parameters.
Full path (`tests/drag/drag_reference.py`, DragGAN's formulation): the whole generator every step,
the feature map upsampled to image size, losses and tracking on the upsampled map. G's parameters
are frozen there too, so the difference is only the work the fast path leaves out.

Memory: every (resolution, handles, path) runs alone in its own subprocess. After set-up and the
warm-up steps the child resets its peak-RSS counter (`echo 5 > /proc/self/clear_refs`) and reads
`VmHWM` from /proc/self/status after one more step: "peak RSS" is the whole process's resident
peak during that step (weights and libraries included), "step memory" is that peak minus the RSS
before the step. Where clear_refs is unavailable it falls back to getrusage(RUSAGE_SELF).ru_maxrss,
which then also covers set-up.

Usage: python scripts/bench_drag.py [--threads 2] [--steps 3] [--warmup 1] [--resolutions 128,256,512]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autodrag.drag import DragConfig, DragSession
from autodrag.networks import build_generator
from scripts.bench_generator import ffhq_config
from tests.drag.drag_reference import FullResolutionDrag


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _points(resolution: int, count: int) -> tuple[list[list[float]], list[list[float]]]:
    """Handles around the centre, targets 15 % of the image away (far enough not to converge)."""
    handles, targets = [], []
    for i in range(count):
        row = resolution * (0.3 + 0.1 * i)
        col = resolution * (0.35 + 0.05 * i)
        handles.append([round(row), round(col)])
        targets.append([round(row), round(col + 0.15 * resolution)])
    return handles, targets


def _setup(resolution: int, count: int, path: str, threads: int, mask: bool):
    """Build the generator and start a drag on `path` ('fast' or 'full'); returns its step function."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    G = build_generator("stylegan2", ffhq_config(resolution)).eval().requires_grad_(False)
    with torch.no_grad():
        ws = G.mapping(torch.randn([1, G.z_dim]), None)[0]
    handles, targets = _points(resolution, count)
    movable = None
    if mask:
        movable = torch.zeros(resolution, resolution)
        movable[resolution // 5 : 4 * resolution // 5, resolution // 5 : 4 * resolution // 5] = 1
    if path == "fast":
        session = DragSession(G, ws, DragConfig(max_steps=10**6))
        session.start_drag(handles, targets, mask=movable)
        return session.step
    scales = DragConfig().scaled(resolution, count)
    reference = FullResolutionDrag(
        G, ws, handles, targets, movable, r1=scales.r1, r2=scales.r2, mask_weight=scales.mask_weight
    )
    return reference.step


def time_child(resolution: int, count: int, steps: int, warmup: int, threads: int, mask: bool) -> dict:
    """Both paths in one process, steps alternating, so that load from other jobs hits both alike."""
    step = {path: _setup(resolution, count, path, threads, mask) for path in ("full", "fast")}
    for _ in range(warmup):
        step["full"](), step["fast"]()
    wall: dict[str, list[float]] = {"full": [], "fast": []}
    cpu: dict[str, list[float]] = {"full": [], "fast": []}
    for _ in range(steps):
        for path in ("full", "fast"):
            start, cpu_start = time.perf_counter(), time.process_time()
            step[path]()
            wall[path].append((time.perf_counter() - start) * 1000)
            cpu[path].append((time.process_time() - cpu_start) * 1000)
    return {"wall_ms": wall, "cpu_ms": cpu}


def memory_child(resolution: int, count: int, path: str, warmup: int, threads: int, mask: bool) -> dict:
    """One path alone in this process: peak RSS (MiB) over one step after the warm-up."""
    step = _setup(resolution, count, path, threads, mask)
    for _ in range(warmup):
        step()
    rss_before = _status_kib("VmRSS")
    exact = _reset_peak()
    step()
    peak = _status_kib("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"peak_mib": peak / 1024, "step_mib": (peak - rss_before) / 1024, "peak_exact": exact}


def _run_child(spec: str, args: argparse.Namespace) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        spec,
        "--steps",
        str(args.steps),
        "--warmup",
        str(args.warmup),
        "--threads",
        str(args.threads),
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per configuration")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    parser.add_argument("--resolutions", default="128,256,512")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw results here")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, res, count, mask = args.child.split(":")
        res, count, mask = int(res), int(count), mask == "mask"
        if kind == "time":
            result = time_child(res, count, args.steps, args.warmup, args.threads, mask)
        else:
            result = memory_child(res, count, kind, args.warmup, args.threads, mask)
        print(json.dumps(result))
        return

    configs = [
        (res, count, mask)
        for res in map(int, args.resolutions.split(","))
        for count in (1, 5)
        for mask in ([False, True] if res == 512 and count == 1 else [False])
    ]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs visible, {args.threads} torch threads, "
        f"torch {torch.__version__}; {args.warmup} warm-up + {args.steps} timed steps per path and row"
    )
    print(
        "| res | handles | mask | full ms/step | fast ms/step | speed-up (wall) | speed-up (CPU time) "
        "| full peak RSS MiB (step) | fast peak RSS MiB (step) | peak ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    results = []
    for res, count, mask in configs:
        tag = f"{res}:{count}:{'mask' if mask else 'nomask'}"
        timing = _run_child(f"time:{tag}", args)
        full, fast = (_run_child(f"{path}:{tag}", args) for path in ("full", "fast"))
        results.append(
            {
                "resolution": res,
                "handles": count,
                "mask": mask,
                **timing,
                "memory": {"full": full, "fast": fast},
            }
        )
        wall = {p: statistics.median(v) for p, v in timing["wall_ms"].items()}
        cpu = {p: statistics.median(v) for p, v in timing["cpu_ms"].items()}
        print(
            f"| {res} | {count} | {'yes' if mask else 'no'} | {wall['full']:.0f} | {wall['fast']:.0f} | "
            f"{wall['full'] / wall['fast']:.1f}x | {cpu['full'] / cpu['fast']:.1f}x | "
            f"{full['peak_mib']:.0f} ({full['step_mib']:.0f}) | "
            f"{fast['peak_mib']:.0f} ({fast['step_mib']:.0f}) | "
            f"{full['peak_mib'] / fast['peak_mib']:.1f}x |",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
