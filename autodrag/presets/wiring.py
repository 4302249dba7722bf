"""How a preset plan becomes a drag: the one wiring shared by `run_edit` (CLI), the GUI and the web server.

A plan's handles are landmarks, so besides handles, targets, mask and anchors a preset drag may track
them by re-detection (`landmark_tracker`) and pull the detector's landmarks to the targets
(`landmark_guide`), with the preset's tuned `DragConfig` (`preset_drag_config`). `preset_drag` builds
all of that for any `DragSession` (a seed's latent, a loaded latent, or a tuned generator with its pivot
latent: the session is the caller's); `start_preset_drag` also starts it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import torch

from autodrag.drag import DragConfig, DragSession
from autodrag.drag.coords import xy_to_rowcol
from autodrag.drag.session import ImageGuide, PointTracker
from autodrag.images import to_uint8
from autodrag.landmarks.base import LandmarkDetector
from autodrag.presets.plan import EditPlan
from autodrag.presets.registry import PRESET_TUNING, get_preset, parse_presets

__all__ = [
    "TRACKING_MODES",
    "PresetDrag",
    "landmark_guide",
    "landmark_tracker",
    "plan_guide",
    "preset_drag",
    "preset_drag_config",
    "preset_tuning",
    "start_preset_drag",
    "uses_landmark_tracking",
]

TRACKING_MODES = ("auto", "landmarks", "features")


def preset_tuning(presets: str | list[str] = ()) -> dict[str, float]:
    """`PRESET_TUNING` with the `tuning` of each of `presets`; where presets differ, the larger value."""
    own: dict[str, float] = {}
    for preset in parse_presets(presets) if presets else []:
        for key, value in preset.tuning:
            own[key] = max(own.get(key, value), value)
    return {**PRESET_TUNING, **own}


def preset_drag_config(
    base: DragConfig | None = None, presets: str | list[str] = (), **changes
) -> DragConfig:
    """Drag settings for an edit with `presets`: `base` (default: the paper's) with `preset_tuning(presets)`,
    then `changes` (None values are ignored, so a CLI option left unset keeps the tuned value)."""
    changes = {k: v for k, v in changes.items() if v is not None}
    return replace(base or DragConfig(), **{**preset_tuning(presets), **changes})


def uses_landmark_tracking(tracking: str, detector: LandmarkDetector) -> bool:
    """Whether `tracking` ('auto', 'landmarks' or 'features') re-detects the handles with `detector`.

    'auto' means landmarks when the detector is fast (the bundled toy detector). Raises ValueError on an
    unknown mode.
    """
    if tracking not in TRACKING_MODES:
        raise ValueError(f"tracking must be one of {TRACKING_MODES}, got {tracking!r}")
    return tracking == "landmarks" or (tracking == "auto" and detector.fast)


def landmark_tracker(detector: LandmarkDetector, handle_rows: np.ndarray) -> PointTracker:
    """A `PointTracker`: the handles are wherever the detector finds their landmarks on the image."""

    def track(image: torch.Tensor) -> np.ndarray:
        return xy_to_rowcol(detector.detect(to_uint8(image))[handle_rows])

    return track


def landmark_guide(
    detector: LandmarkDetector,
    rows: np.ndarray,
    goals_xy: np.ndarray,
    weight: float,
    reference: torch.Tensor | None = None,
    movable: np.ndarray | None = None,
) -> ImageGuide:
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


def plan_guide(
    detector: LandmarkDetector,
    plan: EditPlan,
    reference: torch.Tensor | None = None,
    movable: np.ndarray | None = None,
) -> ImageGuide | None:
    """The landmark guide of a plan (handles to targets, anchors held), or None when its presets have no
    `guide_weight` or the detector is not differentiable. `reference`, `movable`: see `landmark_guide`."""
    weight = max(get_preset(name).guide_weight for name in plan.presets)
    if weight <= 0 or not detector.differentiable:
        return None
    rows = np.concatenate([plan.handle_rows, plan.anchor_rows])
    goals = np.concatenate([plan.targets_xy, plan.landmarks_xy[plan.anchor_rows]])
    return landmark_guide(detector, rows, goals, weight, reference, movable)


@dataclass(frozen=True)
class PresetDrag:
    """Everything `DragSession.start_drag` gets for one preset plan, and the config the drag runs with."""

    config: DragConfig
    handles: np.ndarray  # float32 [K, 2] (row, col)
    targets: np.ndarray  # float32 [K, 2] (row, col)
    mask: np.ndarray | None  # float32 [H, W], 1 = movable; None = everything movable
    anchors: np.ndarray | None  # float32 [A, 2] (row, col), or None
    tracker: PointTracker | None  # re-detected landmarks, or None = DragGAN's feature tracking
    guide: ImageGuide | None  # landmark guide, or None

    def start(self, session: DragSession) -> None:
        """Set the session's config and start the drag (call from the thread that will run it)."""
        session.config = self.config
        session.start_drag(
            self.handles,
            self.targets,
            mask=self.mask,
            tracker=self.tracker,
            anchors=self.anchors,
            guide=self.guide,
        )


def preset_drag(
    session: DragSession,
    detector: LandmarkDetector,
    plan: EditPlan,
    *,
    config: DragConfig | None = None,
    tracking: str = "auto",
    guide: bool = True,
    mask: np.ndarray | Literal["plan"] | None = "plan",
    start_image: torch.Tensor | None = None,
) -> PresetDrag:
    """The drag of `plan` on `session`'s current latent (nothing is started; see `start_preset_drag`).

    Args:
        session: the session to drag (any generator and latent: seed, latent file, tuned photo generator).
        detector: the landmark backend the plan was made with (tracking and guide use it).
        plan: from `plan_edit`.
        config: the drag settings as they are; default `preset_drag_config(presets=plan.presets)`.
        tracking: 'auto', 'landmarks' or 'features' (`uses_landmark_tracking`).
        guide: add the plan's landmark guide (`plan_guide`) where its presets and the detector allow it.
        mask: the movable mask, bool or 0/1 [H, W]; 'plan' = `plan.mask`; None = everything movable.
        start_image: the session's render now ([1, 3, H, W]), the guide's reference outside the mask;
            rendered when needed and not given.
    Raises:
        ValueError: unknown tracking mode.
    """
    by_landmarks = uses_landmark_tracking(tracking, detector)
    movable = plan.mask if isinstance(mask, str) and mask == "plan" else mask
    movable = None if movable is None else np.asarray(movable).astype(np.float32)
    image_guide = None
    if guide:
        if movable is not None and start_image is None:
            start_image = session.render()
        image_guide = plan_guide(detector, plan, *((start_image, movable) if movable is not None else ()))
    return PresetDrag(
        config=config or preset_drag_config(presets=plan.presets),
        handles=plan.handles_rc,
        targets=plan.targets_rc,
        mask=movable,
        anchors=plan.anchors_rc,
        tracker=landmark_tracker(detector, plan.handle_rows) if by_landmarks else None,
        guide=image_guide,
    )


def start_preset_drag(
    session: DragSession, detector: LandmarkDetector, plan: EditPlan, **options
) -> PresetDrag:
    """`preset_drag(session, detector, plan, **options)`, started on `session`; returns what was started."""
    drag = preset_drag(session, detector, plan, **options)
    drag.start(session)
    return drag
