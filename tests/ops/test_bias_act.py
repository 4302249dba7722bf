"""bias_act: reference vs formulas, spec table, gradients, layouts, kernel math, CUDA vs ref."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest
import torch

from stylegan_ops import _build
from stylegan_ops.bias_act import ACTIVATIONS, bias_act

SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717

# The defaults NVIDIA's networks rely on: act -> (alpha, gain).
EXPECTED_DEFAULTS = {
    "linear": (0.0, 1.0),
    "relu": (0.0, math.sqrt(2)),
    "lrelu": (0.2, math.sqrt(2)),
    "tanh": (0.0, 1.0),
    "sigmoid": (0.0, 1.0),
    "elu": (0.0, 1.0),
    "selu": (0.0, 1.0),
    "softplus": (0.0, 1.0),
    "swish": (0.0, math.sqrt(2)),
}
ACTS = sorted(EXPECTED_DEFAULTS)


def formula(act: str, v: np.ndarray, alpha: float) -> np.ndarray:
    """f(v) written out in float64 numpy."""
    if act == "linear":
        return v
    if act == "relu":
        return np.where(v > 0, v, 0.0)
    if act == "lrelu":
        return np.where(v > 0, v, alpha * v)
    if act == "tanh":
        return np.tanh(v)
    if act == "sigmoid":
        return 1 / (1 + np.exp(-v))
    if act == "elu":
        return np.where(v > 0, v, np.exp(v) - 1)
    if act == "selu":
        return SELU_SCALE * np.where(v > 0, v, SELU_ALPHA * (np.exp(v) - 1))
    if act == "softplus":
        return np.log1p(np.exp(v))
    if act == "swish":
        return v / (1 + np.exp(-v))
    raise KeyError(act)


def expected(x, b, dim, act, alpha=None, gain=None, clamp=None) -> torch.Tensor:
    a, g = EXPECTED_DEFAULTS[act]
    alpha = a if alpha is None else alpha
    gain = g if gain is None else gain
    v = x.detach().double().numpy()
    if b is not None:
        shape = [1] * v.ndim
        shape[dim] = -1
        v = v + b.detach().double().numpy().reshape(shape)
    y = formula(act, v, alpha) * gain
    if clamp is not None:
        y = np.clip(y, -clamp, clamp)
    return torch.from_numpy(y)


def away_from_kinks(shape, b=None, dim=1, margin=0.05, seed=0) -> torch.Tensor:
    """Random float64 input whose biased value stays `margin` away from 0 (relu/lrelu kinks)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, dtype=torch.float64, generator=g)
    if b is not None:
        bb = b.reshape([-1 if i == dim else 1 for i in range(len(shape))])
        v = x + bb
        v = torch.where(v.abs() < margin, v.sign() * margin + v, v)
        x = v - bb
    else:
        x = torch.where(x.abs() < margin, x.sign() * margin + x, x)
    return x


# --- spec table -------------------------------------------------------------------------------


def test_spec_table_defaults():
    assert set(ACTIVATIONS) == set(EXPECTED_DEFAULTS)
    for act, (alpha, gain) in EXPECTED_DEFAULTS.items():
        spec = ACTIVATIONS[act]
        assert spec.def_alpha == pytest.approx(alpha, abs=0), act
        assert spec.def_gain == pytest.approx(gain, abs=0), act


def test_spec_table_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ACTIVATIONS["lrelu"].def_alpha = 0.1


def test_spec_table_matches_kernel_enum():
    header = (_build.CSRC_DIR / "bias_act_math.h").read_text()
    enum = {m[0].lower(): int(m[1]) for m in re.findall(r"\bk(\w+)\s*=\s*(\d+),", header)}
    assert enum == {act: spec.cuda_idx for act, spec in ACTIVATIONS.items()}


@pytest.mark.parametrize("act", ACTS)
def test_spec_has_2nd_grad_matches_ref(act):
    x = away_from_kinks([64], margin=0.1).requires_grad_(True)
    (g,) = torch.autograd.grad(bias_act(x, act=act, impl="ref").sum(), x, create_graph=True)
    if not g.requires_grad:
        second = torch.zeros_like(x)
    else:
        (second,) = torch.autograd.grad(g.sum(), x, allow_unused=True)
        second = torch.zeros_like(x) if second is None else second
    assert bool(second.abs().max() > 1e-6) == ACTIVATIONS[act].has_2nd_grad


