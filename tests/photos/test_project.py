"""Photo projects on disk: reuse, redo on a changed photo/generator/config, killed and stopped runs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from autodrag.images import save_png
from autodrag.networks.default import random_generator
from autodrag.photos import pipeline, project
from autodrag.photos.invert import InversionConfig
from autodrag.photos.project import ProjectError, open_project
from autodrag.toyfaces.photos import render_toy_photo

TINY = InversionConfig(w_steps=3, w_plus_steps=3, tune_steps=3, w_avg_samples=64, patience=0)


@pytest.fixture(scope="module")
def G():
    return random_generator(img_resolution=32, seed=1).eval()


@pytest.fixture()
def photo(tmp_path):
    path = tmp_path / "toy.png"
    save_png(path, render_toy_photo(3).rgb)
    return path


def _invert(photo, G, out, **kw):
    kw.setdefault("config", TINY)
    return pipeline.invert_photo(photo, G, out, "toy", 0, framing="toy", bundled=False, **kw)


def test_second_invert_reuses_the_project_without_inverting(photo, G, tmp_path, monkeypatch):
    out = tmp_path / "proj"
    first = _invert(photo, G, out)
    assert not first.reused and first.note == "inverted"
    info = json.loads((out / "project.json").read_text())
    assert info["complete"] is True and list(info)[-1] == "complete"  # the marker is written last
    assert info["photo"]["sha256"] == info["key"]["photo_sha256"] and info["generator"]["fingerprint"]
    assert info["key"]["inversion_config"]["w_steps"] == 3 and info["package_version"]
    for name in ("aligned.png", "transform.json", "pivot.npz", "tuned.safetensors", "metrics.json"):
        assert (out / name).is_file(), name
    assert not list(out.glob(".*.tmp"))

    def boom(*a, **k):
        raise AssertionError("the inversion ran again")

    monkeypatch.setattr(pipeline, "invert", boom)
    second = _invert(photo, G, out)
    assert second.reused and "reused" in second.note
    np.testing.assert_array_equal(second.ws_pivot, first.ws_pivot)
    np.testing.assert_array_equal(second.crop, first.crop)
    with torch.no_grad():  # the tuned weights on disk render what the inversion left in memory
        ws = torch.from_numpy(first.ws_pivot)[None]
        a = first.G_tuned.synthesis(ws, noise_mode="const")
        b = second.G_tuned.synthesis(ws, noise_mode="const")
    assert torch.equal(a, b)
    crop, transform, ws_pivot, G_tuned = open_project(out, G)
    np.testing.assert_array_equal(crop, first.crop)
    assert G_tuned is not G and G_tuned.training is False
    np.testing.assert_array_equal(ws_pivot, first.ws_pivot)
    np.testing.assert_allclose(transform.crop_to_photo, first.transform.crop_to_photo)


def test_changed_photo_generator_or_config_is_redone(photo, G, tmp_path):
    out = tmp_path / "proj"
    _invert(photo, G, out)
    save_png(photo, render_toy_photo(4).rgb)  # same path, other content
    redone = _invert(photo, G, out)
    assert not redone.reused and "the photo changed" in redone.note
    again = _invert(
        photo, G, out, config=InversionConfig(w_steps=2, w_plus_steps=3, tune_steps=3, w_avg_samples=64)
    )
    assert not again.reused and "inversion settings differ" in again.note
    other = random_generator(img_resolution=32, seed=2).eval()
    with pytest.raises(ProjectError, match="another generator"):
        open_project(out, other)
    moved = _invert(photo, other, out)
    assert not moved.reused and "generator differs" in moved.note


def test_killed_inversion_leaves_no_complete_marker_and_restarts(photo, G, tmp_path, monkeypatch):
    out = tmp_path / "proj"
    real = pipeline.invert

    def killed(*a, **k):
        raise KeyboardInterrupt  # the process dies in the middle of the inversion

    monkeypatch.setattr(pipeline, "invert", killed)
    with pytest.raises(KeyboardInterrupt):
        _invert(photo, G, out)
    assert json.loads((out / "project.json").read_text())["complete"] is False
    assert not project.is_complete(out)
    with pytest.raises(ProjectError, match="did not finish"):
        open_project(out, G)
    monkeypatch.setattr(pipeline, "invert", real)
    again = _invert(photo, G, out)
    assert not again.reused and "did not finish" in again.note and project.is_complete(out)


def test_stopped_inversion_keeps_finished_stages_but_is_redone(photo, G, tmp_path):
    out = tmp_path / "proj"
    calls = {"n": 0}

    def stop_in_w_plus():  # should_stop is asked before every step: stop at the second stage's first
        calls["n"] += 1
        return calls["n"] > TINY.w_steps

    stopped = _invert(photo, G, out, should_stop=stop_in_w_plus)
    info = json.loads((out / "project.json").read_text())
    assert info["complete"] is False and info["stopped"] == "w_plus" and "w" in info["stages_done"]
    assert "stopped during stage w_plus" in stopped.note
    metrics = json.loads((out / "metrics.json").read_text())
    assert "psnr_w" in metrics  # the finished stage stays on disk
    redone = _invert(photo, G, out)
    assert not redone.reused and "stopped during stage w_plus" in redone.note and project.is_complete(out)


def test_damaged_project_is_a_one_line_error(photo, G, tmp_path):
    out = tmp_path / "proj"
    _invert(photo, G, out)
    (out / "pivot.npz").write_bytes(b"not a zip")
    with pytest.raises(ProjectError, match="damaged project"):
        open_project(out, G)
    with pytest.raises(ProjectError, match="not a photo project"):
        open_project(tmp_path / "nothing", G)
