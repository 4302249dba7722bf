"""Face measures a preset is judged by, and whether each preset of an edit succeeded."""

from __future__ import annotations

import numpy as np

from autodrag.landmarks import ibug
from autodrag.landmarks import measures as lmm
from autodrag.presets.registry import get_preset

__all__ = ["face_measures", "preset_success"]


def _d(lm: np.ndarray, a: int, b: int) -> float:
    """Pixels between rows a and b."""
    return float(np.linalg.norm(lm[a] - lm[b]))


def face_measures(lm: np.ndarray) -> dict[str, float]:
    """Scale-free measures of a face (lengths over the inter-ocular distance unless stated)."""
    lm = np.asarray(lm, dtype=np.float64)
    inner_gap_px = sum(_d(lm, a, b) for a, b in zip(ibug.INNER_UPPER, ibug.INNER_LOWER)) / 3
    lip_height_px = _d(lm, ibug.UPPER_LIP_TOP, ibug.LOWER_LIP_BOTTOM)
    iod = float(lmm.interocular_distance(lm))
    brow = lm[list(ibug.BROWS), 1].mean()
    eye_top = lm[list(ibug.LEFT_UPPER_LID + ibug.RIGHT_UPPER_LID), 1].mean()
    inner_lips = lm[list(ibug.INNER_UPPER + ibug.INNER_LOWER[::-1]), 1].mean()
    return {
        "ear_left": float(lmm.eye_aspect_ratio(lm, "left")),
        "ear_right": float(lmm.eye_aspect_ratio(lm, "right")),
        "inner_mouth_gap": float(lmm.inner_mouth_gap(lm)),
        "inner_gap_px": inner_gap_px,
        "outer_lip_height_px": lip_height_px,
        "mouth_open_ratio": inner_gap_px / max(lip_height_px, 1e-6),  # inner gap / outer lip height
        "mouth_closed_ratio": inner_gap_px
        / max(_d(lm, ibug.MOUTH_LEFT, ibug.MOUTH_RIGHT), 1e-6),  # / mouth width
        "mouth_width": float(lmm.mouth_width(lm)),
        "mouth_corner_lift": float((inner_lips - lm[[ibug.MOUTH_LEFT, ibug.MOUTH_RIGHT], 1].mean()) / iod),
        "jaw_width": float(lmm.jaw_width(lm)),
        "brow_height": float((eye_top - brow) / iod),
    }


def preset_success(
    presets: list[str], before: dict, after: dict, md_px: float, image_width: int, md_fraction: float = 0.02
) -> dict[str, bool]:
    """Per preset: MD <= md_fraction x width and the preset's `success` rule holds on the measures."""
    close_enough = md_px <= md_fraction * image_width
    return {name: bool(close_enough and get_preset(name).success(before, after)) for name in presets}
