"""Filtered leaky ReLU of StyleGAN3: bias, upsample, leaky ReLU, clamp, downsample.

There is no dedicated fused kernel: on CUDA tensors (impl='auto'/'cuda') the steps run with the
`bias_act` and `upfirdn2d` kernels; impl='ref' runs every step with the reference implementations.
Both follow NVIDIA's reference composition exactly.
"""

from __future__ import annotations

import math

import torch

from . import _build
from .bias_act import bias_act
from .upfirdn2d import Padding, _get_filter_size, _parse_padding, upfirdn2d

__all__ = ["filtered_lrelu"]


def filtered_lrelu(
    x: torch.Tensor,
    fu: torch.Tensor | None = None,
    fd: torch.Tensor | None = None,
    b: torch.Tensor | None = None,
    up: int = 1,
    down: int = 1,
    padding: Padding = 0,
    gain: float = math.sqrt(2),
    slope: float = 0.2,
    clamp: float | None = None,
    flip_filter: bool = False,
    impl: str = "auto",
) -> torch.Tensor:
    """Compute `down(fd, lrelu_clamped(up(fu, x + b)))`.

    Steps: add bias `b` along channels; `upfirdn2d(up=up, f=fu, padding=padding, gain=up**2)`;
    leaky ReLU with `slope`, times `gain`, clamped to [-clamp, clamp]; `upfirdn2d(down=down, f=fd)`.

    Args:
        x: input `[N, C, H, W]`.
        fu: upsampling filter (`[fh, fw]` or separable `[fw]`), None = identity.
        fd: downsampling filter, None = identity.
        b: bias `[C]`, same dtype as `x`, or None.
        up: integer upsampling factor.
        down: integer downsampling factor.
        padding: padding of the upsampled image; int, [x, y] or [x0, x1, y0, y1].
        gain: scale after the leaky ReLU (> 0).
        slope: leaky ReLU slope for negative inputs (>= 0).
        clamp: clamp after gain; None = no clamp.
        flip_filter: passed to both upfirdn2d passes.
        impl: 'auto', 'ref' or 'cuda' (the latter two apply to every step).

    Returns:
        `[N, C, (H * up + px0 + px1 - (fu_w - 1) - (fd_w - 1) + down - 1) // down, ...]`.
    """
    assert isinstance(x, torch.Tensor) and x.ndim == 4, "x must be [N, C, H, W]"
    _build.select_impl(impl, x)  # validate impl before doing any work
    fu_w, fu_h = _get_filter_size(fu)
    fd_w, fd_h = _get_filter_size(fd)
    if b is not None:
        assert isinstance(b, torch.Tensor) and b.dtype == x.dtype and b.shape == (x.shape[1],)
    assert isinstance(up, int) and up >= 1
    assert isinstance(down, int) and down >= 1
    px0, px1, py0, py1 = _parse_padding(padding)
    assert gain == float(gain) and gain > 0
    assert slope == float(slope) and slope >= 0
    assert clamp is None or (clamp == float(clamp) and clamp >= 0)

    n, c, in_h, in_w = x.shape
    out_w = (in_w * up + (px0 + px1) - (fu_w - 1) - (fd_w - 1) + (down - 1)) // down
    out_h = (in_h * up + (py0 + py1) - (fu_h - 1) - (fd_h - 1) + (down - 1)) // down
    in_dtype = x.dtype

    x = bias_act(x, b, impl=impl)
    x = upfirdn2d(x, fu, up=up, padding=[px0, px1, py0, py1], gain=up**2, flip_filter=flip_filter, impl=impl)
    x = bias_act(x, act="lrelu", alpha=slope, gain=gain, clamp=clamp, impl=impl)
    x = upfirdn2d(x, fd, down=down, flip_filter=flip_filter, impl=impl)

    assert x.shape == (n, c, out_h, out_w) and x.dtype == in_dtype
    return x
