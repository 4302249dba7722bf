"""FAN's differentiable read-out (`fan_soft_landmarks`): argmax on peaked maps, gradients reach the image."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autodrag.landmarks import fan

face_alignment = pytest.importorskip("face_alignment", reason="face-alignment is a declared dependency")


class _Peaks(torch.nn.Module):
    """Heatmaps with one peak per landmark at given (row, col) cells of the 64x64 grid."""

    def __init__(self, cells: np.ndarray) -> None:
        super().__init__()
        self.cells = cells

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        heatmaps = torch.zeros([x.shape[0], 68, 64, 64]) + 0 * x.mean()
        for k, (row, col) in enumerate(self.cells):
            heatmaps[:, k, row, col] = 1
        return heatmaps


@pytest.mark.parametrize("size", [(256, 256), (128, 96)])
def test_soft_argmax_equals_face_alignments_argmax_on_peaked_maps(size):
    from face_alignment.utils import get_preds_fromhm

    height, width = size
    cells = np.random.default_rng(0).integers(2, 62, (68, 2))
    net = _Peaks(cells)
    soft = fan.fan_soft_landmarks(net, torch.zeros(1, 3, height, width)).numpy()
    (cx, cy), side = fan.whole_image_crop(width, height)
    _, expected, _ = get_preds_fromhm(
        net(torch.zeros(1, 3, 256, 256)).numpy(), np.array([cx, cy]), side / 200
    )
    # face-alignment rounds its image points to whole pixels (int32): agree within that rounding
    np.testing.assert_allclose(soft, expected[0], atol=1.0)
    assert np.abs(soft - expected[0]).mean() < 0.75


def test_gradients_flow_to_the_image_through_a_random_weight_fan():
    from face_alignment.models import FAN

    torch.manual_seed(0)
    net = FAN(1).eval().requires_grad_(False)
    image = (torch.rand(1, 3, 64, 64) * 2 - 1).requires_grad_(True)
    points = fan.fan_soft_landmarks(net, image)
    assert points.shape == (68, 2) and torch.isfinite(points).all()
    points[:, 0].sum().backward()
    assert image.grad is not None and torch.isfinite(image.grad).all() and image.grad.abs().sum() > 0


def test_detector_exposes_it_as_detect_tensor(monkeypatch, tmp_path):
    """`FanDetector.detect_tensor` is the soft read-out on FAN's network; presets may guide with it."""
    from face_alignment.models import FAN

    cache = tmp_path / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(FAN(4).state_dict(), cache / "2DFAN4-11f355bf06.pth.tar")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    detector = fan.FanDetector(device="cpu", download=False)
    assert detector.differentiable
    cells = np.tile([[20, 40]], (68, 1))
    monkeypatch.setattr(detector._fa, "face_alignment_net", _Peaks(cells))
    image = np.zeros((64, 64, 3), np.uint8)
    hard = detector.detect(image)
    soft = detector.detect_tensor(torch.zeros(1, 3, 64, 64) - 1).numpy()
    np.testing.assert_allclose(soft, hard, atol=1.0)
