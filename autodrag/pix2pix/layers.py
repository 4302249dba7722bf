"""Building blocks shared by every pix2pix network: normalisation choice, weight init, size padding."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "INITS",
    "NORMS",
    "InitName",
    "NormName",
    "PadToMultiple",
    "SplitBatchNorm2d",
    "conv_bias",
    "init_weights",
    "make_norm",
    "two_batches",
]

NormName = Literal["batch", "instance", "layer", "none"]
InitName = Literal["normal", "xavier", "kaiming", "orthogonal"]
NORMS: tuple[str, ...] = ("batch", "instance", "layer", "none")
INITS: tuple[str, ...] = ("normal", "xavier", "kaiming", "orthogonal")


class SplitBatchNorm2d(nn.BatchNorm2d):
    """:class:`torch.nn.BatchNorm2d` that can treat the two halves of its input as two batches.

    With ``halves = 2`` (set by :func:`two_batches`), a training-mode forward normalises each half
    of the batch with that half's own statistics and updates the running statistics as two calls
    in a row (first half, then second) would: the output is exactly that of two separate calls.
    That lets a discriminator judge its real and its fake batch in one pass (one weight reorder and
    one larger matrix product per conv instead of two) without changing what batch norm computes.
    Same parameters, buffers and ``state_dict`` keys as the parent class.
    """

    halves: int = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.halves == 1 or not self.training:
            return super().forward(x)
        if self.track_running_stats and self.momentum is None:  # cumulative average: just two calls
            first, second = x.chunk(2)
            return torch.cat([super().forward(first), super().forward(second)])
        n2, c, h, w = x.shape
        n = n2 // 2
        # [2N, C] -> [N, 2C]: batch norm's per-channel statistics become per-half statistics
        paired = x.reshape(2, n, c, h, w).transpose(0, 1).reshape(n, 2 * c, h, w)
        weight = None if self.weight is None else self.weight.repeat(2)
        bias = None if self.bias is None else self.bias.repeat(2)
        tracked = self.track_running_stats and self.running_mean is not None
        mean2 = self.running_mean.repeat(2) if tracked else None  # type: ignore[union-attr]
        var2 = self.running_var.repeat(2) if tracked else None  # type: ignore[union-attr]
        y = F.batch_norm(paired, mean2, var2, weight, bias, True, self.momentum or 0.0, self.eps)
        if tracked:
            with torch.no_grad():
                # each half of mean2 is (1-m) r + m s_i; two calls in a row give (1-m)((1-m) r + m s_1) + m s_2
                keep = 1.0 - float(self.momentum)  # type: ignore[arg-type]
                for stat, both in ((self.running_mean, mean2), (self.running_var, var2)):
                    stat.mul_(-keep).add_(both[:c], alpha=keep).add_(both[c:])  # type: ignore[index, union-attr]
                self.num_batches_tracked.add_(2)  # type: ignore[union-attr, operator]
        return y.reshape(n, 2, c, h, w).transpose(0, 1).reshape(n2, c, h, w)


@contextlib.contextmanager
def two_batches(net: nn.Module) -> Iterator[None]:
    """Within the block, every :class:`SplitBatchNorm2d` of ``net`` treats its input's halves as two batches."""
    norms = [m for m in net.modules() if isinstance(m, SplitBatchNorm2d)]
    for norm in norms:
        norm.halves = 2
    try:
        yield
    finally:
        for norm in norms:
            norm.halves = 1


def make_norm(name: str, channels: int, two_batch: bool = False) -> nn.Module:
    """Return the normalisation layer called ``name`` for ``channels`` feature maps.

    ``two_batch`` makes batch norm a :class:`SplitBatchNorm2d` (discriminators: real and fake
    judged in one pass).

    ``layer`` normalises each sample over (C, H, W) and is the safe choice for a WGAN-GP critic,
    where batch statistics would couple the samples the gradient penalty treats independently.
    """
    if name == "batch":
        return SplitBatchNorm2d(channels) if two_batch else nn.BatchNorm2d(channels)
    if name == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if name == "layer":
        return nn.GroupNorm(1, channels)
    if name == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {name!r}; expected one of {', '.join(NORMS)}")


def conv_bias(norm: str) -> bool:
    """Whether a convolution followed by ``norm`` needs its own bias (batch norm brings one)."""
    return norm != "batch"


def init_weights(net: nn.Module, kind: str = "normal", gain: float = 0.02) -> nn.Module:
    """Initialise every convolution / linear layer of ``net`` in place.

    Args:
        net: The network.
        kind: ``normal`` (N(0, gain)), ``xavier`` (Glorot normal with ``gain``), ``kaiming``
            (He normal, fan-in) or ``orthogonal`` (with ``gain``).
        gain: Standard deviation or gain, as above. Affine norm weights get N(1, gain).

    Returns:
        ``net`` itself, for chaining.
    """
    if kind not in INITS:
        raise ValueError(f"unknown init {kind!r}; expected one of {', '.join(INITS)}")
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            weight = module.weight
            if kind == "normal":
                nn.init.normal_(weight, 0.0, gain)
            elif kind == "xavier":
                nn.init.xavier_normal_(weight, gain=gain)
            elif kind == "kaiming":
                nn.init.kaiming_normal_(weight, a=0.0, mode="fan_in")
            else:
                nn.init.orthogonal_(weight, gain=gain)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)) and module.weight is not None:
            nn.init.normal_(module.weight, 1.0, gain)
            nn.init.zeros_(module.bias)
    return net


class PadToMultiple(nn.Module):
    """Pad an image so both sides are multiples of ``multiple``, and crop a result back.

    Padding is split evenly between the two sides and replicates the border, so a signature on
    white paper is extended with white paper. This is what lets a depth-8 U-Net take 500x200.
    """

    def __init__(self, multiple: int) -> None:
        super().__init__()
        if multiple < 1:
            raise ValueError(f"multiple must be >= 1, got {multiple}")
        self.multiple = multiple

    def extra_repr(self) -> str:
        return f"multiple={self.multiple}"

    def pad(self, x: torch.Tensor) -> tuple[torch.Tensor, list[int]]:
        """Pad ``x`` [NCHW]; returns the padded tensor and ``[left, right, top, bottom]``."""
        height, width = x.shape[-2], x.shape[-1]
        extra_h = (-height) % self.multiple
        extra_w = (-width) % self.multiple
        pads = [extra_w // 2, extra_w - extra_w // 2, extra_h // 2, extra_h - extra_h // 2]
        if extra_h == 0 and extra_w == 0:
            return x, pads
        return F.pad(x, pads, mode="replicate"), pads

    def crop(self, y: torch.Tensor, pads: list[int]) -> torch.Tensor:
        """Undo :meth:`pad` on a network output ``y`` [NCHW] of the padded size."""
        height, width = y.shape[-2], y.shape[-1]
        return y[..., pads[2] : height - pads[3], pads[0] : width - pads[1]]
