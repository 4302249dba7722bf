"""One preset edit, end to end: render, find landmarks, plan, drag, re-detect, measure.

The CLI (`autodrag edit/batch/demo`) and the GUI call `run_edit`; it never touches files.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from autodrag.drag import DragConfig, DragSession
from autodrag.drag.coords import rowcol_to_xy
from autodrag.images import to_uint8
from autodrag.landmarks.base import LandmarkDetector
from autodrag.presets.measures import face_measures, preset_success
from autodrag.presets.plan import EditPlan, plan_edit
from autodrag.presets.registry import PRESET_TUNING
from autodrag.presets.wiring import (
    TRACKING_MODES,
    landmark_guide,
    landmark_tracker,
    plan_guide,
    preset_drag_config,
    preset_tuning,
    start_preset_drag,
    uses_landmark_tracking,
)

__all__ = [
    "PRESET_TUNING",
    "TRACKING_MODES",
    "EditResult",
    "landmark_guide",
    "landmark_tracker",
    "plan_guide",
    "preset_drag_config",
    "preset_tuning",
    "run_edit",
]


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
    success: dict[str, bool]  # per preset: `Preset.success` and MD (`measures.preset_success`)
    steps: int
    seconds: float
    stop_reason: str
    frames: list[np.ndarray] = field(default_factory=list)  # GIF frames (no overlays)
    tracked_xy: list[np.ndarray] = field(default_factory=list)  # handle positions at each frame
    # How the edit ran (for result.json and `presets.record.rerun_from_record`):
    config: DragConfig = field(default_factory=DragConfig)  # the drag settings it ran with
    tracking: str = "auto"  # as asked ('auto', 'landmarks', 'features')
    landmark_tracking: bool = False  # whether the handles were re-detected each step
    guide: bool = True  # as asked
    mask: bool = True  # as asked


def run_edit(
    G: torch.nn.Module,
    ws: torch.Tensor | np.ndarray,
    detector: LandmarkDetector,
    presets: str | list[str],
    strength: float = 1.0,
    *,
    mask: bool = True,
    config: DragConfig | None = None,
    frame_every: int = 4,
    tracking: str = "auto",
    guide: bool = True,
    on_step: Callable[[int, float], None] | None = None,
) -> EditResult:
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
        The drag itself is wired by `wiring.start_preset_drag`, as in the GUI and the web front end.
    Raises:
        PresetError, DragInputError, and the detector's errors (no face, missing weights).
    """
    started = time.perf_counter()
    ws = torch.as_tensor(np.asarray(ws, dtype=np.float32) if isinstance(ws, np.ndarray) else ws).float()
    config = config or preset_drag_config(presets=presets)
    by_landmarks = uses_landmark_tracking(tracking, detector)
    session = DragSession(G, ws, config)
    start_image = session.render()
    before = to_uint8(start_image)
    lm_before = detector.detect(before)
    plan = plan_edit(lm_before, presets, strength, before.shape[:2], mask=mask)
    start_preset_drag(
        session, detector, plan, config=config, tracking=tracking, guide=guide, start_image=start_image
    )
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
        plan=plan,
        image_before=before,
        image_after=after,
        latent=latent.numpy(),
        landmarks_before=lm_before,
        landmarks_after=lm_after,
        measures_before=m_before,
        measures_after=m_after,
        md_px=md_px,
        success=preset_success(plan.presets, m_before, m_after, md_px, before.shape[1]),
        steps=summary.steps,
        seconds=time.perf_counter() - started,
        stop_reason=summary.reason,
        frames=frames,
        tracked_xy=tracked,
        config=config,
        tracking=tracking,
        landmark_tracking=by_landmarks,
        guide=guide,
        mask=mask,
    )
