"""The one pixel-centre rescale: points whose pixel centres sit at integers, moved to another image size.

Pixel `i` covers `[i - 0.5, i + 0.5]`, so an image of size `n` spans `[-0.5, n - 0.5]`. Scaling it to
size `m` maps that span onto `[-0.5, m - 0.5]`::

    p' = (p + 0.5) * (m / n) - 0.5

The same formula serves rows and columns, (x, y) and (row, col), numbers, numpy arrays and tensors; it
keeps the dtype and the order of operations of its input, so routing a hand-written copy through it
changes no bit. (The drag engine's feature windows, which add an offset, live in `autodrag.drag.coords`.)
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

__all__ = ["rescale_points", "size_ratio"]

P = TypeVar("P")


def rescale_points(points: P, scale) -> P:
    """`(points + 0.5) * scale - 0.5`: points of an image to the same points of one `scale` times as large.

    Args:
        points: a number, or an array/tensor of coordinates ([..., 2] or any shape).
        scale: new size / old size; a number, or per-axis factors broadcast over the last axis
            (e.g. `size_ratio(...)` for (x, y) points).
    Returns:
        The rescaled points, same type (and, for arrays and tensors, the dtype numpy/torch promote to).
    """
    return (points + 0.5) * scale - 0.5


def size_ratio(from_size: tuple[int, int], to_size: tuple[int, int]) -> np.ndarray:
    """Per-axis `to / from` of two `(width, height)` sizes as float32 `[2]`: the `scale` of (x, y) points."""
    (w0, h0), (w1, h1) = from_size, to_size
    if min(w0, h0, w1, h1) <= 0:
        raise ValueError(f"image sizes must be positive, got {from_size} -> {to_size}")
    return np.array([w1 / w0, h1 / h0], dtype=np.float32)
