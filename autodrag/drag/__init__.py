"""DragGAN point dragging: pure loss and tracking functions, and `DragSession`, the owner of drag state."""

from autodrag.drag.config import DragConfig, DragScales
from autodrag.drag.coords import (
    FeatureWindow,
    as_points,
    fixed_weight_map,
    rowcol_to_xy,
    sample_features,
    square_offsets,
    xy_to_rowcol,
)
from autodrag.drag.errors import DragInputError, DragStateError
from autodrag.drag.losses import disc_offsets, mask_loss, motion_directions, motion_loss
from autodrag.drag.session import DragSession, DragSummary, Snapshot, StepResult
from autodrag.drag.tracking import track_points

__all__ = [
    "DragConfig",
    "DragInputError",
    "DragScales",
    "DragSession",
    "DragStateError",
    "DragSummary",
    "FeatureWindow",
    "Snapshot",
    "StepResult",
    "as_points",
    "disc_offsets",
    "fixed_weight_map",
    "mask_loss",
    "motion_directions",
    "motion_loss",
    "rowcol_to_xy",
    "sample_features",
    "square_offsets",
    "track_points",
    "xy_to_rowcol",
]
