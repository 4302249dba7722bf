#!/usr/bin/env python3
"""Benchmark inversion of toy photos (render_seed faces at 128 px) into the bundled generator.

Prints, per reconstruction loss, the median PSNR / SSIM / seconds / steps after each stage (W, W+, tuned)
over held-out seeds, the tuning gain over W+, and the toy landmark detector's mean error (px) of the
final reconstruction against the target's own detected landmarks. Thread settings are printed too:
the machine is shared, so pass `--threads` and keep OMP_WAIT_POLICY=PASSIVE (set here when unset).

Usage: python scripts/bench_invert.py [--seeds 1000-1009] [--losses auto] [--threads 2] [--json out.json]
       python scripts/bench_invert.py --losses l2,msssim_l1          # the loss comparison
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autodrag.cli_types import SEED_RANGE
from autodrag.landmarks.toy import ToyLandmarkDetector
from autodrag.networks.loading import load_default_generator
from autodrag.photos.invert import STAGES, InversionConfig, invert
from autodrag.photos.perceptual import make_loss
from autodrag.toyfaces.render import render_seed


def bench(kind: str, seeds: list[int], config: InversionConfig, out_dir: Path | None) -> dict:
    G = load_default_generator().eval()
    loss = make_loss(kind)
    detector = ToyLandmarkDetector()
    rows = []
    for seed in seeds:
        target = render_seed(seed).image
        start = time.perf_counter()
        result = invert(G, target, config, loss=loss)
        seconds = time.perf_counter() - start
        nme = float(
            np.linalg.norm(detector.detect(result.reconstruction) - detector.detect(target), axis=1).mean()
        )
        rows.append(dict(result.metrics, seed=seed, seconds=seconds, landmark_err_px=nme))
        print(
            f"  {kind} seed {seed}: "
            + " ".join(f"psnr_{s} {result.metrics.get(f'psnr_{s}', float('nan')):.2f}" for s in STAGES)
            + f" lm {nme:.2f}px {seconds:.1f}s",
            flush=True,
        )
        if out_dir is not None:
            from autodrag.images import save_png

            save_png(out_dir / f"{kind}_{seed}.png", np.concatenate([target, result.reconstruction], axis=1))
    summary: dict = {"loss": loss.name, "seeds": len(seeds)}
    for key in rows[0]:
        if key not in ("loss", "seed") and isinstance(rows[0][key], (int, float)):
            summary[f"median_{key}"] = round(statistics.median(r[key] for r in rows), 3)
    if "psnr_tune" in rows[0] and "psnr_w_plus" in rows[0]:
        summary["median_tune_gain_db"] = round(
            statistics.median(r["psnr_tune"] - r["psnr_w_plus"] for r in rows), 3
        )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seeds", default="1000-1009", help="held-out render_seed seeds, e.g. 1000-1009,2000"
    )
    parser.add_argument("--losses", default="auto", help="comma list of auto, lpips, msssim_l1, l2")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--out", type=Path, default=None, help="write target|reconstruction PNGs here")
    parser.add_argument("--json", type=Path, default=None, help="write the summaries as JSON here")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override an InversionConfig field (repeatable), e.g. --set tune_steps=200",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        default = getattr(InversionConfig(), name)
        overrides[name] = (
            (value.lower() in ("1", "true", "yes")) if isinstance(default, bool) else type(default)(value)
        )
    config = InversionConfig(**overrides)
    print(
        f"threads: torch {torch.get_num_threads()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, cpus {os.cpu_count()}; overrides {overrides}"
    )
    summaries = [
        bench(kind, SEED_RANGE.convert(args.seeds, None, None), config, args.out)
        for kind in args.losses.split(",")
    ]
    for s in summaries:
        print(json.dumps(s))
    if args.json:
        from autodrag.atomic import write_json_atomic

        write_json_atomic(args.json, summaries)


if __name__ == "__main__":
    main()
