"""2-D convolution with optional up/downsampling, as in NVIDIA's StyleGAN2/3 `conv2d_resample`.

The result equals: upfirdn2d(up, filter f, gain up**2) -> conv2d(w) -> upfirdn2d(filter f, down),
but the dispatch below picks a cheaper equivalent order (transposed conv for up > 1, strided conv for
down > 1, 1x1 shortcuts). The dispatch mirrors NVIDIA's exactly, because the order of operations
changes floating-point rounding and networks are compared against NVIDIA outputs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .upfirdn2d import Padding, _add, _down_padding, _parse_padding, _up_padding, upfirdn2d

__all__ = ["conv2d_resample"]


def _conv2d_wrapper(x, w, stride=1, padding=0, groups=1, transpose=False, flip_weight=True):
    """conv2d / conv_transpose2d; flip_weight=False means a true convolution (conv2d correlates)."""
    _, _, kh, kw = w.shape
    if not flip_weight and (kw > 1 or kh > 1):
        w = w.flip([2, 3])
    op = F.conv_transpose2d if transpose else F.conv2d
    return op(x, w, stride=stride, padding=padding, groups=groups)


def conv2d_resample(
    x: torch.Tensor,
    w: torch.Tensor,
    f: torch.Tensor | None = None,
    up: int = 1,
    down: int = 1,
    padding: Padding = 0,
    groups: int = 1,
    flip_weight: bool = True,
    flip_filter: bool = False,
    *,
    impl: str = "auto",
) -> torch.Tensor:
    """Convolve `x` with `w`, upsampling and/or downsampling with the FIR filter `f`.

    Args:
        x: input `[N, C_in, H, W]`.
        w: weight `[C_out, C_in // groups, kh, kw]`, same dtype as `x`.
        f: resampling filter from `setup_filter`, or None (box filter of size 1).
        up: integer upsampling factor.
        down: integer downsampling factor.
        padding: padding with respect to the upsampled image; int, [x, y] or [x0, x1, y0, y1].
        groups: conv2d groups.
        flip_weight: True = correlation (like conv2d), False = true convolution.
        flip_filter: passed to upfirdn2d.
        impl: 'auto', 'ref' or 'cuda', used for the upfirdn2d passes (keyword-only; not in NVIDIA's API).

    Returns:
        `[N, C_out, H', W']`.
    """
    assert isinstance(x, torch.Tensor) and x.ndim == 4, "x must be [N, C, H, W]"
    assert isinstance(w, torch.Tensor) and w.ndim == 4 and w.dtype == x.dtype, "w must be 4-D, dtype of x"
    assert f is None or (isinstance(f, torch.Tensor) and f.ndim in (1, 2) and f.is_floating_point())
    assert isinstance(up, int) and up >= 1
    assert isinstance(down, int) and down >= 1
    assert isinstance(groups, int) and groups >= 1
    out_channels, in_channels_per_group, kh, kw = (int(s) for s in w.shape)
    pad = _parse_padding(padding)

    # Extra padding that keeps the resampled image centred (same rule as upsample2d/downsample2d).
    if up > 1:
        pad = _add(pad, _up_padding(f, up, up))
    if down > 1:
        pad = _add(pad, _down_padding(f, down, down))
    px0, px1, py0, py1 = pad

    def fir(t, **kwargs):
        return upfirdn2d(t, flip_filter=flip_filter, impl=impl, **kwargs)

    def conv(t, w_, **kwargs):
        return _conv2d_wrapper(t, w_, groups=groups, flip_weight=flip_weight, **kwargs)

    # 1x1 kernel, downsampling only: downsample first, then convolve (fewer pixels to convolve).
    if kw == 1 and kh == 1 and (down > 1 and up == 1):
        x = fir(x, f=f, down=down, padding=[px0, px1, py0, py1])
        return conv(x, w)

    # 1x1 kernel, upsampling only: convolve first, then upsample.
    if kw == 1 and kh == 1 and (up > 1 and down == 1):
        x = conv(x, w)
        return fir(x, f=f, up=up, padding=[px0, px1, py0, py1], gain=up**2)

    # Downsampling only: filter, then strided convolution.
    if down > 1 and up == 1:
        x = fir(x, f=f, padding=[px0, px1, py0, py1])
        return conv(x, w, stride=down)

    # Upsampling (and maybe downsampling): transposed strided convolution, then filter.
    if up > 1:
        if groups == 1:
            w = w.transpose(0, 1)
        else:
            w = w.reshape(groups, out_channels // groups, in_channels_per_group, kh, kw)
            w = w.transpose(1, 2)
            w = w.reshape(groups * in_channels_per_group, out_channels // groups, kh, kw)
        px0 -= kw - 1
        px1 -= kw - up
        py0 -= kh - 1
        py1 -= kh - up
        pxt = max(min(-px0, -px1), 0)  # the part of the crop conv_transpose2d's padding can do
        pyt = max(min(-py0, -py1), 0)
        x = _conv2d_wrapper(
            x, w, stride=up, padding=[pyt, pxt], groups=groups, transpose=True, flip_weight=not flip_weight
        )
        x = fir(x, f=f, padding=[px0 + pxt, px1 + pxt, py0 + pyt, py1 + pyt], gain=up**2)
        if down > 1:
            x = fir(x, f=f, down=down)
        return x

    # No resampling and symmetric non-negative padding: conv2d pads by itself.
    if up == 1 and down == 1 and px0 == px1 and py0 == py1 and px0 >= 0 and py0 >= 0:
        return conv(x, w, padding=[py0, px0])

    # General case (up == down == 1 with asymmetric or negative padding).
    x = fir(x, f=(f if up > 1 else None), up=up, padding=[px0, px1, py0, py1], gain=up**2)
    x = conv(x, w)
    if down > 1:
        x = fir(x, f=f, down=down)
    return x