# --- reference vs formulas ----------------------------------------------------------------------

CONFIGS = [
    {},
    {"alpha": 0.3, "gain": 0.7},
    {"gain": 2.5, "clamp": 0.8},
    {"clamp": 0.0},
]


@pytest.mark.parametrize(
    "cfg", CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "defaults"
)
@pytest.mark.parametrize("act", ACTS)
def test_ref_matches_formula(act, cfg):
    x = torch.randn(2, 5, 7, dtype=torch.float64) * 3
    b = torch.randn(5, dtype=torch.float64)
    y = bias_act(x, b, act=act, impl="ref", **cfg)
    torch.testing.assert_close(y, expected(x, b, 1, act, **cfg), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(bias_act(x, act=act, impl="ref", **cfg), expected(x, None, 1, act, **cfg))


@pytest.mark.parametrize("dim", [0, 1, 2, 3])
def test_bias_broadcasts_along_dim(dim):
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    b = torch.randn(x.shape[dim], dtype=torch.float64)
    y = bias_act(x, b, dim=dim, act="lrelu", impl="ref")
    torch.testing.assert_close(y, expected(x, b, dim, "lrelu"))


def test_float32_and_auto_on_cpu_is_ref():
    x = torch.randn(2, 4, 3, 3)
    b = torch.randn(4)
    y = bias_act(x, b, act="lrelu", clamp=1.0)
    assert y.dtype == torch.float32
    torch.testing.assert_close(y, expected(x, b, 1, "lrelu", clamp=1.0).float())


@pytest.mark.parametrize("layout", ["transposed", "channels_last", "sliced"])
def test_non_contiguous_inputs(layout, layout_of):
    base = torch.randn(3, 4, 5, 6, dtype=torch.float64)
    x = layout_of(base, layout)
    b = torch.randn(4, dtype=torch.float64)
    torch.testing.assert_close(bias_act(x, b, act="swish", impl="ref"), expected(x, b, 1, "swish"))


def test_argument_errors():
    x = torch.randn(2, 3)
    with pytest.raises(ValueError, match="unknown activation"):
        bias_act(x, act="gelu")
    with pytest.raises(ValueError, match="clamp"):
        bias_act(x, clamp=-1)
    with pytest.raises(AssertionError):
        bias_act(x, torch.zeros(2))
    with pytest.raises(ValueError, match="impl"):
        bias_act(x, impl="triton")
    with pytest.raises(ValueError, match="CUDA tensor"):
        bias_act(x, impl="cuda")


# --- gradients of the reference ------------------------------------------------------------------


@pytest.mark.parametrize("act", ACTS)
def test_ref_gradcheck(act):
    b = torch.randn(3, dtype=torch.float64).requires_grad_(True)
    x = away_from_kinks([2, 3, 4], b.detach()).requires_grad_(True)

    def fn(x, b):
        return bias_act(x, b, act=act, gain=1.3, clamp=2.5, impl="ref")

    assert torch.autograd.gradcheck(fn, (x, b))
    assert torch.autograd.gradgradcheck(fn, (x, b))


# --- the CUDA code path, run on CPU through the kernel math harness ------------------------------


@pytest.mark.parametrize("cfg", CONFIGS[:3], ids=["defaults", "alpha-gain", "gain-clamp"])
@pytest.mark.parametrize("act", ACTS)
def test_kernel_math_forward(kernel_path, act, cfg):
    x = torch.randn(2, 5, 3, 4, dtype=torch.float64) * 3
    b = torch.randn(5, dtype=torch.float64)
    torch.testing.assert_close(bias_act(x, b, act=act, **cfg), expected(x, b, 1, act, **cfg))
    x32, b32 = x.float(), b.float()
    torch.testing.assert_close(
        bias_act(x32, b32, act=act, **cfg),
        bias_act(x32, b32, act=act, impl="ref", **cfg),
        rtol=1e-5,
        atol=1e-5,
    )
    assert "bias_act" in kernel_path.calls


@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "transposed", "sliced"])
@pytest.mark.parametrize("dim", [0, 1, 3])
def test_kernel_math_bias_layouts(kernel_path, layout, dim, layout_of):
    base = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    x = layout_of(base, layout)
    b = torch.randn(x.shape[dim], dtype=torch.float64)
    torch.testing.assert_close(bias_act(x, b, dim=dim, act="tanh"), expected(x, b, dim, "tanh"))


