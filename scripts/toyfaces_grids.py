"""Write the renderer sample grids used in docs/TOYFACES.md.

    python scripts/toyfaces_grids.py [--outdir docs/images]

toyfaces_renders.png: seeds 0-23 (the z that `autodrag generate --seeds 0-23` uses);
toyfaces_sweeps.png: one face per row, one parameter swept low -> high per row (z_with_params).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from autodrag.latents import z_from_seed
from autodrag.toyfaces.params import PARAM_SPECS, Z_DIM, z_with_params
from autodrag.toyfaces.render import render_seed, render_z

SWEEPS = [
    "eye_open_left",
    "eye_open_right",
    "mouth_open",
    "smile",
    "jaw_width",
    "brow_height",
    "hair_length",
    "fringe",
]


def _grid(images: list[np.ndarray], cols: int) -> Image.Image:
    h, w = images[0].shape[:2]
    rows = (len(images) + cols - 1) // cols
    grid = Image.new("RGB", (cols * w, rows * h))
    for i, im in enumerate(images):
        grid.paste(Image.fromarray(im), ((i % cols) * w, (i // cols) * h))
    return grid


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--outdir", type=Path, default=Path("docs/images"))
    args = parser.parse_args()
    args.outdir.mkdir(parents=True, exist_ok=True)
    _grid([render_seed(s).image for s in range(24)], 8).save(
        args.outdir / "toyfaces_renders.png", optimize=True
    )
    specs = {s.name: s for s in PARAM_SPECS}
    images = []
    for row, name in enumerate(SWEEPS):
        z0 = z_from_seed(100 + row, Z_DIM)
        values = np.linspace(specs[name].low, specs[name].high, 8)
        images += [render_z(z_with_params(z0, **{name: float(v)}))[0].image for v in values]
    _grid(images, 8).save(args.outdir / "toyfaces_sweeps.png", optimize=True)
    print(f"wrote {args.outdir}/toyfaces_renders.png and toyfaces_sweeps.png (rows: {', '.join(SWEEPS)})")


if __name__ == "__main__":
    main()
