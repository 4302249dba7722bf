#!/usr/bin/env python3
"""Score a toy-faces generator: held-out PSNR against the renderer and expression-sweep correlations.

Usage: python scripts/eval_toyfaces_generator.py [--generator checkpoints/toyfaces128.safetensors] [--json out.json]
       [--record]   (also store the figures under "metrics" in the generator's .json)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from autodrag.atomic import write_json_atomic
from autodrag.landmarks.toy import ToyLandmarkDetector
from autodrag.networks import load_generator
from autodrag.paths import BUNDLED_GENERATOR
from autodrag.toyfaces.eval_generator import expression_sweeps
from autodrag.toyfaces.train_generator import evaluate_psnr


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--generator", type=Path, default=BUNDLED_GENERATOR)
    parser.add_argument("--count", type=int, default=256, help="held-out faces for PSNR")
    parser.add_argument("--sweeps", type=int, default=32)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--record", action="store_true", help="merge the figures into the generator's .json")
    args = parser.parse_args()
    torch.set_num_threads(2)
    G = load_generator(args.generator)
    psnr = evaluate_psnr(G, count=args.count)
    reports = expression_sweeps(G, ToyLandmarkDetector(), sweeps=args.sweeps)
    result = {"psnr_db": round(psnr, 2), "count": args.count}
    for rep in reports:
        result[f"sweep_{rep.parameter}"] = {
            "median_r": round(float(np.median(rep.r)), 3),
            "min_r": round(float(rep.r.min()), 3),
            "fraction_r_ge_0.9": round(rep.fraction_ok, 3),
            "sweeps": len(rep.r),
        }
    print(json.dumps(result, indent=2))
    if args.json:
        write_json_atomic(args.json, result)
    if args.record:
        sidecar = args.generator.with_suffix(".json")
        meta = json.loads(sidecar.read_text())
        meta.setdefault("metrics", {}).update(
            {
                "psnr_db_heldout": result["psnr_db"],
                "psnr_faces": args.count,
                **{k: v for k, v in result.items() if k.startswith("sweep_")},
            }
        )
        write_json_atomic(sidecar, meta)


if __name__ == "__main__":
    main()
