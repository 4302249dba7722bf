"""A small paired dataset made offline: names in a plain font -> the same names "handwritten".

The "handwriting" is a fixed, deterministic distortion of the plain rendering (a slant, a wavy
baseline and a heavier stroke), so a pix2pix model can learn it in minutes on a CPU and the
held-out error can be compared against the identity and the untrained baselines.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter
from scipy import ndimage

from autodrag.pix2pix.errors import FontError
from autodrag.pix2pix.handwriting.fonts import DEFAULT_FONT, render_text, resolve_font
from autodrag.pix2pix.images import Size

__all__ = ["demo_names", "make_demo_dataset", "plain_font", "scriptify"]

_SYLLABLES = (
    "ka",
    "ri",
    "lo",
    "ma",
    "ne",
    "su",
    "to",
    "vi",
    "da",
    "el",
    "on",
    "ya",
    "be",
    "zu",
    "mi",
    "ra",
    "jo",
    "an",
)


def plain_font() -> str:
    """A plain sans font present on this machine: DejaVu Sans or Liberation Sans, else Pillow's own."""
    for spec in ("DejaVuSans", "LiberationSans-Regular"):
        try:
            resolve_font(spec)
        except FontError:
            continue
        return spec
    return DEFAULT_FONT


def demo_names(count: int, seed: int = 0) -> list[str]:
    """``count`` distinct pronounceable names such as ``"Rilo"`` or ``"Sumane"``."""
    rng = np.random.default_rng(seed)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        parts = rng.choice(_SYLLABLES, size=int(rng.integers(2, 4)))
        name = "".join(parts).capitalize()
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def scriptify(img: Image.Image, slant: float = 0.35, wave: float = 0.08, periods: float = 1.5) -> Image.Image:
    """Turn a plain black-on-white ``L`` rendering into a slanted, wavy, heavier "script".

    Args:
        img: The plain rendering.
        slant: Horizontal shift per pixel of height above the centre line (a shear).
        wave: Amplitude of the baseline wave, as a fraction of the height.
        periods: Wave periods across the width.
    """
    ink = 255.0 - np.asarray(img, dtype=np.float32)
    height, width = ink.shape
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    # inverse map: output pixel (r, c) samples the input at (r - wave, c + slant * (r - centre))
    src_cols = cols + slant * (rows - height / 2)
    src_rows = rows - wave * height * np.sin(2 * np.pi * periods * cols / width)
    warped = ndimage.map_coordinates(ink, [src_rows, src_cols], order=1, mode="constant", cval=0.0)
    out = Image.fromarray((255.0 - np.clip(warped, 0, 255)).astype(np.uint8))
    return out.filter(ImageFilter.MinFilter(3))  # thicken the dark strokes


def make_demo_dataset(
    out_dir: str | Path,
    n_train: int = 48,
    n_val: int = 12,
    size: Size = (64, 32),
    seed: int = 0,
    font: str | None = None,
) -> Path:
    """Write ``out_dir/{train,val}/{A,B}/<name>.png``: plain names (A) and their script version (B).

    Returns:
        ``out_dir``, ready to be a ``--dataroot``.
    """
    out_dir = Path(out_dir)
    font = font or plain_font()
    names = demo_names(n_train + n_val, seed)
    for split, chunk in (("train", names[:n_train]), ("val", names[n_train:])):
        for side in ("A", "B"):
            (out_dir / split / side).mkdir(parents=True, exist_ok=True)
        for name in chunk:
            plain, _ = render_text(name, font, size, height_fraction=0.55, margin=0.12)
            plain.save(out_dir / split / "A" / f"{name}.png")
            scriptify(plain).save(out_dir / split / "B" / f"{name}.png")
    return out_dir
