"""Reconstruction losses: the LPIPS file found exactly where dnnlib caches it, the fallback, MS-SSIM."""

from __future__ import annotations

import hashlib
import re
import warnings

import numpy as np
import pytest
import torch

from autodrag.photos.perceptual import (
    VGG16_URL,
    PerceptualLossError,
    dnnlib_cache_dir,
    find_vgg16,
    make_loss,
    ms_ssim,
    ms_ssim_scales,
    psnr,
    ssim,
)


class _Vgg16StandIn(torch.nn.Module):
    """Random-weight module with NVIDIA's vgg16.pt call signature (features whose squared distance is LPIPS)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, stride=2)

    def forward(
        self, img: torch.Tensor, resize_images: bool = True, return_lpips: bool = False
    ) -> torch.Tensor:
        f = torch.relu(self.conv(img / 255.0))
        f = f / (f.square().sum(dim=1, keepdim=True).sqrt() + 1e-8)
        return f.flatten(1) / f.shape[2]


def _nvidia_cache_file(cache_dir) -> object:
    """The name dnnlib.util.open_url gives the download: <md5(url)>_<url with [^0-9a-zA-Z-._] -> '_'>."""
    md5 = hashlib.md5(VGG16_URL.encode("utf-8")).hexdigest()
    return cache_dir / "downloads" / f"{md5}_{re.sub(r'[^0-9a-zA-Z-._]', '_', VGG16_URL)}"


@pytest.fixture()
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DNNLIB_CACHE_DIR", str(tmp_path / "dnnlib"))
    return tmp_path / "dnnlib"


def _images(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    a = torch.rand([1, 3, 64, 64], generator=g) * 2 - 1
    return a, (a + 0.3 * torch.randn([1, 3, 64, 64], generator=g)).clamp(-1, 1)


def test_cache_dir_rule(monkeypatch, tmp_path):
    monkeypatch.delenv("DNNLIB_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert dnnlib_cache_dir() == tmp_path / ".cache" / "dnnlib"
    monkeypatch.setenv("DNNLIB_CACHE_DIR", str(tmp_path / "x"))
    assert dnnlib_cache_dir() == tmp_path / "x"


def test_lpips_stand_in_at_the_dnnlib_path_is_found_and_used(cache_dir):
    path = _nvidia_cache_file(cache_dir)
    path.parent.mkdir(parents=True)
    torch.manual_seed(1)
    with warnings.catch_warnings():  # torch 2.13 deprecates TorchScript; NVIDIA's file is TorchScript
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(_Vgg16StandIn()).save(str(path))
    assert find_vgg16() == path
    loss = make_loss("auto")
    assert loss.name == "lpips" and make_loss("lpips").name == "lpips"
    a, b = _images()
    expected = (loss.vgg16((a + 1) * 127.5) - loss.vgg16((b + 1) * 127.5)).square().sum()
    image = b.clone().requires_grad_(True)
    value = loss(image, a)
    assert float(value.detach()) == pytest.approx(float(expected), rel=1e-5) and float(value.detach()) > 0
    assert float(loss(a, a)) == pytest.approx(0.0, abs=1e-10)
    value.backward()
    assert image.grad is not None and image.grad.abs().sum() > 0


def test_absent_file_falls_back_and_lpips_asks_for_it(cache_dir):
    assert find_vgg16() is None
    assert make_loss("auto").name == "msssim_l1"
    with pytest.raises(PerceptualLossError, match="vgg16.pt") as info:
        make_loss("lpips")
    assert "\n" not in str(info.value)
    with pytest.raises(PerceptualLossError, match="loss kind"):
        make_loss("vgg")


def test_corrupt_file_is_a_one_line_error_naming_it(cache_dir):
    path = _nvidia_cache_file(cache_dir)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a torchscript archive" * 10)
    with pytest.raises(PerceptualLossError) as info:
        make_loss("auto")
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_ms_ssim_and_metrics_order_degradations():
    a, b = _images()
    x, y = (a + 1) / 2, (b + 1) / 2
    assert float(ms_ssim(x, x)) == pytest.approx(1.0, abs=1e-5)
    mild = (x + 0.05 * (y - x)).clamp(0, 1)
    assert 1.0 > float(ms_ssim(x, mild)) > float(ms_ssim(x, y))
    assert ms_ssim_scales(128) == 4 and ms_ssim_scales(256) == 5 and ms_ssim_scales(16) == 1
    loss = make_loss("msssim_l1")
    assert float(loss(a, a)) == pytest.approx(0.0, abs=1e-5) and float(loss(b, a)) > float(
        loss(mild * 2 - 1, a)
    )
    u8 = lambda t: (t[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    assert psnr(u8(x), u8(x)) == float("inf") and psnr(u8(x), u8(mild)) > psnr(u8(x), u8(y))
    assert ssim(u8(x), u8(x)) == pytest.approx(1.0, abs=1e-5) and ssim(u8(x), u8(mild)) > ssim(u8(x), u8(y))
