"""Interpolation between two learned styles: a strip of images and an animated GIF.

Blending the style vectors and decoding each blend shows whether the model learned a continuous
style space (intermediate styles appear) rather than memorising each style separately.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image

from autodrag.pix2pix.handwriting.multistyle import StyleUnet
from autodrag.pix2pix.images import load_image, to_pil, to_tensor

__all__ = ["interpolate_styles", "save_strip", "style_index"]


def style_index(style: str | int, style_names: Sequence[str]) -> int:
    """A style given by name or index -> its index; ValueError lists the known styles."""
    if isinstance(style, int) or str(style).isdigit():
        index = int(style)
        if 0 <= index < len(style_names):
            return index
    elif style in style_names:
        return list(style_names).index(style)
    raise ValueError(
        f"unknown style {style!r}; known: {', '.join(f'{i}={s}' for i, s in enumerate(style_names))}"
    )


@torch.no_grad()
def interpolate_styles(
    generator: StyleUnet,
    source: Image.Image | str | Path,
    style_a: int,
    style_b: int,
    steps: int = 8,
    in_channels: int = 1,
) -> list[Image.Image]:
    """Render ``source`` with style vectors blended from ``style_a`` to ``style_b``.

    Args:
        generator: A trained multi-style generator (used in eval mode).
        source: The source image or its path.
        style_a: First style index.
        style_b: Last style index.
        steps: Number of images, including both ends (>= 2).
        in_channels: Channels the generator expects.

    Returns:
        ``steps`` images, from pure ``style_a`` to pure ``style_b``.
    """
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    img = (
        load_image(source, in_channels)
        if isinstance(source, (str, Path))
        else source.convert("L" if in_channels == 1 else "RGB")
    )
    generator.eval()
    device = next(generator.parameters()).device
    x = to_tensor(img)[None].to(device).expand(steps, -1, -1, -1)
    ends = generator.style_vectors(torch.tensor([style_a, style_b], device=device))
    t = torch.linspace(0.0, 1.0, steps, device=device)[:, None]
    styles = (1 - t) * ends[0] + t * ends[1]
    return [to_pil(y) for y in generator.forward_with_style(x, styles).cpu()]


def save_strip(images: Sequence[Image.Image], path: str | Path, gap: int = 2) -> Path:
    """Save the images side by side in one PNG."""
    width = sum(im.size[0] for im in images) + gap * (len(images) - 1)
    height = max(im.size[1] for im in images)
    strip = Image.new("RGB", (width, height), (128, 128, 128))
    x = 0
    for im in images:
        strip.paste(im.convert("RGB"), (x, 0))
        x += im.size[0] + gap
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    strip.save(path)
    return path
