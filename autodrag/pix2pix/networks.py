"""pix2pix generators: a U-Net of any depth and a ResNet, both accepting any H x W.

The networks pad their input to the size their strides need and crop the output back, so a
500x200 signature goes through a depth-8 U-Net unchanged in size.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from autodrag.pix2pix.fastconv import FastConv2d, FastConvTranspose2d
from autodrag.pix2pix.layers import PadToMultiple, conv_bias, init_weights, make_norm

__all__ = ["DownBlock", "GeneratorConfig", "ResnetGenerator", "UnetGenerator", "UpBlock", "build_translator"]


@dataclass
class GeneratorConfig:
    """Architecture of a pix2pix generator."""

    arch: str = "unet"  # "unet" or "resnet"
    in_channels: int = 3  # channels of the source image A (1 or 3)
    out_channels: int = 3  # channels of the target image B (1 or 3)
    ngf: int = 64  # width of the first layer; deeper layers use up to 8x this
    norm: str = "batch"  # batch | instance | layer | none
    unet_depth: int = 8  # U-Net: number of stride-2 levels (8 for 256x256 in the paper)
    dropout: float = 0.5  # dropout probability in the dropout blocks (0 disables)
    n_dropout: int = 3  # U-Net: decoder blocks next to the bottleneck that use dropout
    resnet_blocks: int = 9  # ResNet: residual blocks at the bottleneck (6 or 9 usually)
    init: str = "normal"  # normal | xavier | kaiming | orthogonal
    init_gain: float = 0.02  # std / gain of the initialisation


class DownBlock(nn.Module):
    """One U-Net encoder level: [LeakyReLU] -> conv 4x4 stride 2 -> [norm]."""

    def __init__(self, cin: int, cout: int, norm: str, outermost: bool, innermost: bool) -> None:
        super().__init__()
        use_norm = "none" if (outermost or innermost) else norm
        layers: list[nn.Module] = [] if outermost else [nn.LeakyReLU(0.2)]
        layers.append(FastConv2d(cin, cout, 4, 2, 1, bias=conv_bias(use_norm)))
        layers.append(make_norm(use_norm, cout))
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class UpBlock(nn.Module):
    """One U-Net decoder level: ReLU -> transposed conv 4x4 stride 2 -> norm [-> dropout] or Tanh."""

    def __init__(self, cin: int, cout: int, norm: str, outermost: bool, dropout: float) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.ReLU()]
        if outermost:
            layers += [FastConvTranspose2d(cin, cout, 4, 2, 1), nn.Tanh()]
        else:
            layers += [FastConvTranspose2d(cin, cout, 4, 2, 1, bias=conv_bias(norm)), make_norm(norm, cout)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class UnetGenerator(nn.Module):
    """U-Net generator (Isola et al. 2017) with skip connections between mirrored levels.

    Level ``i`` of the encoder halves the resolution and has ``ngf * min(2**i, 8)`` channels; the
    decoder mirrors it and concatenates the encoder features of the same level. The ``n_dropout``
    decoder blocks nearest the bottleneck use dropout, which is the generator's only noise source.

    Shape:
        forward: [N, in_channels, H, W] -> [N, out_channels, H, W] for any H, W.
    """

    def __init__(
        self,
        in_channels: int = 3,  # channels of the input image
        out_channels: int = 3,  # channels of the output image
        depth: int = 8,  # number of stride-2 levels; the bottleneck is H / 2**depth
        ngf: int = 64,  # channels of the outermost level
        norm: str = "batch",  # normalisation of the inner levels
        dropout: float = 0.5,  # dropout probability in the innermost decoder blocks
        n_dropout: int = 3,  # how many decoder blocks (counted from the bottleneck) use dropout
    ) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"U-Net depth must be >= 1, got {depth}")
        self.in_channels, self.out_channels, self.depth = in_channels, out_channels, depth
        widths = [ngf * min(2**level, 8) for level in range(depth)]
        self.down = nn.ModuleList()  # outermost first
        ups: list[nn.Module] = []
        for level in range(depth):
            outermost, innermost = level == 0, level == depth - 1
            cin = in_channels if outermost else widths[level - 1]
            self.down.append(DownBlock(cin, widths[level], norm, outermost, innermost))
            up_in = widths[level] if innermost else 2 * widths[level]
            up_out = out_channels if outermost else widths[level - 1]
            # decoder blocks counted from the bottleneck: level depth-1 is the first
            use_dropout = dropout if (depth - 1 - level) < n_dropout and not outermost else 0.0
            ups.append(UpBlock(up_in, up_out, norm, outermost, use_dropout))
        self.up = nn.ModuleList(ups[::-1])  # innermost first, the order the decoder runs in
        self.size_adapter = PadToMultiple(2**depth)

    def extra_repr(self) -> str:
        return f"in={self.in_channels}, out={self.out_channels}, depth={self.depth}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.dim() == 4 and x.shape[1] == self.in_channels, "expected an [N, in_channels, H, W] input"
        x, pads = self.size_adapter.pad(x)
        skips: list[torch.Tensor] = []
        for block in self.down:
            x = block(x)
            skips.append(x)
        y = skips[-1]
        for i, block in enumerate(self.up):
            if i > 0:  # concatenate the encoder features of the same resolution
                y = torch.cat([y, skips[self.depth - 1 - i]], dim=1)
            y = block(y)
        return self.size_adapter.crop(y, pads)


class _ResidualBlock(nn.Module):
    """conv 3x3 -> norm -> ReLU [-> dropout] -> conv 3x3 -> norm, added to the input."""

    def __init__(self, channels: int, norm: str, dropout: float) -> None:
        super().__init__()
        bias = conv_bias(norm)
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=bias),
            make_norm(norm, channels),
            nn.ReLU(),
        ]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers += [
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=bias),
            make_norm(norm, channels),
        ]
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class ResnetGenerator(nn.Module):
    """ResNet generator (Johnson et al. 2016): 2 stride-2 convs, residual blocks, 2 up-convs.

    Shape:
        forward: [N, in_channels, H, W] -> [N, out_channels, H, W] for any H, W.
    """

    def __init__(
        self,
        in_channels: int = 3,  # channels of the input image
        out_channels: int = 3,  # channels of the output image
        ngf: int = 64,  # channels of the first layer
        n_blocks: int = 9,  # residual blocks at 1/4 resolution
        norm: str = "batch",  # normalisation after every conv but the last
        dropout: float = 0.0,  # dropout inside residual blocks
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.n_blocks = in_channels, out_channels, n_blocks
        bias = conv_bias(norm)
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_channels, ngf, 7, bias=bias),
            make_norm(norm, ngf),
            nn.ReLU(),
        ]
        for i in range(2):
            cin, cout = ngf * 2**i, ngf * 2 ** (i + 1)
            layers += [nn.Conv2d(cin, cout, 3, 2, 1, bias=bias), make_norm(norm, cout), nn.ReLU()]
        layers += [_ResidualBlock(ngf * 4, norm, dropout) for _ in range(n_blocks)]
        for i in range(2, 0, -1):
            cin, cout = ngf * 2**i, ngf * 2 ** (i - 1)
            layers += [
                nn.ConvTranspose2d(cin, cout, 3, 2, 1, output_padding=1, bias=bias),
                make_norm(norm, cout),
                nn.ReLU(),
            ]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        self.size_adapter = PadToMultiple(4)

    def extra_repr(self) -> str:
        return f"in={self.in_channels}, out={self.out_channels}, n_blocks={self.n_blocks}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.dim() == 4 and x.shape[1] == self.in_channels, "expected an [N, in_channels, H, W] input"
        x, pads = self.size_adapter.pad(x)
        return self.size_adapter.crop(self.model(x), pads)


def build_translator(cfg: GeneratorConfig) -> nn.Module:
    """Build and initialise the generator described by ``cfg``."""
    if cfg.arch == "unet":
        net: nn.Module = UnetGenerator(
            cfg.in_channels, cfg.out_channels, cfg.unet_depth, cfg.ngf, cfg.norm, cfg.dropout, cfg.n_dropout
        )
    elif cfg.arch == "resnet":
        net = ResnetGenerator(
            cfg.in_channels, cfg.out_channels, cfg.ngf, cfg.resnet_blocks, cfg.norm, cfg.dropout
        )
    else:
        raise ValueError(f"unknown generator arch {cfg.arch!r}; expected 'unet' or 'resnet'")
    return init_weights(net, cfg.init, cfg.init_gain)
