"""`autodrag demo` (what `make demo` runs): every expression preset on a few faces of the bundled model.

Until the bundled generator is committed, it generates a grid from a random-weight stand-in instead
and says so.
"""

from __future__ import annotations

import html
import warnings
from pathlib import Path

import click
import numpy as np
import torch
from tqdm import tqdm

from autodrag.images import save_png, to_uint8
from autodrag.latents import z_from_seed
from autodrag.cli_types import SEED_RANGE, device_option
from autodrag.networks.default import BUNDLED_GENERATOR, RandomDefaultWarning
from autodrag.networks.loading import load_generator

__all__ = ["demo"]


def _grid(images: list[np.ndarray], columns: int) -> np.ndarray:
    h, w, c = images[0].shape
    rows = (len(images) + columns - 1) // columns
    sheet = np.full((rows * h, columns * w, c), 255, dtype=np.uint8)
    for i, image in enumerate(images):
        r, col = divmod(i, columns)
        sheet[r * h:(r + 1) * h, col * w:(col + 1) * w] = image
    return sheet


@click.command()
@click.option("--seeds", type=SEED_RANGE, default="0-2", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("out/demo"), show_default=True)
@device_option
def demo(seeds: list[int], out: Path, device: str) -> None:
    """Every preset on a few seeds of the bundled model; writes out/demo/index.html."""
    if BUNDLED_GENERATOR.exists():
        from autodrag.presets.cli import run_preset_demo

        run_preset_demo(seeds, out, device)
    else:
        _random_weight_demo(len(seeds) * 3, out)


def _random_weight_demo(seeds: int, out: Path) -> None:
    """A grid from the random-weight stand-in (the bundled model is not present)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RandomDefaultWarning)
        G = load_generator(None)
    notes = [str(w.message) for w in caught if issubclass(w.category, RandomDefaultWarning)]
    for note in notes:
        click.echo(f"NOTE: {note}")
    images = []
    for seed in tqdm(range(seeds), desc="demo", unit="img"):
        with torch.no_grad():
            image = G(torch.from_numpy(z_from_seed(seed, G.z_dim)), None, noise_mode="const")
        images.append(to_uint8(image))
        save_png(out / f"seed{seed:04d}.png", images[-1])
    save_png(out / "grid.png", _grid(images, columns=min(8, seeds)))
    body = "".join(f'<figure><img src="seed{s:04d}.png" width="128"><figcaption>seed {s}</figcaption></figure>'
                   for s in range(seeds))
    note_html = "".join(f"<p><b>Note:</b> {html.escape(n)}</p>" for n in notes)
    page = (f"<!doctype html><meta charset='utf-8'><title>AutoDrag demo</title><h1>AutoDrag demo</h1>{note_html}"
            f"<p>Generator: {G.family}, {G.img_resolution}px, {G.num_ws} ws.</p>"
            f"<div style='display:flex;flex-wrap:wrap'>{body}</div>")
    (out / "index.html").write_text(page)
    click.echo(f"wrote {out / 'index.html'}")
