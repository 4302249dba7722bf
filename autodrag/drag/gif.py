"""Write an animated GIF of a drag's frames atomically (temp file, then rename)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["save_gif"]


def save_gif(path: str | os.PathLike, frames: Sequence[np.ndarray], frame_ms: int = 80,
             hold_last_ms: int = 800) -> Path:
    """Save uint8 frames [H, W, 3] (all the same size) as a looping GIF; the last frame is held longer."""
    if not frames:
        raise ValueError("save_gif needs at least one frame")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [Image.fromarray(np.asarray(frame, dtype=np.uint8)) for frame in frames]
    durations = [frame_ms] * (len(images) - 1) + [hold_last_ms]
    tmp = path.with_name(f".{path.name}.tmp")
    images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0)
    os.replace(tmp, path)
    return path
