"""Scalar face measures from 68 landmarks: eye aspect ratios, mouth gap and width, jaw width, NME.

Every function accepts [68, 2] or batched [..., 68, 2] (x, y) arrays (see `base` for the order)
and returns floats or arrays of shape [...].  Lengths are divided by the inter-ocular distance
(outer eye corners 37 and 46), so the measures do not depend on image size or face scale.
"""

from __future__ import annotations

import numpy as np

from autodrag.landmarks.base import EYE_LEFT, EYE_RIGHT, OUTER_EYE_CORNERS

__all__ = [
    "eye_aspect_ratio",
    "inner_mouth_gap",
    "interocular_distance",
    "jaw_width",
    "mouth_width",
    "nme",
]


def _dist(lm: np.ndarray, a: int, b: int) -> np.ndarray:
    """Distance between 0-based rows a and b."""
    return np.linalg.norm(lm[..., a, :] - lm[..., b, :], axis=-1)


def interocular_distance(lm: np.ndarray) -> np.ndarray:
    """Pixels between the outer eye corners (points 37 and 46)."""
    return _dist(np.asarray(lm, dtype=np.float64), *OUTER_EYE_CORNERS)


def eye_aspect_ratio(lm: np.ndarray, side: str) -> np.ndarray:
    """Soukupova-Cech EAR of one eye: (|p2-p6| + |p3-p5|) / (2 |p1-p4|); ~0 closed, ~0.3 open.

    Args:
        lm: [..., 68, 2] landmarks.
        side: "left" for the image-left eye (points 37-42), "right" for 43-48.
    """
    eye = {"left": EYE_LEFT, "right": EYE_RIGHT}.get(side)
    if eye is None:
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    p = np.asarray(lm, dtype=np.float64)[..., eye, :]
    vertical = _dist(p, 1, 5) + _dist(p, 2, 4)
    return vertical / (2.0 * _dist(p, 0, 3))


def inner_mouth_gap(lm: np.ndarray) -> np.ndarray:
    """Mean distance of the inner-lip pairs 62-68, 63-67, 64-66, over the inter-ocular distance."""
    lm = np.asarray(lm, dtype=np.float64)
    gap = (_dist(lm, 61, 67) + _dist(lm, 62, 66) + _dist(lm, 63, 65)) / 3.0
    return gap / interocular_distance(lm)


def mouth_width(lm: np.ndarray) -> np.ndarray:
    """Mouth corners 49-55 distance over the inter-ocular distance."""
    lm = np.asarray(lm, dtype=np.float64)
    return _dist(lm, 48, 54) / interocular_distance(lm)


def jaw_width(lm: np.ndarray) -> np.ndarray:
    """Lower-jaw width, points 5-13, over the inter-ocular distance (slim ~0.9 .. round ~1.3)."""
    lm = np.asarray(lm, dtype=np.float64)
    return _dist(lm, 4, 12) / interocular_distance(lm)


def nme(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Normalised mean error: mean point distance over the target's inter-ocular distance."""
    pred, target = np.asarray(pred, dtype=np.float64), np.asarray(target, dtype=np.float64)
    err = np.linalg.norm(pred - target, axis=-1).mean(axis=-1)
    return err / interocular_distance(target)
