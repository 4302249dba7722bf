"""Issue #19's speed-ups keep the maths: matmul convolutions on small CPU maps, fused Adam, paired D pass,
and the bfloat16 discriminator keeps the gradients."""

from __future__ import annotations

import copy
import itertools
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from autodrag.pix2pix.discriminators import DiscriminatorConfig, build_discriminator, judge_pair
from autodrag.pix2pix.fastconv import SMALL_POSITIONS, FastConv2d, FastConvTranspose2d
from autodrag.pix2pix.layers import SplitBatchNorm2d
from autodrag.pix2pix.networks import GeneratorConfig, build_translator
from autodrag.pix2pix.trainer import Pix2PixTrainer, judges_in_bfloat16


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


@pytest.mark.parametrize("norm", ["batch", "instance", "layer", "none"])
@pytest.mark.parametrize("arch", ["patch", "pixel"])
def test_judging_a_pair_in_one_pass_equals_two_calls(norm: str, arch: str) -> None:
    torch.manual_seed(0)
    one = build_discriminator(DiscriminatorConfig(arch=arch, norm=norm), in_channels=6)
    two = copy.deepcopy(one)
    source, real, fake = (torch.randn(3, 3, 32, 32) for _ in range(3))
    fake.requires_grad_()
    fake_two = fake.detach().clone().requires_grad_()
    for _ in range(2):  # the second round starts from running statistics the first one moved
        real_one, fake_one = judge_pair(one, source, real, fake)
        real_sep, fake_sep = two(source, real), two(source, fake_two)
        torch.testing.assert_close(real_one, real_sep, rtol=0, atol=0)
        torch.testing.assert_close(fake_one, fake_sep, rtol=0, atol=0)
        (real_one.square().mean() + fake_one.mean()).backward()
        (real_sep.square().mean() + fake_sep.mean()).backward()
    torch.testing.assert_close(fake.grad, fake_two.grad, atol=1e-6, rtol=1e-5)
    for (name, a), b in zip(one.named_parameters(), two.parameters()):
        torch.testing.assert_close(a.grad, b.grad, atol=1e-6, rtol=1e-5, msg=name)
    for (name, a), b in zip(one.named_buffers(), two.buffers()):  # running mean / var, batches tracked
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5, msg=name)
    assert all(m.halves == 1 for m in one.modules() if isinstance(m, SplitBatchNorm2d))  # reset on exit


def test_trainer_judges_real_and_fake_in_one_discriminator_pass(make_config, small_root: Path) -> None:
    trainer = Pix2PixTrainer(make_config(small_root), torch.device("cpu"))
    batches = []
    trainer.netD.register_forward_pre_hook(lambda _m, args: batches.append(args[0].shape[0]))
    a, b = torch.rand(2, 1, 1, 32, 32) * 2 - 1
    trainer.training_step({"A": a, "B": b})
    assert batches == [2, 1]  # D step: real + fake as one batch of 2; G step: the fake alone


def test_split_batch_norm_with_a_cumulative_average_equals_two_calls() -> None:
    split, plain = SplitBatchNorm2d(4, momentum=None), nn.BatchNorm2d(4, momentum=None)
    x = torch.randn(4, 4, 5, 5)
    split.halves = 2
    torch.testing.assert_close(split(x), torch.cat([plain(x[:2]), plain(x[2:])]))
    torch.testing.assert_close(split.running_mean, plain.running_mean)
    torch.testing.assert_close(split.running_var, plain.running_var)


