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
    expected = np.linalg.norm(
        detector.points[result.plan.handle_rows] - result.plan.targets_xy, axis=1
    ).mean()
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
    run_edit(
        G,
        ws,
        detector,
        "close_eyes",
        1.0,
        config=DragConfig(max_steps=4),
        frame_every=0,
        tracking="landmarks",
    )
    assert detector.calls == 2 + 4 + 1  # before, after, each step, and once more on the final latent
    features = FixedLandmarks(64)
    run_edit(
        G, ws, features, "close_eyes", 1.0, config=DragConfig(max_steps=4), frame_every=0, tracking="features"
    )
    assert features.calls == 2
    with pytest.raises(ValueError, match="tracking"):
        run_edit(G, ws, features, "close_eyes", 1.0, tracking="optical-flow")


def test_landmark_guide_sees_only_the_movable_region():
    """The guide pulls detected landmarks to their goals; its gradient is zero outside the movable mask."""
    from autodrag.landmarks.toy import ToyLandmarkDetector
    from autodrag.presets.edit import landmark_guide

    detector = ToyLandmarkDetector()
    face = render_face(FaceParams(), RenderConfig(resolution=128, supersample=1))
    image = torch.from_numpy(np.asarray(face.image, dtype=np.float32)).permute(2, 0, 1)[None] / 127.5 - 1
    movable = np.zeros((128, 128), dtype=bool)
    movable[40:70, 30:100] = True
    rows = np.array([37, 41])
    goals = face.landmarks[rows] + [0.0, 3.0]
    guide = landmark_guide(detector, rows, goals, 2.0, reference=image.clone(), movable=movable)
    x = image.clone().requires_grad_()
    loss = guide(x)
    found = detector.detect_tensor(image)[rows]
    expected = 2.0 * np.linalg.norm(found.detach().numpy() - goals, axis=1).mean()
    assert loss.item() == pytest.approx(expected, rel=1e-4)
    loss.backward()
    grad = x.grad.abs().sum(dim=(0, 1))
    assert grad[torch.from_numpy(~movable)].max() == 0 and grad[torch.from_numpy(movable)].sum() > 0


def test_plan_guide_only_for_guided_presets_and_differentiable_detectors():
    from autodrag.landmarks.toy import ToyLandmarkDetector
    from autodrag.presets import PRESETS, plan_edit
    from autodrag.presets.edit import plan_guide

    toy = ToyLandmarkDetector()
    lm = render_face(FaceParams(), RenderConfig(resolution=128, supersample=1)).landmarks
    assert {n for n, p in PRESETS.items() if p.guide_weight > 0} == {
        "close_eyes",
        "widen_eyes",
        "open_mouth",
        "smile",
    }
    assert plan_guide(toy, plan_edit(lm, "slim_face", 1.0, (128, 128))) is None
    assert (
        plan_guide(FixedLandmarks(128), plan_edit(lm, "close_eyes", 1.0, (128, 128))) is None
    )  # not differentiable
    assert plan_guide(toy, plan_edit(lm, "close_eyes,slim_face", 1.0, (128, 128))) is not None


def test_preset_tuning_per_preset_and_combined():
    from autodrag.presets import PRESETS
    from autodrag.presets.edit import PRESET_TUNING, preset_drag_config, preset_tuning

    assert preset_tuning() == PRESET_TUNING == preset_tuning("slim_face")
    eyes = preset_tuning("close_eyes")
    assert eyes == preset_tuning("widen_eyes") and eyes["lr"] > PRESET_TUNING["lr"]
    assert eyes["image_mask_weight"] > PRESET_TUNING["image_mask_weight"]
    assert preset_tuning("slim_face,close_eyes") == eyes  # combined: the larger value of each setting
    assert {n for n, p in PRESETS.items() if p.tuning} == {"close_eyes", "widen_eyes", "open_mouth", "smile"}
    config = preset_drag_config(DragConfig(max_steps=7), presets="widen_eyes", lr=None, r2=5.0)
    assert (config.max_steps, config.lr, config.r2) == (7, eyes["lr"], 5.0)  # None keeps the tuned value
    assert preset_drag_config(presets="widen_eyes", lr=1e-3).lr == 1e-3
    with pytest.raises(PresetError, match="unknown preset 'frown'"):
        preset_tuning("frown")


def test_preset_drag_wiring_is_what_run_edit_starts(G, monkeypatch):
    """`wiring.preset_drag` builds the drag the CLI, the GUI and the web front end start: the plan's points,
    its mask (or the caller's), the tuned config, landmark tracking for a fast detector."""
    from autodrag.drag import DragSession
    from autodrag.presets import plan_edit, preset_drag_config, wiring

    ws = G.mapping(torch.randn([1, G.z_dim]), None)[0]
    detector = FixedLandmarks(64)
    session = DragSession(G, ws)
    plan = plan_edit(detector.points, "close_eyes", 1.0, (64, 64))
    drag = wiring.preset_drag(session, detector, plan)
    np.testing.assert_array_equal(drag.handles, plan.handles_rc)
    np.testing.assert_array_equal(drag.mask, plan.mask.astype(np.float32))
    assert drag.config == preset_drag_config(presets=["close_eyes"]) and drag.tracker is None  # slow detector
    assert wiring.preset_drag(session, detector, plan, mask=None).mask is None
    detector.fast = True
    assert wiring.preset_drag(session, detector, plan, tracking="auto").tracker is not None
    assert wiring.preset_drag(session, detector, plan, tracking="features").tracker is None
    with pytest.raises(ValueError, match="tracking must be one of"):
        wiring.preset_drag(session, detector, plan, tracking="eyes")
    started = []
    monkeypatch.setattr(
        "autodrag.presets.edit.start_preset_drag",
        lambda *a, **k: started.append(k) or wiring.start_preset_drag(*a, **k),
    )
    run_edit(
        G, ws, detector, "close_eyes", config=DragConfig(max_steps=2), frame_every=0, tracking="features"
    )
    assert (
        started and started[0]["tracking"] == "features" and started[0]["config"] == DragConfig(max_steps=2)
    )
