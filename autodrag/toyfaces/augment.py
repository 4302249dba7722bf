"""Batched image + landmark augmentation for detector training (torch, CPU friendly).

Makes clean renders look like slightly off-manifold generator outputs: small affine and smooth
elastic warps (landmarks moved exactly / to first order), mirror with the iBUG-68 permutation,
colour jitter, blur, down-up resampling, noise and JPEG-like 8x8 DCT quantisation.
Images are float [N, 3, H, W] in [0, 1]; landmarks are (x, y) pixels, pixel centres at integers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from autodrag.landmarks.base import IBUG68_MIRROR

__all__ = ["AugmentConfig", "augment_batch"]


@dataclass(frozen=True)
class AugmentConfig:
    """Strength of each augmentation (each applied per sample with its probability)."""

    rotate_deg: float = 12.0  # max |extra rotation|
    scale: float = 0.1  # extra scale in [1 - scale, 1 + scale]
    shift_px: float = 6.0  # max |shift| in output pixels (at 128 px)
    aniso: float = 0.05  # max relative x/y stretch and shear
    elastic_px: float = 1.5  # amplitude of the smooth random displacement field
    p_mirror: float = 0.5  # horizontal flip with landmark permutation
    p_color: float = 0.9  # brightness / contrast / saturation / per-channel gain / gamma
    p_blur: float = 0.4  # Gaussian blur, sigma up to `max_blur`
    max_blur: float = 1.3  # pixels
    p_resample: float = 0.25  # downscale to 45-85% and back up
    p_noise: float = 0.5  # Gaussian noise, std up to `max_noise`
    max_noise: float = 0.04  # in [0, 1] image units
    p_jpeg: float = 0.35  # 8x8 DCT quantisation with a random quality step


def _affine(img: torch.Tensor, pts: torch.Tensor, cfg: AugmentConfig, g: torch.Generator) -> tuple:
    """Random similarity + slight anisotropy about the image centre, plus a smooth elastic field."""
    n, _, h, w = img.shape

    def rnd(*shape: int) -> torch.Tensor:  # uniform in [-1, 1]
        return torch.rand(*shape, generator=g) * 2.0 - 1.0

    ang = rnd(n) * math.radians(cfg.rotate_deg)
    sc = 1.0 + rnd(n) * cfg.scale
    a = torch.zeros(n, 2, 2)
    a[:, 0, 0], a[:, 0, 1] = torch.cos(ang), -torch.sin(ang)
    a[:, 1, 0], a[:, 1, 1] = torch.sin(ang), torch.cos(ang)
    stretch = torch.eye(2).expand(n, 2, 2) + rnd(n, 2, 2) * cfg.aniso
    a = sc[:, None, None] * a @ stretch  # forward map (pixels, about the centre)
    t = rnd(n, 2) * cfg.shift_px * (w / 128.0)
    center = torch.tensor([(w - 1) / 2.0, (h - 1) / 2.0])
    new_pts = (pts - center) @ a.transpose(1, 2) + center + t[:, None]
    # grid_sample needs the inverse map in normalised coordinates (align_corners=False).
    inv = torch.linalg.inv(a)
    norm = torch.tensor([w / 2.0, h / 2.0])
    theta = torch.zeros(n, 2, 3)
    theta[:, :, :2] = inv * (norm[None, None, :] / norm[None, :, None])
    theta[:, :, 2] = -(inv @ t[..., None])[..., 0] / norm
    grid = F.affine_grid(theta, [n, 3, h, w], align_corners=False)
    if cfg.elastic_px > 0:
        coarse = torch.randn(n, 2, 4, 4, generator=g) * cfg.elastic_px
        field = F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=True)  # pixels [N, 2, H, W]
        grid = grid + field.permute(0, 2, 3, 1) / norm
        # Output o samples T^-1(o) + d(o), so a landmark q lands at T(q - d) = T(q) - A d (first order).
        lx = (new_pts[..., 0] / (w - 1) * 2 - 1).clamp(-1, 1)
        ly = (new_pts[..., 1] / (h - 1) * 2 - 1).clamp(-1, 1)
        d = F.grid_sample(field, torch.stack([lx, ly], -1)[:, :, None], align_corners=True)[..., 0]
        new_pts = new_pts - d.permute(0, 2, 1) @ a.transpose(1, 2)
    out = F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return out, new_pts


def _mirror(img: torch.Tensor, pts: torch.Tensor, mask: torch.Tensor) -> tuple:
    w = img.shape[-1]
    flipped_pts = pts[:, IBUG68_MIRROR].clone()
    flipped_pts[..., 0] = (w - 1) - flipped_pts[..., 0]
    img = torch.where(mask[:, None, None, None], img.flip(-1), img)
    pts = torch.where(mask[:, None, None], flipped_pts, pts)
    return img, pts


def _color(img: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    n = img.shape[0]

    def u(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=g)

    gray = img.mean(dim=1, keepdim=True)
    img = gray + (img - gray) * (0.6 + 0.8 * u(n, 1, 1, 1))  # saturation
    img = img * (0.85 + 0.3 * u(n, 3, 1, 1))  # per-channel gain (white balance)
    mean = img.mean(dim=(1, 2, 3), keepdim=True)
    img = (
        mean + (img - mean) * (0.7 + 0.6 * u(n, 1, 1, 1)) + (u(n, 1, 1, 1) - 0.5) * 0.2
    )  # contrast, brightness
    return img.clamp(0, 1) ** (0.75 + 0.5 * u(n, 1, 1, 1))  # gamma


def _blur(img: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Per-sample separable Gaussian blur, sigma [N] in pixels (0 = identity)."""
    n, c, h, w = img.shape
    r = 3
    x = torch.arange(-r, r + 1, dtype=img.dtype)
    k = torch.exp(-0.5 * (x[None] / sigma.clamp(min=1e-3)[:, None]) ** 2)
    k = k / k.sum(dim=1, keepdim=True)  # [N, 2r+1]
    k = k.repeat_interleave(c, dim=0)  # [N*C, 2r+1]
    y = img.reshape(1, n * c, h, w)
    y = F.conv2d(F.pad(y, (r, r, 0, 0), mode="replicate"), k[:, None, None, :], groups=n * c)
    y = F.conv2d(F.pad(y, (0, 0, r, r), mode="replicate"), k[:, None, :, None], groups=n * c)
    return y.reshape(n, c, h, w)