_FREED_MEMORY_PROBE = """
import sys, torch
from autodrag.runtime import keep_freed_memory
kept = keep_freed_memory() if sys.argv[1] == "keep" else None
def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
before = rss_mib()
block = torch.ones(64 * 2**20 // 4)  # 64 MiB, touched
held = rss_mib()
del block
print(kept, round(held - before), round(rss_mib() - before))
"""


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads RSS from Linux's /proc")
def test_training_process_keeps_freed_blocks_for_reuse() -> None:
    import subprocess
    import sys

    def probe(mode: str) -> list[str]:
        out = subprocess.run(
            [sys.executable, "-c", _FREED_MEMORY_PROBE, mode], capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        return out.stdout.split()

    kept, held, after = probe("keep")
    assert kept == "True" and int(held) >= 60 and int(after) >= 60  # freed, but kept for the next step
    _, held, after = probe("default")
    assert int(held) >= 60 and int(after) < 10  # glibc's default: the block goes back to the system


def test_pix2pix_train_keeps_freed_memory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from click.testing import CliRunner

    import autodrag.runtime
    from autodrag.cli import main

    calls = []
    monkeypatch.setattr(autodrag.runtime, "keep_freed_memory", lambda: calls.append(1) or True)
    result = CliRunner().invoke(
        main, ["pix2pix", "train", "--dataroot", str(tmp_path / "none"), "--out", str(tmp_path / "r")]
    )
    assert result.exit_code != 0 and calls == [1]


@pytest.mark.parametrize(
    "precision, device, amp, amx, expected",
    [
        ("auto", "cpu", False, True, True),  # AMX CPU: bfloat16 convolutions are the fast ones
        ("auto", "cpu", False, False, False),
        ("auto", "cuda", False, True, False),  # on CUDA --amp decides
        ("auto", "cuda", True, False, True),
        ("float32", "cpu", False, True, False),
        ("float32", "cuda", True, True, False),
        ("bfloat16", "cpu", False, False, True),
    ],
)
def test_discriminator_precision_choice(
    monkeypatch: pytest.MonkeyPatch, precision: str, device: str, amp: bool, amx: bool, expected: bool
) -> None:
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    assert judges_in_bfloat16(precision, torch.device(device), amp) is expected


def _one_step_gradients(make_config, root: Path, precision: str) -> tuple[dict, dict[str, torch.dtype]]:
    trainer = Pix2PixTrainer(make_config(root, d_precision=precision), torch.device("cpu"))
    conv_out: dict[str, torch.dtype] = {}
    for name, module in [*trainer.netD.named_modules(prefix="D"), *trainer.netG.named_modules(prefix="G")]:
        if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
            module.register_forward_hook(lambda _m, _a, out, name=name: conv_out.update({name: out.dtype}))
    trainer.optG.step = trainer.optD.step = lambda *a, **k: None  # keep the gradients of the first step
    torch.manual_seed(0)  # the same batch and dropout masks in both runs
    a, b = torch.rand(2, 4, 1, 32, 32) * 2 - 1
    trainer.training_step({"A": a, "B": b})
    grads = {
        f"{net}.{n}": p.grad
        for net in ("G", "D")
        for n, p in getattr(trainer, f"net{net}").named_parameters()
    }
    assert all(p.dtype == torch.float32 for p in [*trainer.netD.parameters(), *trainer.netG.parameters()])
    return grads, conv_out


def test_bfloat16_discriminator_gives_the_float32_gradients(make_config, small_root: Path) -> None:
    """D's convolutions run in bfloat16, G's in float32, and both networks' gradients agree with float32."""
    exact, exact_dtypes = _one_step_gradients(make_config, small_root, "float32")
    fast, fast_dtypes = _one_step_gradients(make_config, small_root, "bfloat16")
    assert set(exact_dtypes.values()) == {torch.float32}
    assert {d for n, d in fast_dtypes.items() if n.startswith("D")} == {torch.bfloat16}
    assert {d for n, d in fast_dtypes.items() if n.startswith("G")} == {torch.float32}
    for name, grad in exact.items():  # G's gradient comes back through D; D's weights stay float32
        if grad is None or grad.norm() < 1e-8:
            continue
        cosine = F.cosine_similarity(grad.flatten(), fast[name].flatten(), dim=0).item()
        # bfloat16 keeps 8 significant bits: D's own gradients agree to ~1%, G's (mostly L1) to 0.1%
        assert cosine > (0.98 if name.startswith("D") else 0.999), f"{name}: cosine {cosine:.4f}"
