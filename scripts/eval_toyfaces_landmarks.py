"""Score the bundled landmark detector on held-out renders and on generator outputs.

    python scripts/eval_toyfaces_landmarks.py                       # renders (+ bundled G if present)
    python scripts/eval_toyfaces_landmarks.py --generator runs/g.safetensors --count 256
    python scripts/eval_toyfaces_landmarks.py --write-npz runs/g_faces.npz --count 4000

--write-npz saves generator outputs labelled with the renderer's landmarks, the input of
`autodrag toyfaces train-landmarks --extra-npz FILE --extra-fraction 0.3` (fine-tuning on G).
Held-out seeds: renders 30_000_000 + i, generator 1_000_000 + i (never trained on by either).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from autodrag.landmarks.toy import ToyLandmarkDetector
from autodrag.latents import save_latent
from autodrag.networks import load_generator
from autodrag.paths import BUNDLED_GENERATOR
from autodrag.toyfaces.eval_landmarks import generator_dataset, nme_on_generator, nme_on_renders
from autodrag.toyfaces.train_landmarks import TEST_SEED_BASE

GENERATOR_HELD_OUT = 1_000_000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--detector", type=Path, default=None, help="default: the bundled detector")
    parser.add_argument(
        "--generator", type=Path, default=None, help="default: the bundled generator, if present"
    )
    parser.add_argument("--count", type=int, default=256)
    parser.add_argument("--truncation-psi", type=float, default=1.0)
    parser.add_argument(
        "--write-npz", type=Path, default=None, help="write G outputs + renderer landmarks here"
    )
    parser.add_argument("--npz-first-seed", type=int, default=40_000_000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    gen_path = args.generator or (BUNDLED_GENERATOR if BUNDLED_GENERATOR.is_file() else None)
    G = load_generator(gen_path) if gen_path else None
    if args.write_npz:
        if G is None:
            parser.error("--write-npz needs a generator")
        images, marks = generator_dataset(
            G, range(args.npz_first_seed, args.npz_first_seed + args.count), args.truncation_psi
        )
        save_latent(args.write_npz, images=images, landmarks=marks)  # an atomic .npz writer
        print(f"wrote {len(images)} labelled generator faces to {args.write_npz}")
        return
    detector = ToyLandmarkDetector(args.detector)
    report = {"renders": nme_on_renders(detector, range(TEST_SEED_BASE, TEST_SEED_BASE + args.count))}
    if G is not None:
        seeds = range(GENERATOR_HELD_OUT, GENERATOR_HELD_OUT + args.count)
        report["generator"] = {
            "checkpoint": str(gen_path),
            "truncation_psi": args.truncation_psi,
            **nme_on_generator(detector, G, seeds, args.truncation_psi),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
