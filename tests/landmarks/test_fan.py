"""The face-alignment backend, exercised through the real package with random weights in a temp cache."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autodrag.landmarks import fan

face_alignment = pytest.importorskip("face_alignment", reason="face-alignment is a declared dependency")


@pytest.fixture(scope="module")
def torch_home(tmp_path_factory):
    """A TORCH_HOME whose hub cache holds FAN and SFD weights with random initialisation."""
    from face_alignment.detection.sfd.net_s3fd import s3fd
    from face_alignment.models import FAN

    home = tmp_path_factory.mktemp("torch_home")
    cache = home / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(FAN(4).state_dict(), cache / "2DFAN4-11f355bf06.pth.tar")
    torch.save(s3fd().state_dict(), cache / "s3fd-619a316812.pth")
    return home


@pytest.fixture(scope="module")
def detector(torch_home):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TORCH_HOME", str(torch_home))
        assert fan.weights_cache_dir() == torch_home / "hub" / "checkpoints"
        yield fan.FanDetector(device="cpu", download=False)


class _PeakHeatmaps(torch.nn.Module):
    """Stands in for FAN's network: every landmark's heatmap peaks at one (row, col) of the 64x64 grid."""

    def __init__(self, row: int, col: int) -> None:
        super().__init__()
        self.row, self.col = row, col

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        heatmaps = torch.zeros([x.shape[0], 68, 64, 64])
        heatmaps[:, :, self.row, self.col] = 1
        return heatmaps


def test_real_fan_forward_gives_68_points(detector):
    image = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    points = detector.detect(image)
    assert points.shape == (68, 2) and points.dtype == np.float32 and np.isfinite(points).all()


@pytest.mark.parametrize("row,col", [(16, 48), (48, 16)])
def test_points_are_x_then_y_in_image_pixels(detector, monkeypatch, row, col):
    """A heatmap peak right of and above the centre must come back as large x, small y (and vice versa)."""
    monkeypatch.setattr(detector._fa, "face_alignment_net", _PeakHeatmaps(row, col))
    monkeypatch.setattr(detector._fa, "flip_input", False)
    points = detector.detect(np.zeros((256, 256, 3), np.uint8))
    x, y = points[0]
    assert np.allclose(points, points[0])
    # whole-image box: the crop is centred on the image (shifted up by 12% of the box height)
    centre_x, centre_y = 127.5, 127.5 - 0.12 * 255
    assert np.sign(x - centre_x) == np.sign(col - 32) and np.sign(y - centre_y) == np.sign(row - 32)
    assert abs(abs(x - centre_x) - abs(y - centre_y)) < 10


def test_rgba_input_is_the_same_as_rgb(detector, monkeypatch):
    monkeypatch.setattr(detector._fa, "face_alignment_net", _PeakHeatmaps(20, 40))
    rgb = np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    rgba = np.concatenate([rgb, np.full((64, 64, 1), 255, np.uint8)], axis=2)
    np.testing.assert_array_equal(detector.detect(rgb), detector.detect(rgba))


def test_bad_image_is_rejected(detector):
    with pytest.raises(ValueError, match="RGB uint8"):
        detector.detect(np.zeros((32, 32), np.float32))


def test_missing_weights_name_the_files_and_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(fan.LandmarkWeightsMissing) as info:
        fan.FanDetector(device="cpu", download=False, use_face_detector=True)
    message = str(info.value)
    assert "2DFAN4-11f355bf06.pth.tar" in message and "s3fd-619a316812.pth" in message
    assert str(tmp_path / "hub" / "checkpoints") in message


def test_failed_download_is_a_clear_error_not_a_hang(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(url, timeout):
        raise fan.urllib.error.URLError("network unreachable")

    monkeypatch.setattr(fan.urllib.request, "urlopen", offline)
    with pytest.raises(fan.LandmarkWeightsMissing, match="download failed: .*network unreachable"):
        fan.FanDetector(device="cpu", download=True)


def test_sfd_face_detector_is_used_when_asked(torch_home, monkeypatch):
    """With SFD on, its boxes feed FAN, and finding no face is a clear error."""
    monkeypatch.setenv("TORCH_HOME", str(torch_home))
    det = fan.FanDetector(device="cpu", download=False, use_face_detector=True)
    assert type(det._fa.face_detector).__name__ == "SFDDetector"
    monkeypatch.setattr(det._fa, "face_alignment_net", _PeakHeatmaps(32, 32))
    monkeypatch.setattr(det._fa.face_detector, "detect_from_image", lambda image: [])
    with pytest.raises(fan.NoFaceFound, match="no face found in the 64x48 image"):
        det.detect(np.zeros((48, 64, 3), np.uint8))
    monkeypatch.setattr(
        det._fa.face_detector, "detect_from_image", lambda image: [np.array([10, 10, 40, 40, 0.99])]
    )
    points = det.detect(np.zeros((48, 64, 3), np.uint8))
    assert np.allclose(points, [25, 25 - 0.12 * 30], atol=3)
