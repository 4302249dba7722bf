#!/usr/bin/env python3
"""Train (or resume) the bundled toy-faces StyleGAN2, then optionally export it to checkpoints/.

Examples:
  python scripts/train_toyfaces_generator.py --run runs/toyfaces_gen --minutes 60        # one piece
  python scripts/train_toyfaces_generator.py --run runs/toyfaces_gen --export checkpoints/toyfaces128.safetensors
Kill it at any time: the next call resumes from the last state save (every 5 minutes and at exit).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autodrag.toyfaces.train_generator import GeneratorTrainConfig, export_with_metrics, train_generator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, default=Path("runs/toyfaces_gen"), help="run folder (state, samples)")
    parser.add_argument("--minutes", type=float, default=None, help="stop after this much wall time")
    parser.add_argument("--total-steps", type=int, default=None,
                        help=f"schedule length (new runs: {GeneratorTrainConfig.total_steps}; resumed runs keep theirs)")
    parser.add_argument("--batch", type=int, default=GeneratorTrainConfig.batch)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-train", action="store_true", help="only export")
    parser.add_argument("--export", type=Path, default=None, help="write the EMA generator here (.safetensors)")
    args = parser.parse_args()
    if not args.no_train:
        cfg = GeneratorTrainConfig(batch=args.batch)
        train_generator(args.run, cfg, minutes=args.minutes, threads=args.threads, total_steps=args.total_steps)
    if args.export:
        psnr = export_with_metrics(args.run / "state.pt", args.export, argv=sys.argv[1:])
        print(f"exported {args.export}: held-out PSNR {psnr:.2f} dB")


if __name__ == "__main__":
    main()
