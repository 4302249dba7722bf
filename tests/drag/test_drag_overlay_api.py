"""Overlay drawing, GIF writing, and the public surface of `autodrag.drag`."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import autodrag.drag
from autodrag.drag.overlay import HANDLE_COLOR, TARGET_COLOR, draw_drag
from autodrag.images import save_gif


def test_overlay_marks_handles_and_targets_in_row_col_order():
    image = np.full((40, 60, 3), 128, dtype=np.uint8)
    out = draw_drag(image, np.array([[10.0, 50.0]]), np.array([[30.0, 5.0]]), scale=2)
    assert out.shape == (80, 120, 3) and (image == 128).all()  # input untouched
    assert tuple(out[10 * 2, 50 * 2]) == HANDLE_COLOR  # (row 10, col 50) -> x = 100, y = 20
    assert tuple(out[30 * 2, 5 * 2]) == TARGET_COLOR


def test_overlay_dims_the_fixed_region():
    image = np.full((20, 20), 200, dtype=np.uint8)
    mask = np.zeros((20, 20))
    mask[:, 10:] = 1
    out = draw_drag(image, np.zeros((0, 2)), np.zeros((0, 2)), mask=mask)
    assert out[5, 2, 0] < 100 and out[5, 15, 0] == 200


def test_gif_frames(tmp_path):
    frames = [np.full((8, 8, 3), v, dtype=np.uint8) for v in (0, 120, 250)]
    path = save_gif(tmp_path / "a.gif", frames)
    with Image.open(path) as gif:
        assert gif.n_frames == 3
    with pytest.raises(ValueError):
        save_gif(tmp_path / "b.gif", [])


def test_public_api():
    assert sorted(autodrag.drag.__all__) == [
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
    assert all(hasattr(autodrag.drag, name) for name in autodrag.drag.__all__)
