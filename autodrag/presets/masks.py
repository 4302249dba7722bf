"""Automatic masks: the movable region of an edit (1 = may change, 0 = keep)."""

from __future__ import annotations

import numpy as np

__all__ = ["disc_mask"]


def disc_mask(shape: tuple[int, int], centres_xy: np.ndarray, radius_px: float) -> np.ndarray:
    """Union of discs of `radius_px` around (x, y) centres; bool [H, W], pixel centres at integers."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w]
    mask = np.zeros((h, w), dtype=bool)
    r2 = radius_px**2
    for x, y in np.asarray(centres_xy, dtype=np.float64).reshape(-1, 2):
        x0, x1 = max(0, int(x - radius_px)), min(w, int(x + radius_px) + 2)
        y0, y1 = max(0, int(y - radius_px)), min(h, int(y + radius_px) + 2)
        if x0 >= x1 or y0 >= y1:
            continue
        mask[y0:y1, x0:x1] |= (xs[y0:y1, x0:x1] - x) ** 2 + (ys[y0:y1, x0:x1] - y) ** 2 <= r2
    return mask
