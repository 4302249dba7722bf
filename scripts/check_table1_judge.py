#!/usr/bin/env python3
"""How precise `bench_table1.py`'s judge is: the bundled detector on faces moved by a known amount.

Two checks on the bundled generator's faces (seeds 0..2n-1, truncation 0.7, as bench_table1's pairs):

- **shift**: face A translated by whole pixels (1-3.6 px; the border replicated); the re-detected
  landmarks should move by exactly that.
- **warp**: face A warped by a thin-plate spline that carries its 68 landmarks the fraction `alpha` of
  the way to face B's (the shape change a Table-1 drag asks for, without the GAN); the re-detected
  landmarks should sit where the warp put them.

The error (median, mean, p90 over all landmarks) bounds how much of the benchmark's tracking error can
be the judge's. `--png` saves A | A warped to B's landmarks | B for the first pair.

Usage: OMP_WAIT_POLICY=PASSIVE python scripts/check_table1_judge.py [--pairs 20] [--png warp.png]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: no OpenMP spin-waiting under load

import numpy as np
import torch
import torch.nn.functional as F
from skimage.transform import ThinPlateSplineTransform, warp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autodrag.drag.coords import xy_to_rowcol
from autodrag.images import save_png, to_uint8
from autodrag.landmarks.toy import ToyLandmarkDetector
from autodrag.latents import ws_from_seed
from autodrag.networks import load_generator
from autodrag.paths import BUNDLED_GENERATOR
from scripts.bench_table1 import detect_rowcol

SHIFTS = ((2, 0), (0, 2), (-1, 1), (3, -2))  # (rows, cols) the content moves by
ALPHAS = (0.25, 0.5, 1.0)


def shifted(image: torch.Tensor, drow: int, dcol: int, pad: int = 4) -> torch.Tensor:
    """`image` [1, C, R, R] with its content moved by (drow, dcol) whole pixels, the border replicated."""
    size = image.shape[-1]
    padded = F.pad(image, (pad, pad, pad, pad), mode="replicate")
    return padded[..., pad - drow : pad - drow + size, pad - dcol : pad - dcol + size]


def warped(image: np.ndarray, source: np.ndarray, dest: np.ndarray) -> np.ndarray:
    """uint8 [R, R, 3] warped so the points `source` (row, col) land on `dest` (thin-plate spline)."""
    # skimage's warp wants the map from output to input coordinates, as (x, y) = (col, row).
    inverse = ThinPlateSplineTransform.from_estimate(dest[:, ::-1], source[:, ::-1])
    out = warp(image.astype(np.float64) / 255.0, inverse, order=1, mode="edge")
    return (out * 255.0 + 0.5).astype(np.uint8)


def summary(errors: list[np.ndarray]) -> str:
    e = np.concatenate(errors)
    return (
        f"median {np.median(e):.2f} px, mean {e.mean():.2f}, p90 {np.percentile(e, 90):.2f} "
        f"({len(e)} landmarks)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=20, help="face pairs (seeds 2i, 2i + 1)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--png", type=Path, default=None, help="save A | A warped to B | B of the first pair")
    args = parser.parse_args()
    if args.pairs < 1:
        parser.error(f"--pairs must be >= 1, got {args.pairs}")
    torch.set_num_threads(args.threads)
    G = load_generator(BUNDLED_GENERATOR)
    detector = ToyLandmarkDetector()
    shift_errors: list[np.ndarray] = []
    warp_errors: dict[float, list[np.ndarray]] = {a: [] for a in ALPHAS}
    moved: dict[float, list[np.ndarray]] = {a: [] for a in ALPHAS}
    for i in range(args.pairs):
        with torch.no_grad():
            face_a = G.synthesis(ws_from_seed(G, 2 * i, 0.7)[None], noise_mode="const")
            face_b = G.synthesis(ws_from_seed(G, 2 * i + 1, 0.7)[None], noise_mode="const")
        lm_a, lm_b = detect_rowcol(detector, face_a), detect_rowcol(detector, face_b)
        for drow, dcol in SHIFTS:
            found = detect_rowcol(detector, shifted(face_a, drow, dcol))
            shift_errors.append(np.linalg.norm(found - (lm_a + np.array([drow, dcol])), axis=1))
        rgb_a = to_uint8(face_a)
        for alpha in ALPHAS:
            dest = lm_a + alpha * (lm_b - lm_a)
            image = warped(rgb_a, lm_a, dest)
            found = xy_to_rowcol(detector.detect(image))
            warp_errors[alpha].append(np.linalg.norm(found - dest, axis=1))
            moved[alpha].append(np.linalg.norm(dest - lm_a, axis=1))
            if i == 0 and alpha == 1.0 and args.png:
                save_png(args.png, np.concatenate([rgb_a, image, to_uint8(face_b)], axis=1))
    print(f"{args.pairs} faces; the bundled detector as the judge")
    print(f"shift by 1-3.6 px: {summary(shift_errors)}")
    for alpha in ALPHAS:
        print(
            f"warp {alpha:g} of the way to B's landmarks (moved {np.concatenate(moved[alpha]).mean():.2f} px "
            f"mean): {summary(warp_errors[alpha])}"
        )


if __name__ == "__main__":
    main()
