"""Upsample, FIR-filter and downsample 2-D images (`upfirdn2d`), as in NVIDIA's StyleGAN2/3.

The op, in order: insert `up - 1` zeros after every input sample, pad (negative padding crops),
convolve with the filter `f` (a true convolution unless `flip_filter`), keep every `down`-th sample.
`filter2d`, `upsample2d` and `downsample2d` only choose the padding that keeps images centred.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from . import _build

__all__ = ["downsample2d", "filter2d", "setup_filter", "upfirdn2d", "upsample2d"]

Scaling = int | Sequence[int]  # s, or [sx, sy]
Padding = int | Sequence[int]  # p, [px, py], or [px0, px1, py0, py1]


def _parse_scaling(scaling: Scaling) -> tuple[int, int]:
    """int or [x, y] -> (sx, sy), both >= 1."""
    if isinstance(scaling, int):
        scaling = [scaling, scaling]
    assert isinstance(scaling, (list, tuple)) and len(scaling) == 2, f"bad scaling {scaling!r}"
    assert all(isinstance(s, int) for s in scaling), f"scaling must be integers, got {scaling!r}"
    sx, sy = scaling
    assert sx >= 1 and sy >= 1, f"scaling must be >= 1, got {scaling!r}"
    return sx, sy


def _parse_padding(padding: Padding) -> tuple[int, int, int, int]:
    """int, [x, y] or [x0, x1, y0, y1] -> (px0, px1, py0, py1)."""
    if isinstance(padding, int):
        padding = [padding, padding]
    assert isinstance(padding, (list, tuple)) and len(padding) in (2, 4), f"bad padding {padding!r}"
    assert all(isinstance(p, int) for p in padding), f"padding must be integers, got {padding!r}"
    if len(padding) == 2:
        px, py = padding
        padding = [px, px, py, py]
    px0, px1, py0, py1 = padding
    return px0, px1, py0, py1


def _get_filter_size(f: torch.Tensor | None) -> tuple[int, int]:
    """(fw, fh) of a 1-D (separable, same taps on both axes) or 2-D `[fh, fw]` filter; None is 1x1."""
    if f is None:
        return 1, 1
    assert isinstance(f, torch.Tensor) and f.ndim in (1, 2), "filter must be a 1-D or 2-D tensor"
    fw = int(f.shape[-1])
    fh = int(f.shape[0])
    assert fw >= 1 and fh >= 1
    return fw, fh


def _up_padding(f: torch.Tensor | None, upx: int, upy: int) -> tuple[int, int, int, int]:
    """Padding that keeps an image centred when upsampling by (upx, upy) with filter f."""
    fw, fh = _get_filter_size(f)
    return (fw + upx - 1) // 2, (fw - upx) // 2, (fh + upy - 1) // 2, (fh - upy) // 2


def _down_padding(f: torch.Tensor | None, downx: int, downy: int) -> tuple[int, int, int, int]:
    """Padding that keeps an image centred when downsampling by (downx, downy) with filter f."""
    fw, fh = _get_filter_size(f)
    return (fw - downx + 1) // 2, (fw - downx) // 2, (fh - downy + 1) // 2, (fh - downy) // 2


def _add(a: Sequence[int], b: Sequence[int]) -> list[int]:
    return [i + j for i, j in zip(a, b, strict=True)]


def setup_filter(
    f,
    device: torch.device = torch.device("cpu"),
    normalize: bool = True,
    flip_filter: bool = False,
    gain: float = 1,
    separable: bool | None = None,
) -> torch.Tensor:
    """Turn filter taps into the float32 tensor the ops expect.

    Args:
        f: taps: None (= [1]), a scalar, a 1-D or a 2-D array-like.
        device: where to put the result.
        normalize: divide by the sum of the taps (of the outer product for 2-D use).
        flip_filter: flip the taps (along both axes).
        gain: overall gain; a separable filter gets gain**0.5 per axis.
        separable: keep a 1-D filter separable; None = only when it has >= 8 taps. A non-separable
            1-D filter becomes its outer product.

    Returns:
        float32 tensor, `[fw]` (separable) or `[fh, fw]`.
    """
    if f is None:
        f = 1
    f = torch.as_tensor(f, dtype=torch.float32)
    assert f.ndim in (0, 1, 2) and f.numel() > 0
    if f.ndim == 0:
        f = f[np.newaxis]
    if separable is None:
        separable = f.ndim == 1 and f.numel() >= 8
    if f.ndim == 1 and not separable:
        f = torch.outer(f, f)
    assert f.ndim == (1 if separable else 2)
    if normalize:
        f = f / f.sum()
    if flip_filter:
        f = f.flip(list(range(f.ndim)))
    f = f * (gain ** (f.ndim / 2))
    return f.to(device=device)


def upfirdn2d(
    x: torch.Tensor,
    f: torch.Tensor | None,
    up: Scaling = 1,
    down: Scaling = 1,
    padding: Padding = 0,
    flip_filter: bool = False,
    gain: float = 1,
    impl: str = "auto",
) -> torch.Tensor:
    """Upsample (zero insertion), pad, FIR-filter and downsample a batch of images.

    Args:
        x: input `[N, C, H, W]`.
        f: filter from `setup_filter` (`[fh, fw]`, separable `[fw]`, or None for identity).
            Must not require grad.
        up: integer upsampling factor, int or [x, y].
        down: integer downsampling factor, int or [x, y].
        padding: applied after upsampling; int, [x, y] or [x0, x1, y0, y1]; negative crops.
        flip_filter: False = convolution (the taps are flipped), True = correlation.
        gain: overall scale of the filter.
        impl: 'auto', 'ref' or 'cuda'.

    Returns:
        `[N, C, (H * up_y + py0 + py1 - fh) // down_y + 1, (W * up_x + px0 + px1 - fw) // down_x + 1]`.
    """
    assert isinstance(x, torch.Tensor) and x.ndim == 4, "x must be [N, C, H, W]"
    upx, upy = _parse_scaling(up)
    downx, downy = _parse_scaling(down)
    pad = _parse_padding(padding)
    if f is not None:
        assert isinstance(f, torch.Tensor) and f.ndim in (1, 2) and f.is_floating_point()
        assert not f.requires_grad, "filters are constants; gradients w.r.t. f are not computed"
    if _build.select_impl(impl, x) == "cuda":
        return _Upfirdn2dCuda.apply(x, f, (upx, upy), (downx, downy), pad, flip_filter, gain)
    return _upfirdn2d_ref(x, f, (upx, upy), (downx, downy), pad, flip_filter, gain)


def _upfirdn2d_ref(x, f, up: tuple[int, int], down: tuple[int, int], pad, flip_filter: bool, gain: float):
    """Plain PyTorch on parsed arguments; differentiable to any order by autograd."""
    if f is None:
        f = torch.ones([1, 1], dtype=torch.float32, device=x.device)
    n, c, h, w = x.shape
    (upx, upy), (downx, downy) = up, down
    px0, px1, py0, py1 = pad
    assert w * upx + px0 + px1 >= f.shape[-1] and h * upy + py0 + py1 >= f.shape[0], (
        "upsampled and padded input is smaller than the filter"
    )

    # Zero insertion: each sample becomes the top-left corner of an up_y x up_x block.
    x = x.reshape([n, c, h, 1, w, 1])
    x = F.pad(x, [0, upx - 1, 0, 0, 0, upy - 1])
    x = x.reshape([n, c, h * upy, w * upx])

    # Pad, then crop for negative padding.
    x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    x = x[:, :, max(-py0, 0) : x.shape[2] - max(-py1, 0), max(-px0, 0) : x.shape[3] - max(-px1, 0)]

    # conv2d correlates, so flipping the taps makes it a convolution.
    # Gain in the wider of the two dtypes: NVIDIA's float32 for float32/16 inputs, exact for float64.
    f = (f.to(torch.promote_types(f.dtype, x.dtype)) * (gain ** (f.ndim / 2))).to(x.dtype)
    if not flip_filter:
        f = f.flip(list(range(f.ndim)))
    f = f[np.newaxis, np.newaxis].repeat([c, 1] + [1] * f.ndim)
    if f.ndim == 4:
        x = F.conv2d(x, f, groups=c)
    else:
        x = F.conv2d(x, f.unsqueeze(2), groups=c)  # along x
        x = F.conv2d(x, f.unsqueeze(3), groups=c)  # along y
    return x[:, :, ::downy, ::downx]


class _Upfirdn2dCuda(torch.autograd.Function):
    """Kernel forward; the backward is upfirdn2d again with up/down swapped (so it nests)."""

    @staticmethod
    def forward(ctx, x, f, up, down, pad, flip_filter, gain):
        plugin = _build.get_plugin()
        if f is None:
            f = torch.ones([1, 1], dtype=torch.float32, device=x.device)
        if f.ndim == 1 and f.shape[0] == 1:
            f = f.square().unsqueeze(0)  # a 1-tap separable filter is a 1x1 filter
        (upx, upy), (downx, downy) = up, down
        px0, px1, py0, py1 = pad
        if f.ndim == 2:
            y = plugin.upfirdn2d(x, f, upx, upy, downx, downy, px0, px1, py0, py1, flip_filter, gain)
        else:
            y = plugin.upfirdn2d(x, f.unsqueeze(0), upx, 1, downx, 1, px0, px1, 0, 0, flip_filter, 1.0)
            y = plugin.upfirdn2d(y, f.unsqueeze(1), 1, upy, 1, downy, 0, 0, py0, py1, flip_filter, gain)
        ctx.save_for_backward(f)
        ctx.args = (x.shape, up, down, pad, flip_filter, gain)
        return y

    @staticmethod
    def backward(ctx, dy):
        (f,) = ctx.saved_tensors
        x_shape, up, down, pad, flip_filter, gain = ctx.args
        dx = None
        if ctx.needs_input_grad[0]:
            pad_t = _transpose_padding(x_shape, dy.shape, f, up, down, pad)
            dx = _Upfirdn2dCuda.apply(dy, f, down, up, pad_t, not flip_filter, gain)
        return dx, None, None, None, None, None, None


def _transpose_padding(x_shape, y_shape, f, up, down, pad) -> tuple[int, int, int, int]:
    """Padding that makes upfirdn2d(dy, up=down, down=up, flipped f) the adjoint of the forward.

    Left: full correlation (f - 1) minus the forward's left pad. Right: whatever makes the
    result exactly the input size (may be negative, i.e. a crop).
    """
    fw, fh = _get_filter_size(f)
    (upx, upy), (downx, downy) = up, down
    px0, _, py0, _ = pad
    ih, iw = x_shape[2], x_shape[3]
    oh, ow = y_shape[2], y_shape[3]
    return (
        fw - px0 - 1,
        iw * upx - ow * downx + px0 - upx + 1,
        fh - py0 - 1,
        ih * upy - oh * downy + py0 - upy + 1,
    )


def filter2d(
    x: torch.Tensor,
    f: torch.Tensor | None,
    padding: Padding = 0,
    flip_filter: bool = False,
    gain: float = 1,
    impl: str = "auto",
) -> torch.Tensor:
    """Filter with `f`, keeping the image size (plus `padding`); see `upfirdn2d` for arguments."""
    p = _add(_parse_padding(padding), _up_padding(f, 1, 1))  # the up=1 rule keeps the size
    return upfirdn2d(x, f, padding=p, flip_filter=flip_filter, gain=gain, impl=impl)


def upsample2d(
    x: torch.Tensor,
    f: torch.Tensor | None,
    up: Scaling = 2,
    padding: Padding = 0,
    flip_filter: bool = False,
    gain: float = 1,
    impl: str = "auto",
) -> torch.Tensor:
    """Upsample by `up` with interpolation filter `f` (DC gain kept by gain * up_x * up_y)."""
    upx, upy = _parse_scaling(up)
    p = _add(_parse_padding(padding), _up_padding(f, upx, upy))
    return upfirdn2d(x, f, up=up, padding=p, flip_filter=flip_filter, gain=gain * upx * upy, impl=impl)


def downsample2d(
    x: torch.Tensor,
    f: torch.Tensor | None,
    down: Scaling = 2,
    padding: Padding = 0,
    flip_filter: bool = False,
    gain: float = 1,
    impl: str = "auto",
) -> torch.Tensor:
    """Downsample by `down` after anti-aliasing filter `f`."""
    p = _add(_parse_padding(padding), _down_padding(f, *_parse_scaling(down)))
    return upfirdn2d(x, f, down=down, padding=p, flip_filter=flip_filter, gain=gain, impl=impl)
