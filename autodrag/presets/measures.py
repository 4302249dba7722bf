"""Face measures a preset is judged by, and what counts as success for each preset."""

from __future__ import annotations

import numpy as np

from autodrag.landmarks import measures as lmm

__all__ = ["face_measures", "preset_success", "SUCCESS_RULES"]


def _d(lm: np.ndarray, a: int, b: int) -> float:
    """Pixels between 1-based points a and b."""
    return float(np.linalg.norm(lm[a - 1] - lm[b - 1]))


def face_measures(lm: np.ndarray) -> dict[str, float]:
    """Scale-free measures of a face (lengths over the inter-ocular distance unless stated)."""
    lm = np.asarray(lm, dtype=np.float64)
    inner_gap_px = (_d(lm, 62, 68) + _d(lm, 63, 67) + _d(lm, 64, 66)) / 3
    iod = float(lmm.interocular_distance(lm))
    brow = lm[17:27, 1].mean()
    eye_top = lm[[37, 38, 43, 44], 1].mean()
    return {
        "ear_left": float(lmm.eye_aspect_ratio(lm, "left")),
        "ear_right": float(lmm.eye_aspect_ratio(lm, "right")),
        "inner_mouth_gap": float(lmm.inner_mouth_gap(lm)),
        "inner_gap_px": inner_gap_px,
        "outer_lip_height_px": _d(lm, 52, 58),
        "mouth_open_ratio": inner_gap_px / max(_d(lm, 52, 58), 1e-6),  # inner gap / outer lip height
        "mouth_closed_ratio": inner_gap_px / max(_d(lm, 49, 55), 1e-6),  # inner gap / mouth width
        "mouth_width": float(lmm.mouth_width(lm)),
        "mouth_corner_lift": float((lm[[61, 62, 63, 65, 66, 67], 1].mean() - lm[[48, 54], 1].mean()) / iod),
        "jaw_width": float(lmm.jaw_width(lm)),
        "brow_height": float((eye_top - brow) / iod),
    }


# preset -> (description, test(before, after)) on face_measures dicts
SUCCESS_RULES = {
    "close_eyes": ("eye aspect ratio < 0.08 on both eyes",
                   lambda b, a: a["ear_left"] < 0.08 and a["ear_right"] < 0.08),
    "widen_eyes": ("eye aspect ratio +30% on both eyes",
                   lambda b, a: a["ear_left"] >= 1.3 * b["ear_left"] and a["ear_right"] >= 1.3 * b["ear_right"]),
    # The preset drags 63 -> 52 and 67 -> 58, so the gap it aims for is the 52-58 distance before the edit
    # (the outer lips move outward as the mouth opens, so the after-edit distance is no target).
    "open_mouth": ("inner gap >= 60% of the 52-58 distance before the edit",
                   lambda b, a: a["inner_gap_px"] >= 0.6 * b["outer_lip_height_px"]),
    "close_mouth": ("inner gap <= 10% of the mouth width", lambda b, a: a["mouth_closed_ratio"] <= 0.1),
    "slim_face": ("jaw width -5%", lambda b, a: a["jaw_width"] <= 0.95 * b["jaw_width"]),
    "smile": ("mouth corners rise by >= 3% of the inter-ocular distance",
              lambda b, a: a["mouth_corner_lift"] >= b["mouth_corner_lift"] + 0.03),
    "raise_brows": ("brows rise by >= 10%", lambda b, a: a["brow_height"] >= 1.1 * b["brow_height"]),
}


def preset_success(presets: list[str], before: dict, after: dict, md_px: float, image_width: int,
                   md_fraction: float = 0.02) -> dict[str, bool]:
    """Per preset: MD <= md_fraction x width and the preset's measure moved as required."""
    close_enough = md_px <= md_fraction * image_width
    return {name: bool(close_enough and SUCCESS_RULES[name][1](before, after)) for name in presets}
