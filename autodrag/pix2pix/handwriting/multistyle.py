"""Multi-style (zi2zi-like) networks and losses: one U-Net that writes in any of many styles.

A learned style (category) embedding is concatenated to the U-Net bottleneck; the discriminator
has an auxiliary head that classifies the style; the constant loss keeps the encoding of the output
close to the encoding of the input; the L1 and constant-loss weights follow an epoch schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from autodrag.pix2pix.layers import PadToMultiple, conv_bias, init_weights, make_norm
from autodrag.pix2pix.networks import DownBlock, UpBlock

__all__ = [
    "DiscOutput",
    "MultiStyleConfig",
    "StyleDiscriminator",
    "StyleUnet",
    "WeightSchedule",
    "constant_loss",
]


@dataclass
class MultiStyleConfig:
    """Architecture of the multi-style generator and discriminator."""

    num_styles: int = 8  # rows of the style embedding (grows when fine-tuning adds styles)
    embed_dim: int = 64  # length of a style vector
    in_channels: int = 1  # source image channels
    out_channels: int = 1  # target image channels
    depth: int = 6  # U-Net stride-2 levels
    ngf: int = 64  # generator width of the outermost level
    ndf: int = 64  # discriminator width of the first layer
    d_layers: int = 3  # discriminator stride-2 layers
    norm: str = "batch"  # batch | instance | layer | none
    dropout: float = 0.5  # dropout in the innermost decoder blocks
    n_dropout: int = 3  # decoder blocks (from the bottleneck) with dropout


class StyleUnet(nn.Module):
    """U-Net whose bottleneck is concatenated with a style vector before decoding.

    Shape:
        forward: x [N, Cin, H, W], labels [N] -> [N, Cout, H, W] for any H, W.
        encode: x [N, Cin, H, W] -> bottleneck [N, C, h, w] (of the padded input).
    """

    def __init__(self, cfg: MultiStyleConfig) -> None:
        super().__init__()
        self.depth, self.embed_dim = cfg.depth, cfg.embed_dim
        widths = [cfg.ngf * min(2**level, 8) for level in range(cfg.depth)]
        self.embedding = nn.Embedding(cfg.num_styles, cfg.embed_dim)
        self.down = nn.ModuleList()
        ups: list[nn.Module] = []
        for level in range(cfg.depth):
            outermost, innermost = level == 0, level == cfg.depth - 1
            cin = cfg.in_channels if outermost else widths[level - 1]
            self.down.append(DownBlock(cin, widths[level], cfg.norm, outermost, innermost))
            up_in = widths[level] + cfg.embed_dim if innermost else 2 * widths[level]
            up_out = cfg.out_channels if outermost else widths[level - 1]
            drop = cfg.dropout if (cfg.depth - 1 - level) < cfg.n_dropout and not outermost else 0.0
            ups.append(UpBlock(up_in, up_out, cfg.norm, outermost, drop))
        self.up = nn.ModuleList(ups[::-1])
        self.size_adapter = PadToMultiple(2**cfg.depth)

    def _features(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for block in self.down:
            x = block(x)
            feats.append(x)
        return feats

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The bottleneck features of ``x`` (what the constant loss compares)."""
        return self._features(self.size_adapter.pad(x)[0])[-1]

    def style_vectors(self, labels: torch.Tensor) -> torch.Tensor:
        """Style indices [N] -> style vectors [N, embed_dim]."""
        return self.embedding(labels)

    def forward_with_style(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Translate ``x`` in the style given as vectors [N, embed_dim] (e.g. a blend of two styles)."""
        x, pads = self.size_adapter.pad(x)
        feats = self._features(x)
        bottleneck = feats[-1]
        style_map = style[:, :, None, None].expand(-1, -1, bottleneck.shape[2], bottleneck.shape[3])
        y = torch.cat([bottleneck, style_map], dim=1)
        for i, block in enumerate(self.up):
            if i > 0:
                y = torch.cat([y, feats[self.depth - 1 - i]], dim=1)
            y = block(y)
        return self.size_adapter.crop(y, pads)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.forward_with_style(x, self.style_vectors(labels))

    def grow_styles(self, num_styles: int) -> None:
        """Add embedding rows (initialised at the mean style) so fine-tuning can learn new styles."""
        old = self.embedding.weight.data
        if num_styles <= old.shape[0]:
            return
        grown = nn.Embedding(num_styles, old.shape[1]).to(old.device)
        grown.weight.data[: old.shape[0]] = old
        grown.weight.data[old.shape[0] :] = old.mean(dim=0, keepdim=True)
        self.embedding = grown


class DiscOutput(NamedTuple):
    """What :class:`StyleDiscriminator` says about a (source, target) pair."""

    adv: torch.Tensor  # real/fake logits per patch [N, 1, h, w]
    style: torch.Tensor  # style logits [N, num_styles]


class StyleDiscriminator(nn.Module):
    """PatchGAN with an auxiliary classifier of the target's style (AC-GAN head)."""

    def __init__(self, cfg: MultiStyleConfig) -> None:
        super().__init__()
        bias = conv_bias(cfg.norm)
        layers: list[nn.Module] = [
            nn.Conv2d(cfg.in_channels + cfg.out_channels, cfg.ndf, 4, 2, 1),
            nn.LeakyReLU(0.2),
        ]
        width = cfg.ndf
        for n in range(1, cfg.d_layers + 1):
            prev, width = width, cfg.ndf * min(2**n, 8)
            layers += [
                nn.Conv2d(prev, width, 4, 2 if n < cfg.d_layers else 1, 1, bias=bias),
                make_norm(cfg.norm, width),
                nn.LeakyReLU(0.2),
            ]
        self.trunk = nn.Sequential(*layers)
        self.adv_head = nn.Conv2d(width, 1, 4, 1, 1)
        self.style_head = nn.Linear(width, cfg.num_styles)

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> DiscOutput:
        h = self.trunk(torch.cat([source, target], dim=1))
        return DiscOutput(self.adv_head(h), self.style_head(h.mean(dim=(2, 3))))

    def grow_styles(self, num_styles: int) -> None:
        """Extend the style head to ``num_styles`` classes, keeping the learned ones."""
        old = self.style_head
        if num_styles <= old.out_features:
            return
        grown = nn.Linear(old.in_features, num_styles).to(old.weight.device)
        init_weights(grown, "normal", 0.02)
        grown.weight.data[: old.out_features] = old.weight.data
        grown.bias.data[: old.out_features] = old.bias.data
        self.style_head = grown


def constant_loss(generator: StyleUnet, source: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Squared distance between the encodings of the output and of the input (DTN's f-constancy).

    The encoder acts as a fixed feature extractor here: the gradient reaches the output image
    (and through it the decoder) but does not move the encoder's weights, which would otherwise
    learn to discard what distinguishes the styles in order to satisfy this loss.
    """
    with torch.no_grad():
        reference = generator.encode(source)
    flags = [p.requires_grad for p in generator.down.parameters()]
    for param in generator.down.parameters():
        param.requires_grad_(False)
    try:
        encoded = generator.encode(fake)
    finally:
        for param, flag in zip(generator.down.parameters(), flags):
            param.requires_grad_(flag)
    return F.mse_loss(encoded, reference)


@dataclass
class WeightSchedule:
    """L1 and constant-loss weights by epoch: each stage applies from its start epoch onwards.

    The default follows the handwriting styler: L1 100 / const 15 for 30 epochs (learn the overall
    shape), then L1 500 / const 1000 (sharpen details).
    """

    stages: tuple[tuple[int, float, float], ...] = (
        (0, 100.0, 15.0),
        (30, 500.0, 1000.0),
    )  # (start epoch, L1, const)

    def weights_at(self, epoch: int) -> tuple[float, float]:
        """``(l1_weight, const_weight)`` for 0-based ``epoch``."""
        current = self.stages[0]
        for stage in sorted(self.stages):
            if epoch >= stage[0]:
                current = stage
        return current[1], current[2]
