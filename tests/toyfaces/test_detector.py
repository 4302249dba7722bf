"""The bundled detector: accuracy on fresh renders, any image size, clear checkpoint errors."""

from __future__ import annotations

import numpy as np
import pytest

from autodrag.landmarks.base import available_detectors, create_detector
from autodrag.landmarks.heatmap_net import LandmarkCheckpointError
from autodrag.landmarks.measures import nme
from autodrag.landmarks.toy import ToyLandmarkDetector
from autodrag.toyfaces.render import RenderConfig, render_seed
from autodrag.toyfaces.train_landmarks import TEST_SEED_BASE

SEEDS = range(TEST_SEED_BASE, TEST_SEED_BASE + 12)


def test_nme_on_held_out_renders(bundled_detector):
    renders = [render_seed(s) for s in SEEDS]
    pred = bundled_detector.detect_many([r.image for r in renders])
    err = nme(pred, np.stack([r.landmarks for r in renders]))
    assert pred.shape == (12, 68, 2) and pred.dtype == np.float32
    assert err.mean() < 0.05, err


def test_other_sizes_are_resized(bundled_detector):
    r = render_seed(TEST_SEED_BASE + 100, RenderConfig(resolution=256))
    assert nme(bundled_detector.detect(r.image), r.landmarks) < 0.05


def test_registry_and_bad_image(bundled_detector):
    assert "toy" in available_detectors()
    assert isinstance(create_detector("toy"), ToyLandmarkDetector)
    with pytest.raises(KeyError, match="unknown landmark backend"):
        create_detector("nope")
    with pytest.raises(ValueError, match="RGB uint8"):
        bundled_detector.detect(np.zeros((64, 64), np.uint8))


def test_missing_and_corrupt_checkpoints(tmp_path, bundled_detector):
    with pytest.raises(LandmarkCheckpointError, match="missing"):
        ToyLandmarkDetector(tmp_path / "none.safetensors")
    from autodrag.paths import BUNDLED_LANDMARK_CHECKPOINT

    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    bad.with_suffix(".json").write_text(BUNDLED_LANDMARK_CHECKPOINT.with_suffix(".json").read_text())
    with pytest.raises(LandmarkCheckpointError, match="not a readable safetensors"):
        ToyLandmarkDetector(bad)


def test_bundled_error_says_how_to_restore(monkeypatch, tmp_path):
    from autodrag import paths
    from autodrag.landmarks import toy

    monkeypatch.setattr(paths, "BUNDLED_LANDMARK_CHECKPOINT", tmp_path / "gone.safetensors")
    with pytest.raises(LandmarkCheckpointError, match="git checkout .*train-landmarks"):
        toy.ToyLandmarkDetector()


def test_differentiable_read_out_matches_detect_and_has_gradients(bundled_detector):
    """`detect_tensor` gives `detect`'s landmarks on a synthesis-style tensor, with gradients to the pixels."""
    import torch

    image = render_seed(SEEDS[0]).image  # uint8 [128, 128, 3]
    x = (
        torch.from_numpy(np.asarray(image, dtype=np.float32)).permute(2, 0, 1)[None] / 127.5 - 1
    ).requires_grad_()
    found = bundled_detector.detect_tensor(x)
    np.testing.assert_allclose(found.detach().numpy(), bundled_detector.detect(image), atol=1e-3)
    found[36, 0].backward()  # an eye corner's x depends most on the pixels near that corner
    grad = x.grad.abs().sum(dim=(0, 1))
    cx, cy = [int(round(v)) for v in found[36].detach().tolist()]
    assert grad[cy - 4 : cy + 5, cx - 4 : cx + 5].mean() > 5 * grad[:, :16].mean() > 0
    assert bundled_detector.differentiable
