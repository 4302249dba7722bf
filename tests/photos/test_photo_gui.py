"""The visualizer's "Open photo", headless: invert in the worker, close the eyes, save the pasted photo."""

from __future__ import annotations

import numpy as np
import pytest

from autodrag.gui.controller import Controller
from autodrag.images import save_png
from autodrag.photos.faces import find_faces
from autodrag.photos.invert import InversionConfig
from autodrag.photos.io import load_photo
from autodrag.presets.measures import face_measures
from autodrag.toyfaces.photos import render_toy_photo

TOY = InversionConfig(w_steps=40, w_plus_steps=30, tune_steps=60, w_avg_samples=500)


def _ear(landmarks: np.ndarray) -> float:
    m = face_measures(landmarks)
    return (m["ear_left"] + m["ear_right"]) / 2


@pytest.mark.slow  # ~40 s on the shared 2-core machine (a real inversion and a full preset drag)
def test_open_photo_close_eyes_and_save_the_pasted_photo(tmp_path):
    tp = render_toy_photo(2)
    path = tmp_path / "toy.png"
    save_png(path, tp.rgb)
    ctrl = Controller(capture_dir=tmp_path / "captures")
    ctrl.load_network(None)
    ctrl.open_photo(tmp_path / "missing.png")  # bad input: the status line says so, nothing runs
    assert "missing.png" in ctrl.status and "no such file" in ctrl.status and not ctrl.busy
    ctrl.open_photo(path, backend="toy", config=TOY)
    assert ctrl.busy  # the inversion runs in the worker
    seen = set()
    while ctrl.busy:
        ctrl.wait_idle(timeout_s=0.2)
        seen.add(ctrl.status.split(" ")[2] if ctrl.status.startswith("inverting toy.png:") else "")
    assert {"w", "w_plus", "tune"} <= seen  # progress of every stage reached the status line
    assert ctrl.status.startswith("opened toy.png"), ctrl.status
    assert ctrl.image.shape == (128, 128, 3)
    ctrl.set_drag_options(max_steps=150)
    ctrl.apply_preset("close_eyes")
    assert ctrl.wait_idle(300)
    saved = ctrl.save_photo_capture()
    assert saved is not None and saved.suffix == ".png", ctrl.status
    out = load_photo(saved)
    assert out.rgb.shape == tp.rgb.shape
    mask = ctrl.last_photo_paste.mask
    assert mask.any() and np.array_equal(out.rgb[~mask], tp.rgb[~mask])  # identical outside the paste mask
    before = find_faces(tp.rgb, "toy")[0].landmarks
    after = find_faces(out.rgb, "toy")[0].landmarks  # re-detected in the saved photo
    assert _ear(after) < 0.5 * _ear(before)
    ctrl.open_photo(path, backend="toy", config=TOY)  # a second open reuses the project
    ctrl.wait_idle(60)
    assert "reused" in ctrl.status
