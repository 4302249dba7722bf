"""Draw a drag on an image: handles (red), targets (blue), arrows between them, the fixed region dimmed."""

from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image, ImageDraw

from autodrag.drag.coords import rowcol_to_xy
from autodrag.pixels import rescale_points

__all__ = ["ARROW_COLOR", "HANDLE_COLOR", "TARGET_COLOR", "draw_drag"]

HANDLE_COLOR = (230, 30, 30)
TARGET_COLOR = (40, 90, 240)
ARROW_COLOR = (255, 255, 255)


def _xy(points: np.ndarray | torch.Tensor, scale: float) -> list[tuple[float, float]]:
    """Image (row, col) points -> PIL (x, y) canvas positions (pixel centres stay centres after scaling)."""
    xy = rowcol_to_xy(torch.as_tensor(np.asarray(points, dtype=np.float32)).reshape(-1, 2))
    return [(x, y) for x, y in rescale_points(np.array(xy.tolist()), scale).tolist()]


def _arrow(
    draw: ImageDraw.ImageDraw,
    start: tuple[float, float],
    end: tuple[float, float],
    width: int,
    head: float,
    gap: float,
) -> None:
    """A line with a filled head whose tip stops `gap` short of `end` (the target marker's edge)."""
    angle = math.atan2(end[1] - start[1], end[0] - start[0])
    length = math.hypot(end[0] - start[0], end[1] - start[1]) - gap
    if length <= 0:
        return
    end = (start[0] + length * math.cos(angle), start[1] + length * math.sin(angle))
    draw.line([start, end], fill=ARROW_COLOR, width=width)
    head = min(head, 0.6 * length)
    if head < 1:
        return
    left = (end[0] - head * math.cos(angle - 0.5), end[1] - head * math.sin(angle - 0.5))
    right = (end[0] - head * math.cos(angle + 0.5), end[1] - head * math.sin(angle + 0.5))
    draw.polygon([end, left, right], fill=ARROW_COLOR)


def draw_drag(
    image: np.ndarray,
    handles: np.ndarray | torch.Tensor,
    targets: np.ndarray | torch.Tensor,
    mask: np.ndarray | None = None,
    scale: int = 1,
) -> np.ndarray:
    """A copy of `image` with the drag drawn on it (the input is not modified).

    Args:
        image: uint8 image [H, W, 3] or [H, W].
        handles: [N, 2] (row, col) handle points, drawn as red dots.
        targets: [N, 2] (row, col) target points, drawn as blue dots, with a white arrow from each handle.
        mask: optional [H, W] movable mask (1 = movable); the fixed region is dimmed.
        scale: integer upscaling (nearest) before drawing, so marks stay legible on small images.
    Returns:
        uint8 [H * scale, W * scale, 3].
    """
    rgb = np.asarray(image)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[:, :, None], 3, axis=2)
    rgb = rgb[:, :, :3].astype(np.float32)
    if mask is not None:
        fixed = np.asarray(mask, dtype=np.float32)[:, :, None] == 0
        rgb = np.where(fixed, rgb * 0.45, rgb)
    canvas = Image.fromarray(rgb.clip(0, 255).astype(np.uint8))
    if scale != 1:
        canvas = canvas.resize((canvas.width * scale, canvas.height * scale), Image.NEAREST)
    draw = ImageDraw.Draw(canvas)
    size = max(canvas.width, canvas.height)
    radius, width = max(3.0, size / 70), max(1, round(size / 250))
    handle_xy, target_xy = _xy(handles, scale), _xy(targets, scale)
    for start, end in zip(handle_xy, target_xy):
        _arrow(draw, start, end, width, head=2.5 * radius, gap=radius)
    for color, points in ((TARGET_COLOR, target_xy), (HANDLE_COLOR, handle_xy)):
        for x, y in points:
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=color, outline=ARROW_COLOR)
    return np.asarray(canvas)
