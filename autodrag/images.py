"""Image conversions and atomic image writes shared by the commands."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from autodrag.atomic import write_atomic

__all__ = ["save_gif", "save_mp4", "save_png", "to_uint8"]


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """Generator output [C, H, W] (or [1, C, H, W]) in [-1, 1] -> uint8 [H, W, C] (C = 1 or 3)."""
    if image.ndim == 4:
        if image.shape[0] != 1:
            raise ValueError(f"expected one image, got a batch of {image.shape[0]}")
        image = image[0]
    array = (image.detach().to(torch.float32) * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    return array.permute(1, 2, 0).cpu().numpy()


def save_png(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write a uint8 HxW or HxWxC array as PNG atomically (`atomic.write_atomic`: never a half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    return write_atomic(path, lambda tmp: Image.fromarray(array).save(tmp, format="PNG"))


def save_gif(
    path: str | os.PathLike,
    frames: Sequence[np.ndarray | Image.Image],
    frame_ms: int = 80,
    hold_last_ms: int | None = 800,
    bounce: bool = False,
) -> Path:
    """Write frames (uint8 [H, W, 3] arrays or PIL images, all one size) as a looping GIF, atomically.

    Args:
        hold_last_ms: how long the last frame stays (None = frame_ms).
        bounce: play forwards then backwards (for interpolation strips).
    """
    if not frames:
        raise ValueError("save_gif needs at least one frame")
    images = [
        f.convert("RGB") if isinstance(f, Image.Image) else Image.fromarray(np.asarray(f, dtype=np.uint8))
        for f in frames
    ]
    if bounce and len(images) > 2:
        images += images[-2:0:-1]
    durations = [frame_ms] * (len(images) - 1) + [frame_ms if hold_last_ms is None else hold_last_ms]
    return write_atomic(
        path,
        lambda tmp: images[0].save(
            tmp, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0
        ),
    )


def save_mp4(path: str | os.PathLike, frames: Sequence[np.ndarray | Image.Image], fps: float = 12.5) -> Path:
    """Write frames (uint8 [H, W, 3] arrays or PIL images, all one size) as an H.264 MP4, atomically.

    Uses the ffmpeg binary shipped in the imageio-ffmpeg wheel. Odd sizes are padded by one edge pixel
    (yuv420p needs even dimensions).
    """
    if not frames:
        raise ValueError("save_mp4 needs at least one frame")
    if not fps > 0:
        raise ValueError(f"save_mp4: fps must be > 0, got {fps}")
    import imageio_ffmpeg

    arrays = [
        np.asarray(f.convert("RGB") if isinstance(f, Image.Image) else f, dtype=np.uint8) for f in frames
    ]
    height, width = arrays[0].shape[:2]
    if any(a.shape != arrays[0].shape or a.ndim != 3 or a.shape[2] != 3 for a in arrays):
        raise ValueError("save_mp4: frames must all be [H, W, 3] of one size")
    pad = ((0, height % 2), (0, width % 2), (0, 0))

    def write(tmp: Path) -> None:
        writer = imageio_ffmpeg.write_frames(
            str(tmp),
            (width + width % 2, height + height % 2),
            fps=fps,
            codec="libx264",
            pix_fmt_out="yuv420p",
            macro_block_size=1,
            output_params=["-f", "mp4", "-movflags", "+faststart"],
        )
        writer.send(None)  # start ffmpeg
        try:
            for array in arrays:
                writer.send(np.ascontiguousarray(np.pad(array, pad, mode="edge")))
        finally:
            writer.close()

    return write_atomic(path, write)