def _dct_matrix(size: int = 8) -> torch.Tensor:
    i = torch.arange(size, dtype=torch.float32)
    m = torch.cos(math.pi * (2 * i[None] + 1) * i[:, None] / (2 * size)) * math.sqrt(2.0 / size)
    m[0] /= math.sqrt(2.0)
    return m  # orthonormal DCT-II, rows = frequencies


_DCT = _dct_matrix()
_FREQ = (torch.arange(8)[:, None] + torch.arange(8)[None]).float()  # coarse JPEG-like step growth


def _jpeg_like(img: torch.Tensor, quality: torch.Tensor) -> torch.Tensor:
    """Quantise 8x8 DCT blocks of YCbCr; quality [N] in (0, 1], lower = blockier."""
    n, c, h, w = img.shape
    m = torch.tensor([[0.299, 0.587, 0.114], [-0.169, -0.331, 0.5], [0.5, -0.419, -0.081]])
    ycc = torch.einsum("ij,njhw->nihw", m, img)
    blocks = ycc.reshape(n, c, h // 8, 8, w // 8, 8).permute(0, 1, 2, 4, 3, 5)  # [N,C,H/8,W/8,8,8]
    coef = _DCT @ blocks @ _DCT.T
    step = (1.0 + _FREQ) * (0.004 + 0.03 * (1.0 - quality))[:, None, None, None, None, None]
    step = step * torch.tensor([1.0, 2.0, 2.0])[None, :, None, None, None, None]
    coef = torch.round(coef / step) * step
    blocks = _DCT.T @ coef @ _DCT
    ycc = blocks.permute(0, 1, 2, 4, 3, 5).reshape(n, c, h, w)
    return torch.einsum("ij,njhw->nihw", torch.linalg.inv(m), ycc)


def _choose(n: int, p: float, g: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=g) < p


def augment_batch(img: torch.Tensor, pts: torch.Tensor, cfg: AugmentConfig, g: torch.Generator) -> tuple:
    """Augment a batch.

    Args:
        img: float [N, 3, H, W] in [0, 1] (H, W multiples of 8).
        pts: float [N, 68, 2] (x, y) pixels.
        cfg: strengths.
        g: random generator (CPU), for reproducible runs.
    Returns:
        (images float [N, 3, H, W] in [0, 1], landmarks [N, 68, 2]).
    """
    n = img.shape[0]
    img, pts = _affine(img, pts, cfg, g)
    img, pts = _mirror(img, pts, _choose(n, cfg.p_mirror, g))
    sel = _choose(n, cfg.p_color, g)
    img = torch.where(sel[:, None, None, None], _color(img, g), img)
    sel = _choose(n, cfg.p_resample, g)
    if sel.any():
        h = img.shape[-1]
        size = int(h * (0.45 + 0.4 * float(torch.rand(1, generator=g))))
        small = F.interpolate(
            img[sel], size=(size, size), mode="bilinear", antialias=True, align_corners=False
        )
        img[sel] = F.interpolate(small, size=(h, h), mode="bilinear", align_corners=False)
    sigma = torch.rand(n, generator=g) * cfg.max_blur * _choose(n, cfg.p_blur, g)
    if (sigma > 0).any():
        img = torch.where((sigma > 0)[:, None, None, None], _blur(img, sigma), img)
    noise = (
        torch.rand(n, 1, 1, 1, generator=g) * cfg.max_noise * _choose(n, cfg.p_noise, g)[:, None, None, None]
    )
    img = img + noise * torch.randn(img.shape, generator=g)
    sel = _choose(n, cfg.p_jpeg, g)
    if sel.any():
        img[sel] = _jpeg_like(img[sel].clamp(0, 1), torch.rand(int(sel.sum()), generator=g))
    return img.clamp(0, 1), pts
