"""Every visualizer action, headless (no window): the Controller the panels call."""

from __future__ import annotations

import numpy as np
import pytest

from autodrag.gui.controller import Controller
from autodrag.networks import save_generator
from autodrag.networks.default import random_generator
from autodrag.presets.edit import preset_tuning
from tests.presets.test_edit import FixedLandmarks


@pytest.fixture()
def ctrl(tmp_path):
    path = save_generator(random_generator(64), tmp_path / "g.safetensors")
    c = Controller(capture_dir=tmp_path / "captures")
    c.load_network(path)
    c.set_drag_options(max_steps=5)
    assert c.G is not None and c.image.shape == (64, 64, 3), c.status
    return c


def test_points_drag_undo_redo(ctrl):
    before = ctrl.image.copy()
    ctrl.click_image(20, 20)
    ctrl.click_image(20, 30)
    assert ctrl.view.handles == [(20, 20)] and ctrl.view.targets == [(20, 30)]
    ctrl.start()
    assert ctrl.busy
    assert ctrl.wait_idle(120)
    assert not np.array_equal(before, ctrl.image)
    assert ctrl.step >= 1 and "drag" in ctrl.status
    assert len(ctrl.last_frames) >= 2
    ctrl.undo()
    np.testing.assert_array_equal(ctrl.image, before)
    ctrl.redo()
    assert not np.array_equal(ctrl.image, before)
    gif = ctrl.save_gif()
    png = ctrl.save_capture()
    assert gif.exists() and png.exists() and png.with_suffix(".npz").exists()
    mp4 = ctrl.save_mp4()
    assert mp4.read_bytes()[4:8] == b"ftyp"  # an MP4 container


def test_step_size_zero_means_automatic(ctrl):
    ctrl.set_drag_options(lr=3e-3)
    assert ctrl.drag_config.lr == 3e-3 and ctrl.session.config.lr == 3e-3
    ctrl.set_drag_options(lr=0.0)  # the panel's 0 = auto: DragConfig's per-handle-count default
    assert ctrl.drag_config.lr is None and ctrl.session.config.lr is None
    ctrl.set_drag_options(max_steps=5)  # None leaves the step size as it is
    assert ctrl.drag_config.lr is None


def test_stop_ends_a_running_drag(ctrl):
    ctrl.set_drag_options(max_steps=10_000)
    ctrl.click_image(10, 10)
    ctrl.click_image(50, 50)
    ctrl.start()
    ctrl.stop()
    assert ctrl.wait_idle(60)
    assert "stopped" in ctrl.status or "converged" in ctrl.status


def test_mask_painting(ctrl):
    ctrl.view.mask_mode = "movable"
    ctrl.view.mask_radius = 5
    ctrl.click_image(32, 32)
    assert ctrl.mask is not None and ctrl.mask[32, 32] and not ctrl.mask[0, 0]
    assert 0 < ctrl.mask.mean() < 0.1
    ctrl.view.mask_mode = "fixed"
    ctrl.click_image(32, 32)
    assert not ctrl.mask[32, 32]
    assert ctrl.view.handles == []  # painting does not place points
    ctrl.reset_mask()
    assert ctrl.mask is None


def test_preset_plans_points_and_mask(ctrl):
    ctrl._detector = FixedLandmarks(64)
    ctrl.prepare_preset("close_eyes")
    assert ctrl.view.pending_preset == "close_eyes"
    assert len(ctrl.view.handles) == len(ctrl.view.targets) == 8
    assert ctrl.mask is not None and 0 < ctrl.mask.mean() < 0.3
    ctrl.start()
    tuned = preset_tuning("close_eyes")  # the preset's own drag settings, as `autodrag edit` uses them
    assert (ctrl.session.config.lr, ctrl.session.config.image_mask_weight) == (
        tuned["lr"],
        tuned["image_mask_weight"],
    )
    assert ctrl.wait_idle(120) and ctrl.view.pending_preset is None


@pytest.mark.parametrize(
    "action,args,message",
    [
        ("click_image", (-3, 10), "outside the 64x64 image"),
        ("load_network", ("/nonexistent/g.pkl",), "no such file"),
        ("load_latent", ("/nonexistent/w.npz",), "no such latent file"),
        ("start", (), "place a handle and a target first"),
        ("prepare_preset", ("frown",), "unknown preset"),
        ("save_gif", (), "no drag to save yet"),
    ],
)
def test_bad_input_goes_to_the_status_line(ctrl, action, args, message):
    getattr(ctrl, action)(*args)
    assert message in ctrl.status
    assert ctrl.G is not None  # still usable


def test_latent_of_wrong_shape(ctrl, tmp_path):
    np.savez(tmp_path / "w.npz", ws=np.zeros((2, 3), np.float32))
    ctrl.load_latent(tmp_path / "w.npz")
    assert "ws has shape (2, 3)" in ctrl.status


def test_seed_psi_and_latent_round_trip(ctrl, tmp_path):
    first = ctrl.image.copy()
    ctrl.set_latent(seed=5)
    assert not np.array_equal(first, ctrl.image)
    ctrl.save_latent(tmp_path / "w.npz")
    seed5 = ctrl.image.copy()
    ctrl.set_latent(seed=0)
    ctrl.load_latent(tmp_path / "w.npz")
    np.testing.assert_array_equal(ctrl.image, seed5)


def test_bad_drag_input_from_the_worker_reaches_the_status_line(ctrl):
    ctrl.click_image(10, 10)
    ctrl.click_image(10, 10)  # target equal to its handle
    ctrl.start()
    assert ctrl.wait_idle(60)
    assert "drag failed" in ctrl.status and "equals its handle" in ctrl.status
    ctrl.reset_points()
    ctrl.click_image(10, 10)
    ctrl.click_image(10, 20)
    ctrl.start()  # the session is still usable
    assert ctrl.wait_idle(60) and "drag " in ctrl.status and "failed" not in ctrl.status


def test_stop_before_the_drag_has_started_is_not_lost(ctrl, monkeypatch):
    """Stop lands while the worker is still in `start_drag` (which clears the session's stop flag):
    the drag still ends as stopped, before its first step."""
    import threading

    from autodrag.drag import DragSession

    entered, release = threading.Event(), threading.Event()
    original = DragSession.start_drag

    def slow_start(self, *args, **kwargs):
        entered.set()
        release.wait(30)
        original(self, *args, **kwargs)

    monkeypatch.setattr(DragSession, "start_drag", slow_start)
    ctrl.set_drag_options(max_steps=10_000)
    ctrl.click_image(10, 10)
    ctrl.click_image(50, 50)
    ctrl.start()
    assert entered.wait(30)
    ctrl.stop()  # before start_drag has finished
    release.set()
    assert ctrl.wait_idle(60)
    assert "stopped" in ctrl.status and ctrl.step == 0, ctrl.status
