"""Issue #19's speed-ups keep the maths: matmul convolutions on small CPU maps, fused Adam."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch
from torch import nn

from autodrag.pix2pix.fastconv import SMALL_POSITIONS, FastConv2d, FastConvTranspose2d
from autodrag.pix2pix.networks import GeneratorConfig, build_translator
from autodrag.pix2pix.trainer import Pix2PixTrainer


@pytest.mark.parametrize(
    "fast_cls, base_cls", [(FastConv2d, nn.Conv2d), (FastConvTranspose2d, nn.ConvTranspose2d)]
)
def test_fast_convs_match_pytorch_values_and_gradients(fast_cls: type, base_cls: type) -> None:
    torch.manual_seed(0)
    grid = itertools.product(((16, 8), (3, 3)), (1, 2), (2, 4, 16), (True, False), (False, True))
    for (cin, cout), batch, side, bias, channels_last in grid:  # (3, 3): the thin (RGB) route at any size
        fast, ref = fast_cls(cin, cout, 4, 2, 1, bias=bias), base_cls(cin, cout, 4, 2, 1, bias=bias)
        assert list(fast.state_dict()) == list(ref.state_dict())  # checkpoints load either way
        ref.load_state_dict(fast.state_dict())
        x = torch.randn(batch, cin, side, side)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        x_fast, x_ref = x.clone().requires_grad_(), x.clone().requires_grad_()
        y_fast, y_ref = fast(x_fast), ref(x_ref)
        grad = torch.randn_like(y_ref)
        y_fast.backward(grad)
        y_ref.backward(grad)
        case = f"{cin}->{cout}, batch {batch}, {side}x{side}, bias {bias}, channels_last {channels_last}"
        assert y_fast.shape == y_ref.shape, case
        torch.testing.assert_close(y_fast, y_ref, atol=1e-5, rtol=1e-4, msg=case)
        torch.testing.assert_close(x_fast.grad, x_ref.grad, atol=1e-5, rtol=1e-4, msg=case)
        torch.testing.assert_close(fast.weight.grad, ref.weight.grad, atol=1e-5, rtol=1e-4, msg=case)


def test_matmul_route_is_taken_only_on_small_cpu_maps(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    original = torch.nn.functional.unfold
    monkeypatch.setattr(torch.nn.functional, "unfold", lambda *a, **k: calls.append(1) or original(*a, **k))
    conv = FastConv2d(16, 4, 4, 2, 1)
    conv(torch.randn(1, 16, 8, 8))  # 64 positions: the matmul route
    assert len(calls) == 1
    side = int(SMALL_POSITIONS**0.5) * 2
    conv(torch.randn(1, 16, side, side))  # larger: PyTorch's own kernel
    assert len(calls) == 1
    FastConv2d(3, 4, 4, 2, 1)(torch.randn(1, 3, side, side))  # thin RGB input: the matmul route at any size
    assert len(calls) == 2
    FastConv2d(3, 4, 3, 1, 1, dilation=2)(torch.randn(1, 3, 4, 4))  # dilated: never the matmul route
    assert len(calls) == 2


def test_unet_with_fast_convs_scripts_and_matches_eager() -> None:
    net = build_translator(GeneratorConfig(ngf=8, unet_depth=5)).eval()
    scripted = torch.jit.script(net)
    x = torch.rand(1, 3, 64, 48) * 2 - 1
    torch.testing.assert_close(scripted(x), net(x))


def test_trainer_uses_fused_adam_and_keeps_it_on_resume(make_config, small_root: Path) -> None:
    cfg = make_config(small_root)
    trainer = Pix2PixTrainer(cfg, torch.device("cpu"))
    assert all(g["fused"] for opt in (trainer.optG, trainer.optD) for g in opt.param_groups)
    state = trainer.state_dict()
    for opt in ("optG", "optD"):  # a checkpoint written before the fused update was the default
        for group in state[opt]["param_groups"]:
            group["fused"] = None
    again = Pix2PixTrainer(cfg, torch.device("cpu"))
    again.load_state_dict(state)
    assert all(g["fused"] for opt in (again.optG, again.optD) for g in opt.param_groups)
