"""Benchmark the toy-face renderer and the bundled landmark detector on one CPU thread.

Prints a markdown table (paste it into docs/TOYFACES.md / docs/BENCHMARKS.md).  Timings depend
on machine load; run it on an idle machine for representative numbers.

    python scripts/bench_toyfaces.py [--faces 200]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from autodrag.landmarks.toy import ToyLandmarkDetector
from autodrag.toyfaces.params import params_for_seed
from autodrag.toyfaces.render import RenderConfig, render_face


def _render_rate(count: int, resolution: int) -> float:
    """Faces per second, seed -> z -> params -> image + landmarks + masks."""
    t = time.perf_counter()
    for seed in range(count):
        render_face(params_for_seed(seed), RenderConfig(resolution=resolution))
    return count / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--faces", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for res in (128, 256):
        total = _render_rate(args.faces, res)
        rows.append(
            (
                f"render {res} px (seed -> image + landmarks + masks)",
                f"{total:.0f} faces/s",
                f"{1000 / total:.1f} ms/face",
            )
        )
    det = ToyLandmarkDetector()
    image = render_face(params_for_seed(0)).image
    times = []
    for i in range(60):
        t = time.perf_counter()
        det.detect(image)
        if i >= 10:
            times.append(time.perf_counter() - t)
    ms = float(np.median(times) * 1000)
    rows.append(("toy landmark detector, 128 px, 1 image", f"{1000 / ms:.0f} images/s", f"{ms:.1f} ms/image"))
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, 1 thread")
    print("| what | rate | time |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
