"""Conditional discriminators: PatchGAN (n_layers, 70x70 by default) and the 1x1 pixel discriminator.

Both see the source image and a real or generated target concatenated on the channel axis and
return a map of logits, one per patch (or pixel), not a single probability.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from autodrag.pix2pix.fastconv import FastConv2d
from autodrag.pix2pix.layers import conv_bias, init_weights, make_norm, two_batches

__all__ = [
    "DiscriminatorConfig",
    "PatchDiscriminator",
    "PixelDiscriminator",
    "build_discriminator",
    "judge_pair",
    "patch_receptive_field",
]


@dataclass
class DiscriminatorConfig:
    """Architecture of a pix2pix discriminator."""

    arch: str = "patch"  # "patch" (PatchGAN) or "pixel" (1x1 convolutions)
    ndf: int = 64  # width of the first layer
    n_layers: int = 3  # PatchGAN stride-2 layers; 3 gives a 70x70 receptive field
    norm: str = "batch"  # batch | instance | layer | none (never batch for a WGAN-GP critic)
    init: str = "normal"  # normal | xavier | kaiming | orthogonal
    init_gain: float = 0.02  # std / gain of the initialisation


def patch_receptive_field(n_layers: int) -> int:
    """Side in pixels of the input patch each PatchGAN output logit sees."""
    # layers from the output back: two stride-1 4x4 convs, then n_layers stride-2 4x4 convs
    field = 1
    for stride in [1, 1] + [2] * n_layers:
        field = (field - 1) * stride + 4
    return field


class PatchDiscriminator(nn.Module):
    """PatchGAN: a stack of 4x4 convolutions whose every output logit judges one input patch.

    Shape:
        forward: A [N, Ca, H, W], B [N, Cb, H, W] -> logits [N, 1, h, w].
    """

    def __init__(
        self,
        in_channels: int = 6,  # channels of A and B concatenated
        ndf: int = 64,  # channels of the first layer
        n_layers: int = 3,  # stride-2 layers (receptive field 70 for 3)
        norm: str = "batch",  # normalisation of all but the first and last layer
    ) -> None:
        super().__init__()
        self.in_channels, self.n_layers = in_channels, n_layers
        bias = conv_bias(norm)
        # the first conv reads the 6-channel image pair: one matrix product on CPU (fastconv.py)
        layers: list[nn.Module] = [FastConv2d(in_channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
        width = ndf
        for n in range(1, n_layers + 1):
            prev, width = width, ndf * min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [
                nn.Conv2d(prev, width, 4, stride, 1, bias=bias),
                make_norm(norm, width, two_batch=True),
                nn.LeakyReLU(0.2),
            ]
        layers.append(nn.Conv2d(width, 1, 4, 1, 1))
        self.model = nn.Sequential(*layers)

    def extra_repr(self) -> str:
        return f"in={self.in_channels}, n_layers={self.n_layers}, receptive_field={patch_receptive_field(self.n_layers)}"

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.model(torch.cat([source, target], dim=1))


class PixelDiscriminator(nn.Module):
    """1x1 PatchGAN: judges every pixel's colour given the source pixel, no spatial context.

    Shape:
        forward: A [N, Ca, H, W], B [N, Cb, H, W] -> logits [N, 1, H, W].
    """

    def __init__(self, in_channels: int = 6, ndf: int = 64, norm: str = "batch") -> None:
        super().__init__()
        self.in_channels = in_channels
        self.model = nn.Sequential(
            nn.Conv2d(in_channels, ndf, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(ndf, ndf * 2, 1, bias=conv_bias(norm)),
            make_norm(norm, ndf * 2, two_batch=True),
            nn.LeakyReLU(0.2),
            nn.Conv2d(ndf * 2, 1, 1),
        )

    def extra_repr(self) -> str:
        return f"in={self.in_channels}"

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.model(torch.cat([source, target], dim=1))


def build_discriminator(cfg: DiscriminatorConfig, in_channels: int) -> nn.Module:
    """Build and initialise the discriminator ``cfg`` describes for ``in_channels`` (A + B) inputs."""
    if cfg.arch == "patch":
        net: nn.Module = PatchDiscriminator(in_channels, cfg.ndf, cfg.n_layers, cfg.norm)
    elif cfg.arch == "pixel":
        net = PixelDiscriminator(in_channels, cfg.ndf, cfg.norm)
    else:
        raise ValueError(f"unknown discriminator arch {cfg.arch!r}; expected 'patch' or 'pixel'")
    return init_weights(net, cfg.init, cfg.init_gain)


def judge_pair(
    net: nn.Module, source: torch.Tensor, first: torch.Tensor, second: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``net(source, first), net(source, second)`` computed as one batch, with the same result.

    Batch norm sees each half as its own batch (:func:`~autodrag.pix2pix.layers.two_batches`), so
    the logits equal two separate calls; one pass saves a weight reorder per conv on CPU.
    """
    with two_batches(net):
        logits = net(torch.cat([source, source]), torch.cat([first, second]))
    return logits[: source.shape[0]], logits[source.shape[0] :]
