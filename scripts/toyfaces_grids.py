"""Write the renderer sample grids used in docs/TOYFACES.md.

    python scripts/toyfaces_grids.py [--outdir docs/images]

toyfaces_renders.png: seeds 0-23 (the z that `autodrag generate --seeds 0-23` uses);
toyfaces_sweeps.png: one face per row, one parameter swept low -> high per row (z_with_params);
with the bundled generator present, also toyfaces_render_vs_generator.png (seeds 0-7: renderer row,
then G row, twice) and toyfaces_generator_sweeps.png (the same sweeps drawn by G).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from autodrag.images import to_uint8
from autodrag.latents import z_from_seed
from autodrag.networks import load_generator
from autodrag.paths import BUNDLED_GENERATOR
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
    if BUNDLED_GENERATOR.is_file():
        _generator_grids(args.outdir, specs)


def _generate(G: torch.nn.Module, z: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return to_uint8(
            G(torch.from_numpy(np.asarray(z, np.float32).reshape(1, -1)), None, noise_mode="const")
        )


def _generator_grids(outdir: Path, specs: dict) -> None:
    """Renderer vs generator on the same z, and the renderer's sweeps drawn by the generator."""
    G = load_generator(None)
    pairs = []
    for first in (0, 8):
        seeds = range(first, first + 8)
        pairs += [render_seed(s).image for s in seeds] + [_generate(G, z_from_seed(s, Z_DIM)) for s in seeds]
    _grid(pairs, 8).save(outdir / "toyfaces_render_vs_generator.png", optimize=True)
    images = []
    for row, name in enumerate(SWEEPS):
        z0 = z_from_seed(100 + row, Z_DIM)
        values = np.linspace(specs[name].low, specs[name].high, 8)
        images += [_generate(G, z_with_params(z0, **{name: float(v)})) for v in values]
    _grid(images, 8).save(outdir / "toyfaces_generator_sweeps.png", optimize=True)
    print(f"wrote {outdir}/toyfaces_render_vs_generator.png and toyfaces_generator_sweeps.png")


if __name__ == "__main__":
    main()
