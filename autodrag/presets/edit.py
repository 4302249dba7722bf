"""One preset edit, end to end: render, find landmarks, plan, drag, re-detect, measure.

The CLI (`autodrag edit/batch/demo`) and the GUI call `run_edit`; it never touches files.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import torch

from autodrag.drag import DragConfig, DragSession
from autodrag.drag.session import ImageGuide, PointTracker
from autodrag.drag.coords import rowcol_to_xy, xy_to_rowcol
from autodrag.images import to_uint8
from autodrag.landmarks.base import LandmarkDetector
from autodrag.presets.measures import face_measures, preset_success
from autodrag.presets.plan import EditPlan, PresetError, plan_edit
from autodrag.presets.registry import get_preset, parse_presets

__all__ = ["EditResult", "PRESET_TUNING", "TRACKING_MODES", "landmark_guide", "landmark_tracker", "plan_guide", "preset_drag_config",
           "preset_tuning", "run_edit"]

TRACKING_MODES = ("auto", "landmarks", "features")


PRESET_PATIENCE = 40  # steps without progress before a preset drag stops (and keeps its best latent)
# What a preset drag changes in the base config, tuned with scripts/bench_presets.py (docs/BENCHMARKS.md):
# a 1.5 px motion disc at 128 px (the paper's 3 px at 512 is a single pixel there, too weak to pull two
# lids the last pixel together), a faster step, and the mask also held on the RGB image (the feature
# term alone lets lower blocks' RGB skips leak changes outside the mask).
PRESET_TUNING = {"patience": PRESET_PATIENCE, "r1": 6.0, "lr": 4e-3, "image_mask_weight": 2.0}


def preset_tuning(presets: str | list[str] = ()) -> dict[str, float]:
    """`PRESET_TUNING` with the `tuning` of each of `presets`; where presets differ, the larger value."""
    try:
        chosen = parse_presets(presets) if presets else []
    except KeyError as exc:
        raise PresetError(str(exc.args[0])) from None
    own: dict[str, float] = {}
    for preset in chosen:
        for key, value in preset.tuning:
            own[key] = max(own.get(key, value), value)
    return {**PRESET_TUNING, **own}


def preset_drag_config(base: DragConfig | None = None, presets: str | list[str] = (), **changes) -> DragConfig:
    """Drag settings for an edit with `presets`: `base` (default: the paper's) with `preset_tuning(presets)`,
    then `changes` (None values are ignored, so a CLI option left unset keeps the tuned value)."""
    changes = {k: v for k, v in changes.items() if v is not None}
    return replace(base or DragConfig(), **{**preset_tuning(presets), **changes})


def landmark_tracker(detector: LandmarkDetector, handle_rows: np.ndarray) -> PointTracker:
    """A `PointTracker`: the handles are wherever the detector finds their landmarks on the image."""

    def track(image: torch.Tensor) -> np.ndarray:
        return xy_to_rowcol(detector.detect(to_uint8(image))[handle_rows])

    return track


def landmark_guide(detector: LandmarkDetector, rows: np.ndarray, goals_xy: np.ndarray, weight: float,
                   reference: torch.Tensor | None = None, movable: np.ndarray | None = None) -> ImageGuide:
    """An `ImageGuide`: weight x the mean pixel distance from the detector's landmarks `rows` to `goals_xy`.

    With `reference` (the image at the start, [1, 3, H, W]) and `movable` ([H, W], 1 = may change), the
    detector sees the step's image only inside the movable region and the reference outside it, so the
    guide's gradient never asks for a change outside the mask.
    """
    goals = torch.as_tensor(np.asarray(goals_xy, dtype=np.float32))
    index = torch.as_tensor(np.asarray(rows, dtype=np.int64))
    inside = None if movable is None else torch.as_tensor(np.asarray(movable, dtype=np.float32))

    def guide(image: torch.Tensor) -> torch.Tensor:
        if inside is not None:
            m = inside.to(image.device)
            image = image * m + reference.to(image.device) * (1 - m)
        found = detector.detect_tensor(image)[index]
        return weight * (found - goals.to(found.device)).norm(dim=1).mean()

    return guide


def plan_guide(detector: LandmarkDetector, plan: EditPlan, reference: torch.Tensor | None = None,
               movable: np.ndarray | None = None) -> ImageGuide | None:
    """The landmark guide of a plan (handles to targets, anchors held), or None when its presets have no
    `guide_weight` or the detector is not differentiable. `reference`, `movable`: see `landmark_guide`."""
    weight = max(get_preset(name).guide_weight for name in plan.presets)
    if weight <= 0 or not detector.differentiable:
        return None
    rows = np.concatenate([plan.handle_rows, plan.anchor_rows])
    goals = np.concatenate([plan.targets_xy, plan.landmarks_xy[plan.anchor_rows]])
    return landmark_guide(detector, rows, goals, weight, reference, movable)


@dataclass
class EditResult:
    """Everything an edit produced (images uint8 [H, W, 3]; points (x, y) pixels)."""

    plan: EditPlan
    image_before: np.ndarray
    image_after: np.ndarray
    latent: np.ndarray  # float32 [num_ws, w_dim], the edited ws
    landmarks_before: np.ndarray  # [68, 2]
    landmarks_after: np.ndarray  # [68, 2], re-detected on image_after
    measures_before: dict[str, float]
    measures_after: dict[str, float]
    md_px: float  # mean distance of the re-detected handle landmarks to their targets
    success: dict[str, bool]  # per preset, see presets.measures.SUCCESS_RULES
    steps: int
    seconds: float
    stop_reason: str
    frames: list[np.ndarray] = field(default_factory=list)  # GIF frames (no overlays)
    tracked_xy: list[np.ndarray] = field(default_factory=list)  # handle positions at each frame


def run_edit(G: torch.nn.Module, ws: torch.Tensor | np.ndarray, detector: LandmarkDetector, presets: str | list[str],
             strength: float = 1.0, *, mask: bool = True, config: DragConfig | None = None, frame_every: int = 4,
             tracking: str = "auto", guide: bool = True,
             on_step: Callable[[int, float], None] | None = None) -> EditResult:
    """Apply expression presets to the face of `ws` by dragging its landmarks.

    Args:
        G: a loaded generator. ws: [num_ws, w_dim] latent of the face.
        detector: landmark backend run on the RGB synthesis output.
        presets: 'close_eyes,smile' or a list of names. strength: in [0, 1.5].
        mask: use the preset's automatic movable mask.
        config: drag settings; default `preset_drag_config(presets=presets)`.
        frame_every: keep a GIF frame every N steps (0 = none). on_step: progress callback (step, loss).
        tracking: 'landmarks' re-detects the handle landmarks on the image every step (the handles are
            landmarks, so this is exact where feature tracking confuses lids a pixel or two apart);
            'features' is DragGAN's tracking; 'auto' = landmarks when the detector is fast (toy).
        guide: for presets with a `guide_weight` and a differentiable detector (toy), also pull the
            detector's landmarks to the targets (`landmark_guide`); False = motion supervision only.
    Raises:
        PresetError, DragInputError, and the detector's errors (no face, missing weights).
    """
    started = time.perf_counter()
    ws = torch.as_tensor(np.asarray(ws, dtype=np.float32) if isinstance(ws, np.ndarray) else ws).float()
    config = config or preset_drag_config(presets=presets)
    if tracking not in TRACKING_MODES:
        raise ValueError(f"tracking must be one of {TRACKING_MODES}, got {tracking!r}")
    by_landmarks = tracking == "landmarks" or (tracking == "auto" and detector.fast)
    session = DragSession(G, ws, config)
    start_image = session.render()
    before = to_uint8(start_image)
    lm_before = detector.detect(before)
    plan = plan_edit(lm_before, presets, strength, before.shape[:2], mask=mask)
    session.start_drag(plan.handles_rc, plan.targets_rc, mask=plan.mask.astype(np.float32), anchors=plan.anchors_rc,
                       tracker=landmark_tracker(detector, plan.handle_rows) if by_landmarks else None,
                       guide=plan_guide(detector, plan, start_image, plan.mask) if guide else None)
    frames, tracked = [before], [plan.handles_xy]
    for result in session.run():
        if on_step is not None:
            on_step(result.step, float("nan") if result.loss is None else result.loss)
        if frame_every and result.step % frame_every == 0:
            frames.append(to_uint8(session.render()))
            tracked.append(rowcol_to_xy(result.points))
    summary = session.last_summary  # run() finishes the drag
    latent = session.latent.detach().cpu()
    after = to_uint8(session.render())
    frames.append(after)
    tracked.append(rowcol_to_xy(summary.points))
    lm_after = detector.detect(after)
    md_px = float(np.linalg.norm(lm_after[plan.handle_rows] - plan.targets_xy, axis=1).mean())
    m_before, m_after = face_measures(lm_before), face_measures(lm_after)
    return EditResult(
        plan=plan, image_before=before, image_after=after, latent=latent.numpy(), landmarks_before=lm_before,
        landmarks_after=lm_after, measures_before=m_before, measures_after=m_after, md_px=md_px,
        success=preset_success(plan.presets, m_before, m_after, md_px, before.shape[1]), steps=summary.steps,
        seconds=time.perf_counter() - started, stop_reason=summary.reason, frames=frames, tracked_xy=tracked)
