"""Write an edit's results: result.json, before/after PNG, edited PNG, latent, GIF (all atomic)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from autodrag.atomic import write_json_atomic
from autodrag.drag.coords import xy_to_rowcol
from autodrag.drag.overlay import draw_drag
from autodrag.images import save_gif, save_mp4, save_png
from autodrag.latents import save_latent
from autodrag.pixels import rescale_points
from autodrag.presets.edit import EditResult

__all__ = ["EDIT_FILES", "before_after", "result_record", "write_edit"]

LANDMARK_COLOR = (40, 220, 90)
# every file write_edit may write (a new run into the same folder replaces or removes each of them)
EDIT_FILES = (
    "result.json",
    "before_after.png",
    "edited.png",
    "before.png",
    "latent.npz",
    "edit.gif",
    "edit_overlay.gif",
    "edit.mp4",
)


def _with_landmarks(image: np.ndarray, landmarks_xy: np.ndarray, scale: int) -> np.ndarray:
    canvas = Image.fromarray(image)
    draw = ImageDraw.Draw(canvas)
    r = max(1.0, scale * 0.6)
    for cx, cy in rescale_points(np.asarray(landmarks_xy), scale):
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=LANDMARK_COLOR)
    return np.asarray(canvas)


def before_after(result: EditResult, scale: int | None = None) -> np.ndarray:
    """Side by side: before (landmarks, handles, targets, mask) | after (re-detected landmarks, tracked handles)."""
    h = result.image_before.shape[0]
    scale = scale or max(1, 384 // h)
    plan = result.plan
    left = draw_drag(result.image_before, plan.handles_rc, plan.targets_rc, mask=plan.mask, scale=scale)
    left = _with_landmarks(left, result.landmarks_before, scale)
    after_handles = xy_to_rowcol(result.landmarks_after[plan.handle_rows])
    right = draw_drag(result.image_after, after_handles, plan.targets_rc, scale=scale)
    right = _with_landmarks(right, result.landmarks_after, scale)
    gap = np.full((left.shape[0], 4 * scale, 3), 255, np.uint8)
    return np.concatenate([left, gap, right], axis=1)


def result_record(result: EditResult, **context: object) -> dict:
    """The result.json content: context (seed, checkpoint...: `record.edit_context`), how the edit ran
    (presets, strength, every DragConfig field, tracking, guide, mask) and the edit's numbers."""
    plan = result.plan
    return {
        **context,
        "preset": ",".join(plan.presets),
        "strength": plan.strength,
        "drag_config": asdict(result.config),
        "tracking": result.tracking,
        "landmark_tracking": result.landmark_tracking,  # what 'auto' resolved to
        "guide": result.guide,
        "mask": result.mask,
        "steps": result.steps,
        "stop_reason": result.stop_reason,
        "seconds": round(result.seconds, 3),
        "md_px": round(result.md_px, 4),
        "success": result.success,
        "landmarks_before": np.round(result.landmarks_before, 3).tolist(),
        "landmarks_after": np.round(result.landmarks_after, 3).tolist(),
        "handles": np.round(plan.handles_xy, 3).tolist(),
        "targets": np.round(plan.targets_xy, 3).tolist(),
        "handle_landmarks": [int(r) + 1 for r in plan.handle_rows],
        "anchors": np.round(plan.anchors_xy, 3).tolist(),  # points held still (a shut eye's lower lid)
        "measures_before": {k: round(v, 5) for k, v in result.measures_before.items()},
        "measures_after": {k: round(v, 5) for k, v in result.measures_after.items()},
        "mask_fraction": round(float(plan.mask.mean()), 4),
        "points_convention": "(x, y) pixels, pixel centres at integers; handle_landmarks are 1-based iBUG",
    }


def write_edit(out: Path, result: EditResult, gif: bool = True, **context: object) -> dict:
    """Write every output of one edit into `out`; result.json last, so its presence means 'finished'."""
    out.mkdir(parents=True, exist_ok=True)
    save_png(out / "before_after.png", before_after(result))
    save_png(out / "edited.png", result.image_after)
    save_png(out / "before.png", result.image_before)
    save_latent(
        out / "latent.npz",
        ws=result.latent,
        **{k: v for k, v in context.items() if k in ("seed", "truncation_psi") and v is not None},
    )
    if gif and len(result.frames) > 1:
        save_gif(out / "edit.gif", result.frames)
        overlays = [
            draw_drag(f, xy_to_rowcol(p), result.plan.targets_rc, scale=2)
            for f, p in zip(result.frames, result.tracked_xy)
        ]
        save_gif(out / "edit_overlay.gif", overlays)
        save_mp4(out / "edit.mp4", overlays)
    record = result_record(result, **context)
    write_json_atomic(out / "result.json", record)
    return record
