"""Expression presets as data: one declared `Preset` each, registered in `PRESETS`.

Point numbers are the 1-based iBUG-68 indices people use when talking about landmarks; the
`rules` functions get 0-based rows. A new preset is a few lines: a name, a label, the rule,
the points whose neighbourhood may move (the automatic mask), and the measure it changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from autodrag.presets import rules
from autodrag.presets.rules import Moves

__all__ = ["Preset", "PRESETS", "STRENGTH_RANGE", "get_preset", "parse_presets", "rows"]

STRENGTH_RANGE = (0.0, 1.5)


def rows(*points: int) -> list[int]:
    """1-based iBUG point numbers -> 0-based landmark rows."""
    return [p - 1 for p in points]


def _pairs(*pairs: tuple[int, int]) -> list[tuple[int, int]]:
    return [(a - 1, b - 1) for a, b in pairs]


@dataclass(frozen=True)
class Preset:
    """One expression edit."""

    name: str  # identifier used by the CLI (--preset) and the API
    label: str  # button text in the GUI
    rule: Callable[[np.ndarray, float], Moves]  # (landmarks (x, y) [68, 2], strength) -> handles, targets
    mask_points: tuple[int, ...]  # 1-based points whose neighbourhood is movable
    mask_radius: float  # movable disc radius around those points (and the handles/targets), x inter-ocular
    measure: str  # what the preset changes (a key of the measures report)
    description: str  # one line for help texts
    anchor_points: tuple[int, ...] = ()  # 1-based points that must stay where they are (drag anchors)
    guide_weight: float = 0.0  # landmark guide (`edit.landmark_guide`) weight, with a differentiable detector
    tuning: tuple[tuple[str, float], ...] = ()  # DragConfig changes over `edit.PRESET_TUNING`, as (field, value)


_EYE_PAIRS = _pairs((38, 42), (39, 41), (44, 48), (45, 47))
_INNER_LIP_PAIRS = _pairs((62, 68), (63, 67), (64, 66))
_JAW_PAIRS = _pairs((2, 16), (3, 15), (4, 14), (5, 13))
EYES = tuple(range(37, 49))
LIPS = tuple(range(49, 69))
JAW = tuple(range(2, 17))
BROWS = tuple(range(18, 28))
EYE_CORNERS = (37, 40, 43, 46)
# Some edits are new content rather than a motion of what is there: opening or shutting an eye shows or
# hides the eyeball; a smile bends the lips. Motion supervision alone stalls on them (lids a pixel
# apart, shut eyes left shut, the whole mouth rising with its corners), so these presets also pull the
# detector's own landmarks to the targets and hold their anchors (`edit.landmark_guide`, differentiable
# detectors only). The guide moves the points fast, so they take a bigger step; the whole face answers a
# change in W+, so they also hold the RGB image outside the mask harder (widen_eyes leakage 2.3 ->
# 1.1/255). Figures: docs/BENCHMARKS.md.
GUIDE_WEIGHT = 0.3
GUIDED_TUNING = (("lr", 1e-2), ("image_mask_weight", 16.0))
GUIDED = {"guide_weight": GUIDE_WEIGHT, "tuning": GUIDED_TUNING}


def _open_mouth(lm: np.ndarray, s: float) -> Moves:
    upper = rules.drag_with_falloff(lm, center=62, neighbours=[61, 63], anchor_a=60, anchor_b=64,
                                    displacement=s * (lm[51] - lm[62]))  # 63 -> 52, 62/64 in proportion
    lower = rules.drag_with_falloff(lm, center=66, neighbours=[67, 65], anchor_a=60, anchor_b=64,
                                    displacement=s * (lm[57] - lm[66]))  # 67 -> 58, 68/66 in proportion
    return Moves.concat([upper, lower])


def _widen_eyes(lm: np.ndarray, s: float) -> Moves:
    # Lids move apart by strength x the opening, at least strength x 15% of the eye's width (37-40):
    # a closed or nearly closed eye opens instead of staying shut.
    eye_width = float(np.linalg.norm(lm[39] - lm[36]) + np.linalg.norm(lm[45] - lm[42])) / 2
    return rules.move_apart(lm, _EYE_PAIRS, s, min_gap_px=0.15 * eye_width)


def _slim_face(lm: np.ndarray, s: float) -> Moves:
    # Each point of a pair moves 4% of the jaw width, so every pair closes by strength x 8%.
    return rules.pairs_toward_each_other(lm, _JAW_PAIRS, distance_px=s * 0.04 * rules.jaw_width_px(lm))


def _smile(lm: np.ndarray, s: float) -> Moves:
    right, up = rules.face_axes(lm)
    width = float(np.linalg.norm(lm[54] - lm[48]))
    corners = lm[[48, 54]]
    out = np.stack([-right, right])
    return Moves(corners, corners + s * width * (0.15 * up + 0.08 * out), np.array([48, 54]))


def _raise_brows(lm: np.ndarray, s: float) -> Moves:
    _, up = rules.face_axes(lm)
    iod = float(np.linalg.norm(lm[45] - lm[36]))
    brows = lm[rows(*BROWS)]
    return Moves(brows, brows + s * 0.12 * iod * up, np.array(rows(*BROWS)))


PRESETS: dict[str, Preset] = {p.name: p for p in [
    Preset("close_eyes", "Close eyes", lambda lm, s: rules.meet_at_midpoints(lm, _EYE_PAIRS, s),
           EYES, 0.16, "eye_aspect_ratio", "upper lids 38, 39 (44, 45) meet lower lids 42, 41 (48, 47) midway",
           anchor_points=EYE_CORNERS, **GUIDED),
    Preset("widen_eyes", "Widen eyes", _widen_eyes, EYES, 0.2, "eye_aspect_ratio",
           "lids move apart along 38->42 (...) by strength x the opening (a closed eye opens)",
           **GUIDED),
    Preset("close_mouth", "Close mouth", lambda lm, s: rules.meet_at_midpoints(lm, _INNER_LIP_PAIRS, s),
           LIPS + (8, 9, 10), 0.2, "inner_mouth_gap", "inner lips 62, 63, 64 meet 68, 67, 66 midway"),
    Preset("open_mouth", "Open mouth", _open_mouth,
           LIPS + (7, 8, 9, 10, 11), 0.22, "inner_mouth_gap", "63 -> 52 and 67 -> 58, neighbours in proportion"),
    Preset("slim_face", "Slim face", _slim_face,
           JAW, 0.18, "jaw_width", "jaw pairs 2-16 ... 5-13 close by strength x 8% of the jaw width",
           anchor_points=(37, 46, 31, 34)),
    Preset("smile", "Smile", _smile, LIPS, 0.22, "mouth_corner_lift", "mouth corners 49 and 55 move up and out",
           anchor_points=(34, 52, 58, 63, 67), **GUIDED),  # the lips' middle stays: the corners rise, not the mouth
    # The eyes are anchored: the brows rise, not the eyes with them. No guide: the bundled generator draws
    # brows too faintly for it, and guided it raised the hairline and shaded the forehead instead.
    Preset("raise_brows", "Raise brows", _raise_brows, BROWS, 0.3, "brow_height", "brows 18-27 move up",
           anchor_points=EYE_CORNERS + (38, 39, 44, 45)),
]}


def get_preset(name: str) -> Preset:
    """The preset called `name`; a KeyError lists the known names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}") from None


def parse_presets(spec: str | list[str]) -> list[Preset]:
    """'close_eyes,smile' (or a list of names) -> presets, in order, without duplicates."""
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    names = [n.strip() for n in names if n.strip()]
    if not names:
        raise KeyError(f"no preset given; known: {', '.join(PRESETS)}")
    return [get_preset(n) for n in dict.fromkeys(names)]
