"""Image conversions and atomic image writes shared by the commands."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from autodrag.atomic import write_atomic

__all__ = ["to_uint8", "save_png", "save_gif"]


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """Generator output [C, H, W] (or [1, C, H, W]) in [-1, 1] -> uint8 [H, W, C] (C = 1 or 3)."""
    if image.ndim == 4:
        if image.shape[0] != 1:
            raise ValueError(f"expected one image, got a batch of {image.shape[0]}")
        image = image[0]
    array = (image.detach().to(torch.float32) * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    return array.permute(1, 2, 0).cpu().numpy()


def save_png(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write a uint8 HxW or HxWxC array as PNG via a temp file + rename (never a half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    tmp = path.with_name(f".{path.name}.tmp")
    Image.fromarray(array).save(tmp, format="PNG")
    os.replace(tmp, path)
    return path


def save_gif(path: str | os.PathLike, frames: Sequence[np.ndarray | Image.Image], frame_ms: int = 80,
             hold_last_ms: int | None = 800, bounce: bool = False) -> Path:
    """Write frames (uint8 [H, W, 3] arrays or PIL images, all one size) as a looping GIF, atomically.

    Args:
        hold_last_ms: how long the last frame stays (None = frame_ms).
        bounce: play forwards then backwards (for interpolation strips).
    """
    if not frames:
        raise ValueError("save_gif needs at least one frame")
    images = [f.convert("RGB") if isinstance(f, Image.Image) else Image.fromarray(np.asarray(f, dtype=np.uint8))
              for f in frames]
    if bounce and len(images) > 2:
        images += images[-2:0:-1]
    durations = [frame_ms] * (len(images) - 1) + [frame_ms if hold_last_ms is None else hold_last_ms]
    return write_atomic(path, lambda tmp: images[0].save(tmp, format="GIF", save_all=True,
                                                         append_images=images[1:], duration=durations, loop=0))
