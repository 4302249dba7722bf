"""The README's photo figure: one toy photo and its three pasted-back preset edits, side by side.

    .venv/bin/python scripts/make_photo_figure.py --bench runs/bench_photos50 --seed 3 \
        --out docs/images/photo_presets.png

Uses the photo and the finished project that `scripts/bench_photos.py` left in --bench (no inversion).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from autodrag.images import save_png
from autodrag.networks.loading import load_default_generator
from autodrag.photos.pipeline import edit_photo
from autodrag.photos.project import load_project

PRESETS = ("close_eyes", "open_mouth", "smile")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=Path("runs/bench_photos50"))
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("docs/images/photo_presets.png"))
    parser.add_argument("--height", type=int, default=256, help="height of each panel")
    args = parser.parse_args()
    G = load_default_generator()
    photo = args.bench / "photos" / f"seed{args.seed:04d}.png"
    project = load_project(args.bench / "projects" / f"seed{args.seed:04d}", G)
    panels = [np.asarray(Image.open(photo).convert("RGB"))]
    for name in PRESETS:
        result = edit_photo(project, G, name, photo_path=photo, bundled=True)
        print(f"{name}: success {result.success.get(name)}, {result.edit.steps} steps")
        panels.append(result.output_rgb)
    h = args.height
    scaled = [
        np.asarray(
            Image.fromarray(p).resize((round(p.shape[1] * h / p.shape[0]), h), Image.Resampling.LANCZOS)
        )
        for p in panels
    ]
    gap = np.full((h, 4, 3), 255, np.uint8)
    row = [scaled[0]]
    for panel in scaled[1:]:
        row += [gap, panel]
    save_png(args.out, np.concatenate(row, axis=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
