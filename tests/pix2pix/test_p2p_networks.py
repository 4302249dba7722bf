"""Generators and discriminators: any size in, same size out; dropout placement; norms; inits."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from autodrag.pix2pix.discriminators import (
    DiscriminatorConfig,
    PatchDiscriminator,
    PixelDiscriminator,
    build_discriminator,
    patch_receptive_field,
)
from autodrag.pix2pix.layers import PadToMultiple, init_weights, make_norm
from autodrag.pix2pix.networks import GeneratorConfig, ResnetGenerator, UnetGenerator, build_translator


@pytest.mark.parametrize("depth", [1, 3, 5])
@pytest.mark.parametrize("size", [(20, 50), (33, 17), (32, 32)])
def test_unet_any_depth_any_size(depth: int, size: tuple[int, int]) -> None:
    net = UnetGenerator(3, 1, depth=depth, ngf=4, norm="instance").eval()
    y = net(torch.randn(2, 3, *size))
    assert y.shape == (2, 1, *size)
    assert y.abs().max() <= 1.0  # tanh output


def test_unet_signature_size_through_depth_8() -> None:
    """500x200 signatures work with the paper's depth-8 U-Net (the reference code needs 256 multiples)."""
    net = UnetGenerator(1, 1, depth=8, ngf=2).eval()
    assert net(torch.zeros(1, 1, 200, 500)).shape == (1, 1, 200, 500)


@pytest.mark.parametrize("size", [(21, 50), (64, 40)])
@pytest.mark.parametrize("blocks", [6, 9])
def test_resnet_any_size(size: tuple[int, int], blocks: int) -> None:
    net = ResnetGenerator(1, 3, ngf=4, n_blocks=blocks, norm="instance").eval()
    assert net(torch.randn(1, 1, *size)).shape == (1, 3, *size)


def test_unet_dropout_in_innermost_decoder_blocks_only() -> None:
    net = UnetGenerator(3, 3, depth=8, ngf=4, dropout=0.5, n_dropout=3)
    with_dropout = [
        i for i, block in enumerate(net.up) if any(isinstance(m, nn.Dropout) for m in block.modules())
    ]
    assert with_dropout == [0, 1, 2]  # net.up runs innermost first, as in the paper's CD512 x 3
    assert not any(isinstance(m, nn.Dropout) for m in UnetGenerator(3, 3, 4, 4, dropout=0.0).modules())


def test_unet_skip_connections_are_used() -> None:
    """Changing one input pixel changes the output there even through a depth-6 bottleneck."""
    torch.manual_seed(0)
    net = UnetGenerator(1, 1, depth=6, ngf=4, norm="none", dropout=0.0).eval()
    x = torch.zeros(1, 1, 64, 64)
    y0 = net(x)
    x[0, 0, 10, 10] = 1.0
    assert (net(x) - y0).abs()[0, 0, 8:13, 8:13].max() > 0


def test_patchgan_receptive_field_and_shapes() -> None:
    assert patch_receptive_field(3) == 70
    assert patch_receptive_field(1) == 16
    d = PatchDiscriminator(6, ndf=8, n_layers=3)
    out = d(torch.randn(2, 3, 256, 256), torch.randn(2, 3, 256, 256))
    assert out.shape == (2, 1, 30, 30)  # the paper's 30x30 grid of 70x70 patches
    pixel = PixelDiscriminator(4, ndf=8)
    assert pixel(torch.randn(2, 1, 13, 17), torch.randn(2, 3, 13, 17)).shape == (2, 1, 13, 17)


def test_patchgan_output_depends_only_on_its_patch() -> None:
    torch.manual_seed(0)
    d = PatchDiscriminator(2, ndf=4, n_layers=1, norm="none")
    a, b = torch.zeros(1, 1, 64, 64), torch.zeros(1, 1, 64, 64)
    base = d(a, b)
    b[0, 0, 63, 63] = 5.0  # far corner: outside the first logit's 16x16 field
    changed = d(a, b)
    assert torch.equal(base[0, 0, 0, 0], changed[0, 0, 0, 0])
    assert not torch.equal(base[0, 0, -1, -1], changed[0, 0, -1, -1])


@pytest.mark.parametrize(
    "norm,kind",
    [
        ("batch", nn.BatchNorm2d),
        ("instance", nn.InstanceNorm2d),
        ("layer", nn.GroupNorm),
        ("none", nn.Identity),
    ],
)
def test_norms(norm: str, kind: type) -> None:
    assert isinstance(make_norm(norm, 8), kind)
    g = build_translator(GeneratorConfig(ngf=4, unet_depth=3, norm=norm))
    assert any(isinstance(m, kind) for m in g.modules())
    d = build_discriminator(DiscriminatorConfig(ndf=4, n_layers=2, norm=norm), 6)
    assert any(isinstance(m, kind) for m in d.modules())
    with pytest.raises(ValueError, match="unknown norm"):
        make_norm("group", 8)


@pytest.mark.parametrize("kind", ["normal", "xavier", "kaiming", "orthogonal"])
def test_inits(kind: str) -> None:
    torch.manual_seed(0)
    conv = nn.Conv2d(64, 64, 3)
    init_weights(nn.Sequential(conv, nn.BatchNorm2d(64)), kind, gain=0.02)
    w = conv.weight.detach().flatten(1)
    assert torch.all(conv.bias == 0)
    if kind == "normal":
        assert abs(w.std().item() - 0.02) < 0.002
    elif kind == "kaiming":
        assert abs(w.std().item() - (2.0 / (64 * 9)) ** 0.5) < 0.01
    elif kind == "orthogonal":
        gram = w @ w.T
        assert torch.allclose(gram, 0.02**2 * torch.eye(64), atol=1e-6)
    else:
        assert abs(w.std().item() - 0.02 * (2.0 / (64 * 9 + 64 * 9)) ** 0.5) < 0.0005
    with pytest.raises(ValueError):
        init_weights(conv, "uniform")


def test_pad_to_multiple_round_trip() -> None:
    pad = PadToMultiple(16)
    x = torch.randn(1, 2, 21, 50)
    padded, pads = pad.pad(x)
    assert padded.shape[-2:] == (32, 64)
    assert torch.equal(pad.crop(padded, pads), x)


def test_extra_repr_and_unknown_archs() -> None:
    assert "depth=4" in repr(UnetGenerator(depth=4, ngf=2))
    assert "receptive_field=70" in repr(PatchDiscriminator(ndf=2))
    with pytest.raises(ValueError):
        build_translator(GeneratorConfig(arch="vit"))
    with pytest.raises(ValueError):
        build_discriminator(DiscriminatorConfig(arch="global"), 6)
