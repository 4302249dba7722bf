"""run_edit on a random generator with a stand-in detector: the plumbing, not the face (see test_outcome)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autodrag.drag import DragConfig
from autodrag.landmarks.base import LandmarkDetector
from autodrag.networks.default import random_generator
from autodrag.presets import PresetError
from autodrag.presets.edit import run_edit
from autodrag.toyfaces.params import FaceParams
from autodrag.toyfaces.render import RenderConfig, render_face


class FixedLandmarks(LandmarkDetector):
    """Returns the same face's landmarks (a toy render scaled to the image) whatever the image."""

    def __init__(self, size: int) -> None:
        self.points = render_face(FaceParams(), RenderConfig(resolution=size, supersample=1)).landmarks
        self.calls = 0

    def detect(self, image: np.ndarray) -> np.ndarray:
        self.calls += 1
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
        return self.points.copy()


@pytest.fixture(scope="module")
def G():
    return random_generator(64).eval().requires_grad_(False)


def test_edit_runs_the_drag_and_reports(G):
    ws = G.mapping(torch.randn([1, G.z_dim]), None)[0]
    detector = FixedLandmarks(64)
    result = run_edit(G, ws, detector, "close_eyes", 1.0, config=DragConfig(max_steps=6), frame_every=2)
    assert detector.calls == 2  # before and after
    assert result.steps <= 6 and result.stop_reason in ("converged", "max_steps")
    assert result.image_before.shape == result.image_after.shape == (64, 64, 3)
    assert not np.array_equal(result.image_before, result.image_after)  # the latent moved
    assert result.latent.shape == (G.num_ws, G.w_dim)
    assert len(result.frames) >= 3 and len(result.frames) == len(result.tracked_xy)
    # the stand-in detector never moves, so MD is the distance of the original lids to the targets
    expected = np.linalg.norm(detector.points[result.plan.handle_rows] - result.plan.targets_xy, axis=1).mean()
    assert result.md_px == pytest.approx(expected, rel=1e-5)
    assert result.success == {"close_eyes": False}
    assert set(result.measures_before) == set(result.measures_after) >= {"ear_left", "ear_right", "jaw_width"}


def test_edit_bad_preset_fails_before_dragging(G):
    ws = G.mapping(torch.randn([1, G.z_dim]), None)[0]
    with pytest.raises(PresetError, match="unknown preset"):
        run_edit(G, ws, FixedLandmarks(64), "frown")


def test_landmark_tracking_re_detects_the_handles_every_step(G):
    ws = G.mapping(torch.randn([1, G.z_dim]), None)[0]
    detector = FixedLandmarks(64)
    run_edit(G, ws, detector, "close_eyes", 1.0, config=DragConfig(max_steps=4), frame_every=0, tracking="landmarks")
    assert detector.calls == 2 + 4 + 1  # before, after, each step, and once more on the final latent
    features = FixedLandmarks(64)
    run_edit(G, ws, features, "close_eyes", 1.0, config=DragConfig(max_steps=4), frame_every=0, tracking="features")
    assert features.calls == 2
    with pytest.raises(ValueError, match="tracking"):
        run_edit(G, ws, features, "close_eyes", 1.0, tracking="optical-flow")
