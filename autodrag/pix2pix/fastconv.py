"""Convolutions that stay fast on CPU at the U-Net's tiny inner resolutions.

At batch 1 the innermost U-Net levels are 1x1 to 8x8 maps with 512 channels: almost no arithmetic,
but 4 MiB-16 MiB weights. oneDNN (PyTorch's CPU convolution back end) reorders those weights on
every call and is 2-4x slower there than one plain matrix product over the unfolded input. These
drop-in subclasses of :class:`torch.nn.Conv2d` / :class:`torch.nn.ConvTranspose2d` (same
parameters, same ``state_dict`` keys) take the matrix-product route on CPU when the input has at
most :data:`SMALL_POSITIONS` positions (batch x height x width), or when the image side of the
layer is thin (the U-Net's first conv reading RGB, its last transposed conv writing it: at most
:data:`THIN_ROWS` channels x taps), and defer to PyTorch otherwise (GPU, large maps, groups,
dilation, output padding, non-zero padding modes).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SMALL_POSITIONS", "THIN_ROWS", "FastConv2d", "FastConvTranspose2d"]

SMALL_POSITIONS = 64  # batch * H * W at or below which the CPU matmul path wins (measured, 2 threads)
THIN_ROWS = 96  # ... and at any size when the image side has at most this many channels x taps (RGB in/out)


def _pair(value: object) -> tuple[int, int]:
    return (int(value[0]), int(value[1])) if isinstance(value, (tuple, list)) else (0, 0)  # type: ignore[index]


class _MatmulPath:
    """Mixin: the plain geometry (TorchScript-friendly int pairs) and when the matmul route applies."""

    def _init_matmul(self, image_channels: int) -> None:
        conv: nn.modules.conv._ConvNd = self  # type: ignore[assignment]
        self.k_hw, self.s_hw, self.p_hw = _pair(conv.kernel_size), _pair(conv.stride), _pair(conv.padding)
        self.small_positions = SMALL_POSITIONS
        # a conv reading (or transposed conv writing) a 1-6 channel image: oneDNN is slow there too
        self.thin = image_channels * int(conv.kernel_size[0]) * int(conv.kernel_size[1]) <= THIN_ROWS
        self.matmul_ok = (
            conv.groups == 1
            and tuple(conv.dilation) == (1, 1)
            and conv.padding_mode == "zeros"
            and not isinstance(conv.padding, str)
            and tuple(conv.output_padding) == (0, 0)
        )


class FastConv2d(nn.Conv2d, _MatmulPath):
    """:class:`torch.nn.Conv2d` computed as ``weight @ unfold(x)`` on small CPU inputs."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_matmul(self.in_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, h, w = x.shape[0], x.shape[-2], x.shape[-1]
        if not (
            self.matmul_ok
            and x.device.type == "cpu"
            and x.dim() == 4
            and (self.thin or n * h * w <= self.small_positions)
            and x.dtype == self.weight.dtype
        ):
            return self._conv_forward(x, self.weight, self.bias)
        (kh, kw), (sh, sw), (ph, pw) = self.k_hw, self.s_hw, self.p_hw
        out_h, out_w = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
        cols = F.unfold(x, [kh, kw], padding=[ph, pw], stride=[sh, sw])  # [N, C*k*k, L]
        y = torch.matmul(self.weight.flatten(1), cols).view(n, self.out_channels, out_h, out_w)
        bias = self.bias
        return y if bias is None else y + bias.to(y.dtype).view(1, -1, 1, 1)  # y is bfloat16 under autocast


class FastConvTranspose2d(nn.ConvTranspose2d, _MatmulPath):
    """:class:`torch.nn.ConvTranspose2d` computed as ``fold(weight^T @ x)`` on small CPU inputs."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_matmul(self.out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, h, w = x.shape[0], x.shape[-2], x.shape[-1]
        if not (
            self.matmul_ok
            and x.device.type == "cpu"
            and x.dim() == 4
            and (self.thin or n * h * w <= self.small_positions)
            and x.dtype == self.weight.dtype
        ):
            return F.conv_transpose2d(
                x, self.weight, self.bias, self.stride, self.padding, self.output_padding, self.groups,
                self.dilation,
            )  # fmt: skip
        (kh, kw), (sh, sw), (ph, pw) = self.k_hw, self.s_hw, self.p_hw
        out_h, out_w = (h - 1) * sh - 2 * ph + kh, (w - 1) * sw - 2 * pw + kw
        cols = torch.matmul(self.weight.flatten(1).t(), x.flatten(2))  # [N, Cout*k*k, H*W]
        y = F.fold(cols, [out_h, out_w], [kh, kw], padding=[ph, pw], stride=[sh, sw])
        bias = self.bias
        return y if bias is None else y + bias.to(y.dtype).view(1, -1, 1, 1)  # y is bfloat16 under autocast
