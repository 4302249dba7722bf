"""Building blocks shared by every pix2pix network: normalisation choice, weight init, size padding."""

from __future__ import annotations

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
    "conv_bias",
    "init_weights",
    "make_norm",
]

NormName = Literal["batch", "instance", "layer", "none"]
InitName = Literal["normal", "xavier", "kaiming", "orthogonal"]
NORMS: tuple[str, ...] = ("batch", "instance", "layer", "none")
INITS: tuple[str, ...] = ("normal", "xavier", "kaiming", "orthogonal")


def make_norm(name: str, channels: int) -> nn.Module:
    """Return the normalisation layer called ``name`` for ``channels`` feature maps.

    ``layer`` normalises each sample over (C, H, W) and is the safe choice for a WGAN-GP critic,
    where batch statistics would couple the samples the gradient penalty treats independently.
    """
    if name == "batch":
        return nn.BatchNorm2d(channels)
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