@pytest.mark.parametrize("clamp", [None, 0.9])
@pytest.mark.parametrize("act", ACTS)
def test_kernel_math_gradients_match_ref(kernel_path, act, clamp):
    """First and second derivatives of the kernel path equal those of the reference."""
    b0 = torch.randn(3, dtype=torch.float64)
    x0 = away_from_kinks([2, 3, 4], b0)
    w = torch.randn(2, 3, 4, dtype=torch.float64)  # a generic downstream loss

    def grads(impl):
        x, b = x0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
        y = bias_act(x, b, act=act, gain=1.7, clamp=clamp, impl=impl)
        gx, gb = torch.autograd.grad((y * w).sum(), (x, b), create_graph=True)
        loss2 = (gx * w).sum() + gb.square().sum()
        ggx = ggb = None
        if loss2.requires_grad:  # not for linear: its first derivative is constant
            ggx, ggb = torch.autograd.grad(loss2, (x, b), allow_unused=True)
        zeros = torch.zeros_like
        return gx, gb, (zeros(x) if ggx is None else ggx), (zeros(b) if ggb is None else ggb)

    for got, want in zip(grads("auto"), grads("ref")):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("act", ["lrelu", "sigmoid", "swish"])
def test_kernel_math_gradcheck(kernel_path, act):
    b = torch.randn(3, dtype=torch.float64).requires_grad_(True)
    x = away_from_kinks([2, 3, 3], b.detach()).requires_grad_(True)

    def fn(x, b):
        return bias_act(x, b, act=act, clamp=2.0)

    assert torch.autograd.gradcheck(fn, (x, b))
    assert torch.autograd.gradgradcheck(fn, (x, b))


def test_kernel_path_size_one_dims_with_mixed_strides(kernel_path):
    """[N, C, 1, 1] is both contiguous and channels_last; gradients may arrive in either form."""
    x = torch.randn(4, 8, 1, 1, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 1, 1, 8, dtype=torch.float64).permute(0, 3, 1, 2)  # strides (8, 1, 8, 8)
    b = torch.randn(8, dtype=torch.float64)
    (g,) = torch.autograd.grad((bias_act(x, b, act="tanh") * w).sum(), x)
    (want,) = torch.autograd.grad((bias_act(x, b, act="tanh", impl="ref") * w).sum(), x)
    torch.testing.assert_close(g, want)


def test_kernel_path_identity_skips_the_kernel(kernel_path):
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    y = bias_act(x)  # linear, gain 1, no bias, no clamp
    (g,) = torch.autograd.grad((y * 3).sum(), x)
    assert torch.equal(y, x) and torch.equal(g, torch.full_like(x, 3.0))
    assert kernel_path.calls == []


# --- real CUDA kernel vs reference (needs a GPU) -------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
@pytest.mark.parametrize("act", ACTS)
def test_cuda_matches_ref(cuda_device, act, dtype):
    x = (torch.randn(4, 8, 9, 7, device=cuda_device) * 3).to(dtype)
    b = torch.randn(8, device=cuda_device).to(dtype)
    for xx in (x, x.contiguous(memory_format=torch.channels_last)):
        got = bias_act(xx, b, act=act, clamp=3.0, impl="cuda")
        want = bias_act(xx.double(), b.double(), act=act, clamp=3.0, impl="ref")
        tol = {torch.float16: 2e-2, torch.float32: 1e-5, torch.float64: 1e-10}[dtype]
        torch.testing.assert_close(got.double(), want, rtol=tol, atol=tol)


@pytest.mark.parametrize("act", ACTS)
def test_cuda_gradients_match_ref(cuda_device, act):
    b0 = torch.randn(6, dtype=torch.float64, device=cuda_device)
    x0 = away_from_kinks([3, 6, 5, 5], b0.cpu()).to(cuda_device)
    w = torch.randn_like(x0)

    def grads(impl):
        x, b = x0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
        y = bias_act(x, b, act=act, clamp=2.0, impl=impl)
        gx, gb = torch.autograd.grad((y * w).sum(), (x, b), create_graph=True)
        loss2 = (gx * w).sum()
        ggx = torch.autograd.grad(loss2, x, allow_unused=True)[0] if loss2.requires_grad else None
        return gx, gb, torch.zeros_like(x) if ggx is None else ggx

    for got, want in zip(grads("cuda"), grads("ref")):
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9)
