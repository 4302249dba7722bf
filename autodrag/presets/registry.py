"""Expression presets as data: one `Preset` declaration each, registered in `PRESETS`.

Points are 0-based landmark rows named in `landmarks.ibug` (iBUG point n is row n - 1). Adding a preset
is one block here: its rule (landmarks -> handles and targets), the rows whose neighbourhood may move
(the automatic mask), the rows held still, its success rule, and what it changes in the drag settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace

import numpy as np

from autodrag.drag import DragConfig, DragInputError
from autodrag.landmarks import ibug
from autodrag.landmarks.measures import interocular_distance
from autodrag.presets import rules
from autodrag.presets.rules import Moves

__all__ = [
    "DEFAULT_PRESETS",
    "PRESETS",
    "PRESET_TUNING",
    "STRENGTH_RANGE",
    "Preset",
    "PresetError",
    "get_preset",
    "parse_presets",
]

STRENGTH_RANGE = (0.0, 1.5)

Measures = dict[str, float]  # `presets.measures.face_measures` of a face


class PresetError(ValueError):
    """A preset cannot be applied: unknown name, strength out of range, unusable landmarks, bad declaration."""


# What every preset drag changes in the base `DragConfig`, tuned with scripts/bench_presets.py
# (docs/BENCHMARKS.md): stop after 40 steps without progress (keeping the best latent), a 1.5 px motion
# disc at 128 px (the paper's 3 px at 512 is a single pixel there, too weak to pull two lids the last
# pixel together), a faster step, and the mask also held on the RGB image (the feature term alone lets
# lower blocks' RGB skips leak changes outside the mask). The 0.75 px arrival floor is the one these were
# tuned with (the drag default became 0.5 px with sub-pixel feature tracking; presets track landmarks).
PRESET_TUNING = {
    "patience": 40,
    "r1": 6.0,
    "lr": 4e-3,
    "image_mask_weight": 2.0,
    "min_stop_distance": 0.75,
    "draggan_map": True,  # the presets were tuned and measured (bench_presets.py) on DragGAN's map
}
_DRAG_FIELDS = frozenset(f.name for f in fields(DragConfig))


def _check_tuning(where: str, tuning: dict[str, float]) -> None:
    unknown = sorted(set(tuning) - _DRAG_FIELDS)
    if unknown:
        raise PresetError(f"{where}: {', '.join(unknown)} is no DragConfig field")
    try:
        replace(DragConfig(), **tuning)
    except DragInputError as exc:
        raise PresetError(f"{where}: {exc}") from None


_check_tuning("PRESET_TUNING", PRESET_TUNING)


@dataclass(frozen=True, kw_only=True)
class Preset:
    """One expression edit. Rows are 0-based (`landmarks.ibug`)."""

    name: str  # identifier used by the CLI (--preset) and the API
    label: str  # button text in the GUI
    rule: Callable[[np.ndarray, float], Moves]  # (landmarks (x, y) [68, 2], strength) -> handles, targets
    mask_rows: tuple[int, ...]  # rows whose neighbourhood is movable (the automatic mask)
    mask_radius: float  # movable disc radius around those rows (and the handles/targets), x inter-ocular
    success_text: str  # what success means, for reports
    success: Callable[[Measures, Measures], bool]  # (measures before, after) -> the preset did its job
    anchor_rows: tuple[int, ...] = ()  # rows that must stay where they are (drag anchors)
    guide_weight: float = (
        0.0  # landmark guide (`wiring.landmark_guide`) weight, with a differentiable detector
    )
    tuning: tuple[tuple[str, float], ...] = ()  # DragConfig changes over `PRESET_TUNING`, as (field, value)
    experimental: bool = False  # left out of `DEFAULT_PRESETS` (the demo); still selectable by name

    @property
    def button_label(self) -> str:
        """What the GUI and the web page show: the label, marked when the preset is experimental."""
        return f"{self.label} (experimental)" if self.experimental else self.label

    def __post_init__(self) -> None:
        bad = [r for r in self.mask_rows + self.anchor_rows if not 0 <= r < ibug.NUM_LANDMARKS]
        if bad:
            raise PresetError(f"preset {self.name!r}: rows {bad} are outside 0..{ibug.NUM_LANDMARKS - 1}")
        _check_tuning(f"preset {self.name!r} tuning", dict(self.tuning))


def _lid_pairs() -> list[tuple[int, int]]:
    return list(zip(ibug.LEFT_UPPER_LID, ibug.LEFT_LOWER_LID)) + list(
        zip(ibug.RIGHT_UPPER_LID, ibug.RIGHT_LOWER_LID)
    )


_EYE_PAIRS = _lid_pairs()  # upper lid above lower lid: [38-42, 39-41, 44-48, 45-47]
_INNER_LIP_PAIRS = list(zip(ibug.INNER_UPPER, ibug.INNER_LOWER))  # [62-68, 63-67, 64-66]
_JAW_PAIRS = [(ibug.JAW[i], ibug.JAW[-1 - i]) for i in range(1, 5)]  # [2-16, 3-15, 4-14, 5-13]
_JAW_INNER = ibug.JAW[1:-1]  # [2-16]: the jaw without the ears
_AROUND_CHIN = ibug.JAW[ibug.CHIN - 1 : ibug.CHIN + 2]  # [8-10]
_BELOW_MOUTH = ibug.JAW[ibug.CHIN - 2 : ibug.CHIN + 3]  # [7-11]
# Some edits are new content rather than a motion of what is there: opening or shutting an eye shows or
# hides the eyeball; a smile bends the lips. Motion supervision alone stalls on them (lids a pixel
# apart, shut eyes left shut, the whole mouth rising with its corners), so these presets also pull the
# detector's own landmarks to the targets and hold their anchors (`wiring.landmark_guide`, differentiable
# detectors only). The guide moves the points fast, so they take a bigger step; the whole face answers a
# change in W+, so they also hold the RGB image outside the mask harder (widen_eyes leakage 2.3 ->
# 1.1/255). Figures: docs/BENCHMARKS.md.
GUIDED = {"guide_weight": 0.3, "tuning": (("lr", 1e-2), ("image_mask_weight", 16.0))}


def _close_eyes(lm: np.ndarray, s: float) -> Moves:
    # Upper lids [38, 39] ([44, 45]) meet the lower lids [42, 41] ([48, 47]) midway.
    return rules.meet_at_midpoints(lm, _EYE_PAIRS, s)


def _widen_eyes(lm: np.ndarray, s: float) -> Moves:
    # Lids move apart by strength x the opening, at least strength x 15% of the eye's width (corner to
    # corner): a closed or nearly closed eye opens instead of staying shut.
    eye_width = (
        float(
            np.linalg.norm(lm[ibug.LEFT_EYE_INNER] - lm[ibug.LEFT_EYE_OUTER])
            + np.linalg.norm(lm[ibug.RIGHT_EYE_OUTER] - lm[ibug.RIGHT_EYE_INNER])
        )
        / 2
    )
    return rules.move_apart(lm, _EYE_PAIRS, s, min_gap_px=0.15 * eye_width)


def _close_mouth(lm: np.ndarray, s: float) -> Moves:
    # Inner lips [62, 63, 64] meet [68, 67, 66] midway.
    return rules.meet_at_midpoints(lm, _INNER_LIP_PAIRS, s)


def _open_mouth(lm: np.ndarray, s: float) -> Moves:
    # The inner lips' middles go to the outer lips' ([63] -> [52], [67] -> [58]), neighbours in proportion.
    (u0, u1, u2), (d0, d1, d2) = ibug.INNER_UPPER, ibug.INNER_LOWER
    corners = {"anchor_a": ibug.MOUTH_INNER_LEFT, "anchor_b": ibug.MOUTH_INNER_RIGHT}
    upper = rules.drag_with_falloff(
        lm, center=u1, neighbours=[u0, u2], **corners, displacement=s * (lm[ibug.UPPER_LIP_TOP] - lm[u1])
    )
    lower = rules.drag_with_falloff(
        lm, center=d1, neighbours=[d0, d2], **corners, displacement=s * (lm[ibug.LOWER_LIP_BOTTOM] - lm[d1])
    )
    return Moves.concat([upper, lower])


def _slim_face(lm: np.ndarray, s: float) -> Moves:
    # Each point of a jaw pair moves 4% of the jaw width, so every pair closes by strength x 8%.
    return rules.pairs_toward_each_other(lm, _JAW_PAIRS, distance_px=s * 0.04 * rules.jaw_width_px(lm))


def _smile(lm: np.ndarray, s: float) -> Moves:
    # The mouth corners [49] and [55] move up and out.
    right, up = rules.face_axes(lm)
    corner_rows = [ibug.MOUTH_LEFT, ibug.MOUTH_RIGHT]
    width = float(np.linalg.norm(lm[ibug.MOUTH_RIGHT] - lm[ibug.MOUTH_LEFT]))
    corners = lm[corner_rows]
    out = np.stack([-right, right])
    return Moves(corners, corners + s * width * (0.15 * up + 0.08 * out), np.array(corner_rows))


def _raise_brows(lm: np.ndarray, s: float) -> Moves:
    # The brows [18-27] move up by strength x 12% of the inter-ocular distance.
    _, up = rules.face_axes(lm)
    brows = lm[list(ibug.BROWS)]
    return Moves(brows, brows + s * 0.12 * float(interocular_distance(lm)) * up, np.array(ibug.BROWS))


def _both_eyes(test: Callable[[str], bool]) -> bool:
    return test("ear_left") and test("ear_right")


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(
            name="close_eyes",
            label="Close eyes",
            rule=_close_eyes,
            mask_rows=ibug.EYES,
            mask_radius=0.16,
            success_text="eye aspect ratio < 0.08 on both eyes",
            success=lambda b, a: _both_eyes(lambda k: a[k] < 0.08),
            anchor_rows=ibug.EYE_CORNERS,
            tuning=GUIDED["tuning"],
            # Twice the base guide: its misses were lids under a pixel apart (EAR 0.084-0.104), on
            # generated faces and inverted photos alike; 0.6 closed them (docs/BENCHMARKS.md, history 5).
            guide_weight=0.6,
        ),
        Preset(
            name="widen_eyes",
            label="Widen eyes",
            rule=_widen_eyes,
            mask_rows=ibug.EYES,
            mask_radius=0.2,
            success_text="eye aspect ratio +30% on both eyes",
            success=lambda b, a: _both_eyes(lambda k: a[k] >= 1.3 * b[k]),
            **GUIDED,
        ),
        Preset(
            name="close_mouth",
            label="Close mouth",
            rule=_close_mouth,
            mask_rows=ibug.LIPS + _AROUND_CHIN,
            mask_radius=0.2,
            success_text="inner gap <= 10% of the mouth width",
            success=lambda b, a: a["mouth_closed_ratio"] <= 0.1,
        ),
        # The preset drags [63] -> [52] and [67] -> [58], so the gap it aims for is the 52-58 distance before the
        # edit (the outer lips move outward as the mouth opens, so the after-edit distance is no target).
        Preset(
            name="open_mouth",
            label="Open mouth",
            rule=_open_mouth,
            mask_rows=ibug.LIPS + _BELOW_MOUTH,
            mask_radius=0.22,
            success_text="inner gap >= 60% of the 52-58 distance before the edit",
            success=lambda b, a: a["inner_gap_px"] >= 0.6 * b["outer_lip_height_px"],
            # A shut mouth opens as new content (the dark gap), like a shut eye: guided. Its RGB outside the mask
            # is held 3x harder than the eyes' (the guided jaw moved with the lips: leakage 0.72 -> 0.45/255).
            guide_weight=GUIDED["guide_weight"],
            tuning=(("lr", 1e-2), ("image_mask_weight", 48.0)),
        ),
        Preset(
            name="slim_face",
            label="Slim face",
            rule=_slim_face,
            mask_rows=_JAW_INNER,
            mask_radius=0.18,
            success_text="jaw width -5%",
            success=lambda b, a: a["jaw_width"] <= 0.95 * b["jaw_width"],
            anchor_rows=ibug.OUTER_EYE_CORNERS + (ibug.NOSE_TIP, ibug.SUBNASALE),
        ),
        # The lips' middle stays: the corners rise, not the mouth.
        Preset(
            name="smile",
            label="Smile",
            rule=_smile,
            mask_rows=ibug.LIPS,
            mask_radius=0.22,
            success_text="mouth corners rise by >= 3% of the inter-ocular distance",
            success=lambda b, a: a["mouth_corner_lift"] >= b["mouth_corner_lift"] + 0.03,
            anchor_rows=(
                ibug.SUBNASALE,
                ibug.UPPER_LIP_TOP,
                ibug.LOWER_LIP_BOTTOM,
                ibug.INNER_UPPER[1],
                ibug.INNER_LOWER[1],
            ),
            tuning=GUIDED["tuning"],
            guide_weight=0.8,  # the corners stalled ~2.5 px short on inverted photos at 0.3 (history 5)
        ),
        # The eyes are anchored: the brows rise, not the eyes with them. No guide: the bundled generator draws
        # brows too faintly for it, and guided it raised the hairline and shaded the forehead instead.
        Preset(
            name="raise_brows",
            label="Raise brows",
            rule=_raise_brows,
            mask_rows=ibug.BROWS,
            mask_radius=0.3,
            success_text="brows rise by >= 10%",
            success=lambda b, a: a["brow_height"] >= 1.1 * b["brow_height"],
            anchor_rows=ibug.EYE_CORNERS + ibug.LEFT_UPPER_LID + ibug.RIGHT_UPPER_LID,
            experimental=True,
        ),
    ]
}
# What the demo runs: every preset that works on the bundled model (raise_brows succeeds on 0/20 seeds there,
# docs/BENCHMARKS.md, so it is experimental: `--preset raise_brows` still runs it).
DEFAULT_PRESETS: list[str] = [name for name, preset in PRESETS.items() if not preset.experimental]


def get_preset(name: str) -> Preset:
    """The preset called `name`; a PresetError lists the known names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise PresetError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}") from None


def parse_presets(spec: str | list[str]) -> list[Preset]:
    """'close_eyes,smile' (or a list of names) -> presets, in order, without duplicates (PresetError if none)."""
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    names = [n.strip() for n in names if n.strip()]
    if not names:
        raise PresetError(f"no preset given; known: {', '.join(PRESETS)}")
    return [get_preset(n) for n in dict.fromkeys(names)]
