"""From landmarks to an edit plan: drag handles and targets in (row, col), and the movable mask."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from autodrag.drag.coords import xy_to_rowcol
from autodrag.landmarks.measures import interocular_distance
from autodrag.presets.masks import disc_mask
from autodrag.presets.registry import STRENGTH_RANGE, Preset, PresetError, parse_presets
from autodrag.presets.rules import Moves

__all__ = ["EditPlan", "PresetError", "plan_edit"]


@dataclass
class EditPlan:
    """What a preset edit asks of the drag engine."""

    presets: list[str]  # preset names, in order
    strength: float
    landmarks_xy: np.ndarray  # float32 [68, 2] the landmarks the plan was made from
    handles_xy: np.ndarray  # float32 [K, 2]
    targets_xy: np.ndarray  # float32 [K, 2]
    handle_rows: np.ndarray  # int [K]: the landmark row (0-based) each handle is
    mask: np.ndarray  # bool [H, W]: True where the image may change
    anchors_xy: np.ndarray = field(
        default_factory=lambda: np.zeros((0, 2), dtype=np.float32)
    )  # [A, 2] stay put
    anchor_rows: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64)
    )  # [A] their landmark rows

    @property
    def handles_rc(self) -> np.ndarray:
        """Handles as drag-engine (row, col) pixels, float32 [K, 2]."""
        return xy_to_rowcol(self.handles_xy)

    @property
    def targets_rc(self) -> np.ndarray:
        """Targets as drag-engine (row, col) pixels, float32 [K, 2]."""
        return xy_to_rowcol(self.targets_xy)

    @property
    def anchors_rc(self) -> np.ndarray | None:
        """Anchors as drag-engine (row, col) pixels, float32 [A, 2], or None when there are none."""
        return xy_to_rowcol(self.anchors_xy) if len(self.anchors_xy) else None


def _check_landmarks(landmarks_xy: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    lm = np.asarray(landmarks_xy, dtype=np.float64)
    if lm.shape != (68, 2):
        raise PresetError(f"expected 68 (x, y) landmarks, got an array of shape {lm.shape}")
    if not np.isfinite(lm).all():
        raise PresetError("landmarks contain NaN or infinite values")
    h, w = shape
    outside = np.flatnonzero(
        (lm[:, 0] < -0.5) | (lm[:, 0] > w - 0.5) | (lm[:, 1] < -0.5) | (lm[:, 1] > h - 0.5)
    )
    if outside.size:
        raise PresetError(
            f"landmarks outside the {w}x{h} image: points {', '.join(str(i + 1) for i in outside[:8])}"
        )
    return lm


def plan_edit(
    landmarks_xy: np.ndarray,
    presets: str | list[str] | list[Preset],
    strength: float,
    image_shape: tuple[int, int],
    mask: bool = True,
) -> EditPlan:
    """Handles, targets and movable mask for one or more presets.

    Args:
        landmarks_xy: [68, 2] (x, y) pixels of the face in the image.
        presets: names ('close_eyes,smile' or a list) or Preset objects.
        strength: in STRENGTH_RANGE (1 = the preset as specified).
        image_shape: (H, W) of the image the landmarks belong to.
        mask: False = everything movable (no automatic mask).
    Raises:
        PresetError: unknown preset, strength out of range, bad landmarks, or targets outside the image.
    """
    lo, hi = STRENGTH_RANGE
    if not lo <= strength <= hi:
        raise PresetError(f"strength must be in [{lo}, {hi}], got {strength}")
    chosen = (
        list(presets) if presets and all(isinstance(p, Preset) for p in presets) else parse_presets(presets)
    )  # type: ignore[arg-type]
    lm = _check_landmarks(landmarks_xy, image_shape)
    h, w = image_shape
    per_preset = [p.rule(lm, strength) for p in chosen]
    for p, m in zip(chosen, per_preset):
        m.add_anchors(lm, list(p.anchor_rows))
    for m in per_preset:
        m.targets = np.clip(m.targets, 0, [w - 1, h - 1])  # a target may not leave the image
    moves = Moves.concat(per_preset)
    iod = float(interocular_distance(lm))
    movable = np.ones(image_shape, dtype=bool)
    if mask:
        movable[:] = False
        for p, m in zip(chosen, per_preset):
            centres = np.concatenate([lm[list(p.mask_rows)], m.handles, m.targets])
            movable |= disc_mask(image_shape, centres, p.mask_radius * iod)
    return EditPlan(
        [p.name for p in chosen],
        float(strength),
        lm.astype(np.float32),
        moves.handles,
        moves.targets,
        moves.rows,
        movable,
        moves.anchors,
        moves.anchor_rows,
    )
