"""Reconstruction losses for inversion: LPIPS-VGG16 (NVIDIA's TorchScript file, when cached), MS-SSIM + L1, L2.

LPIPS needs NVIDIA's `vgg16.pt` in the dnnlib download cache (where stylegan2-ada-pytorch's
`dnnlib.util.open_url` puts it: `<cache>/downloads/<md5 of the url>_<sanitised name>`). Nothing is ever
downloaded here; without the file, `make_loss("auto")` falls back to MS-SSIM + L1 (chosen by measurement
against plain L2: see `scripts/bench_invert.py --compare-losses`).
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "LOSS_KINDS",
    "VGG16_URL",
    "L2Loss",
    "LpipsLoss",
    "MsSsimL1Loss",
    "PerceptualLossError",
    "ReconstructionLoss",
    "dnnlib_cache_dir",
    "find_vgg16",
    "make_loss",
    "ms_ssim",
    "psnr",
    "ssim",
]

VGG16_URL = "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/vgg16.pt"
LOSS_KINDS = ("auto", "lpips", "msssim_l1", "l2")


class PerceptualLossError(RuntimeError):
    """The requested loss cannot be built (missing or unreadable network file, unknown kind)."""


def dnnlib_cache_dir() -> Path:
    """dnnlib's `make_cache_dir_path()`: $DNNLIB_CACHE_DIR, else ~/.cache/dnnlib ($HOME, then $USERPROFILE),
    else <tempdir>/.cache/dnnlib."""
    if "DNNLIB_CACHE_DIR" in os.environ:
        return Path(os.environ["DNNLIB_CACHE_DIR"])
    for var in ("HOME", "USERPROFILE"):
        if var in os.environ:
            return Path(os.environ[var]) / ".cache" / "dnnlib"
    return Path(tempfile.gettempdir()) / ".cache" / "dnnlib"


def find_vgg16(url: str = VGG16_URL) -> Path | None:
    """The cached `vgg16.pt` as `open_url` finds it: exactly one `downloads/<md5(url)>_*` file, else None."""
    md5 = hashlib.md5(url.encode("utf-8")).hexdigest()
    matches = sorted((dnnlib_cache_dir() / "downloads").glob(md5 + "_*"))
    return matches[0] if len(matches) == 1 else None  # open_url re-downloads on 0 or several matches


class ReconstructionLoss(torch.nn.Module):
    """`loss(image, target) -> scalar` for images [1, 3, R, R] in [-1, 1]; `name` says which loss it is."""

    name = ""

    def forward(self, image: torch.Tensor, target: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError


class L2Loss(ReconstructionLoss):
    """Mean squared error in [-1, 1] units."""

    name = "l2"

    def forward(self, image: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (image - target).square().mean()


class LpipsLoss(ReconstructionLoss):
    """Squared distance of NVIDIA's LPIPS-VGG16 features, as NVIDIA's projector computes it.

    Images go in as [0, 255]; larger than 256 px they are area-downsampled to 256 first. The target's
    features are cached (the target does not change during an inversion).
    """

    name = "lpips"

    def __init__(self, vgg16: torch.nn.Module) -> None:
        super().__init__()
        self.vgg16 = vgg16
        self._cache: tuple[tuple, torch.Tensor] | None = None

    def features(self, image: torch.Tensor) -> torch.Tensor:
        x = (image.to(torch.float32) + 1) * (255 / 2)
        if x.shape[2] > 256:
            x = F.interpolate(x, size=(256, 256), mode="area")
        return self.vgg16(x, resize_images=False, return_lpips=True)

    def forward(self, image: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        key = (target.data_ptr(), target._version, tuple(target.shape), target.device)
        if self._cache is None or self._cache[0] != key:
            with torch.no_grad():
                self._cache = (key, self.features(target.detach()))
        return (self.features(image) - self._cache[1]).square().sum()


def _gaussian_window(size: int = 11, sigma: float = 1.5, device: torch.device | str = "cpu") -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float32, device=device) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def _ssim_terms(a: torch.Tensor, b: torch.Tensor, window: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image mean SSIM luminance*structure and contrast*structure terms of [N, C, H, W] images in [0, 1]."""
    c1, c2 = 0.01**2, 0.03**2
    channels = a.shape[1]
    kx = window.view(1, 1, 1, -1).repeat(channels, 1, 1, 1)
    ky = window.view(1, 1, -1, 1).repeat(channels, 1, 1, 1)

    def blur(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.conv2d(x, kx, groups=channels), ky, groups=channels)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a.square()
    var_b = blur(b * b) - mu_b.square()
    cov = blur(a * b) - mu_a * mu_b
    cs = (2 * cov + c2) / (var_a + var_b + c2)
    lum = (2 * mu_a * mu_b + c1) / (mu_a.square() + mu_b.square() + c1)
    return (lum * cs).flatten(1).mean(1), cs.flatten(1).mean(1)


MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)  # Wang et al. 2003


def ms_ssim_scales(resolution: int, window: int = 11) -> int:
    """How many MS-SSIM scales fit: the coarsest is at least 16 px (>= window + 5), at most 5 (128 px: 4)."""
    return max(1, min(len(MS_SSIM_WEIGHTS), int(math.log2(max(resolution, window + 5) / 16)) + 1))


def ms_ssim(a: torch.Tensor, b: torch.Tensor, scales: int | None = None) -> torch.Tensor:
    """Mean MS-SSIM of [N, C, H, W] images in [0, 1] (contrast terms clamped at 0 for stable gradients)."""
    scales = scales or ms_ssim_scales(min(a.shape[-2:]))
    weights = torch.tensor(MS_SSIM_WEIGHTS[:scales], device=a.device)
    weights = weights / weights.sum()
    window = _gaussian_window(device=a.device)
    values = []
    for i in range(scales):
        full, cs = _ssim_terms(a, b, window)
        values.append((full if i == scales - 1 else cs).clamp_min(1e-6))
        if i < scales - 1:
            a, b = F.avg_pool2d(a, 2), F.avg_pool2d(b, 2)
    stacked = torch.stack(values, dim=-1)  # [N, scales]
    return torch.prod(stacked**weights, dim=-1).mean()


class MsSsimL1Loss(ReconstructionLoss):
    """alpha * (1 - MS-SSIM) + (1 - alpha) * L1, on [0, 1] images (Zhao et al. 2017 mix, alpha 0.84)."""

    name = "msssim_l1"

    def __init__(self, alpha: float = 0.84) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, image: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        a, b = (image + 1) / 2, (target + 1) / 2
        return self.alpha * (1 - ms_ssim(a, b)) + (1 - self.alpha) * (a - b).abs().mean()


def _load_vgg16(path: Path, device: torch.device | str) -> torch.nn.Module:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore", DeprecationWarning
            )  # torch 2.13 deprecates TorchScript; NVIDIA ships it
            module = torch.jit.load(str(path), map_location=device)
    except Exception as exc:  # TorchScript raises RuntimeError/ValueError/zip errors for damaged files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PerceptualLossError(
            f"{path}: not a readable TorchScript vgg16.pt ({first}); delete it "
            "or replace it with NVIDIA's file"
        ) from None
    for p in module.parameters():
        p.requires_grad_(False)
    return module.eval()


def make_loss(kind: str = "auto", device: torch.device | str = "cpu") -> ReconstructionLoss:
    """The reconstruction loss `kind`: 'lpips' (needs the cached vgg16.pt), 'msssim_l1', 'l2', or 'auto'
    (LPIPS when the file is cached, else MS-SSIM + L1).

    Raises:
        PerceptualLossError: unknown kind, 'lpips' without the file, or an unreadable file.
    """
    if kind not in LOSS_KINDS:
        raise PerceptualLossError(f"loss kind must be one of {', '.join(LOSS_KINDS)}, got {kind!r}")
    if kind in ("auto", "lpips"):
        path = find_vgg16()
        if path is not None:
            return LpipsLoss(_load_vgg16(path, device)).to(device)
        if kind == "lpips":
            md5 = hashlib.md5(VGG16_URL.encode("utf-8")).hexdigest()
            raise PerceptualLossError(
                f"LPIPS needs NVIDIA's vgg16.pt at {dnnlib_cache_dir() / 'downloads'}/"
                f"{md5}_* (from {VGG16_URL}); nothing is downloaded here"
            )
    if kind == "l2":
        return L2Loss().to(device)
    return MsSsimL1Loss().to(device)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 images (inf when identical)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * math.log10(255.0**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Single-scale SSIM (11 px Gaussian window, sigma 1.5, valid region) of two uint8 [H, W, C] images."""
    ta = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32) / 255).permute(2, 0, 1)[None]
    tb = torch.from_numpy(np.ascontiguousarray(b, dtype=np.float32) / 255).permute(2, 0, 1)[None]
    with torch.no_grad():
        return float(_ssim_terms(ta, tb, _gaussian_window())[0][0])
