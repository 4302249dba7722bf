"""upfirdn2d and friends: reference vs explicit loops, padding rules, gradients, kernel math, CUDA."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stylegan_ops.upfirdn2d import (
    _parse_padding,
    _parse_scaling,
    _transpose_padding,
    _upfirdn2d_ref,
    downsample2d,
    filter2d,
    setup_filter,
    upfirdn2d,
    upsample2d,
)


def rand_filter(shape, seed=0) -> torch.Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float32) + 0.1


CASES = {
    "up2-binomial": {"f": setup_filter([1, 3, 3, 1]), "up": 2, "pad": [2, 1, 2, 1], "gain": 4},
    "down2-binomial": {"f": setup_filter([1, 3, 3, 1]), "down": 2, "pad": 1},
    "anisotropic": {"f": rand_filter([3, 4]), "up": [2, 1], "down": [1, 2], "pad": [1, 2]},
    "up3-down2-negpad": {"f": rand_filter([3, 5]), "up": 3, "down": 2, "pad": [4, -1, 2, 3]},
    "separable-up": {"f": rand_filter([8]), "up": 2, "pad": [4, 3, 4, 3], "gain": 3.0},
    "separable-down-flip": {"f": rand_filter([9]), "down": 3, "pad": [4, 4, 2, 5], "flip_filter": True},
    "no-filter-crop": {"f": None, "down": 2, "pad": [-1, 2, 0, -2]},
    "flip-gain": {"f": rand_filter([3, 3]), "pad": 1, "flip_filter": True, "gain": 0.5},
    "one-tap-separable": {
        "f": setup_filter([2.0], normalize=False, separable=True),
        "up": 2,
        "pad": [0, 1, 1, 0],
    },
}


def run(x, case, impl="ref"):
    return upfirdn2d(
        x,
        case["f"],
        up=case.get("up", 1),
        down=case.get("down", 1),
        padding=case.get("pad", 0),
        flip_filter=case.get("flip_filter", False),
        gain=case.get("gain", 1),
        impl=impl,
    )


def run_naive(naive, x, case):
    return naive(
        x,
        case["f"],
        case.get("up", 1),
        case.get("down", 1),
        case.get("pad", 0),
        case.get("flip_filter", False),
        case.get("gain", 1),
    )


# --- argument normalisers and setup_filter -------------------------------------------------------


def test_parse_scaling_and_padding():
    assert _parse_scaling(2) == (2, 2)
    assert _parse_scaling([3, 1]) == (3, 1)
    assert _parse_padding(1) == (1, 1, 1, 1)
    assert _parse_padding([1, 2]) == (1, 1, 2, 2)
    assert _parse_padding((1, -2, 3, 4)) == (1, -2, 3, 4)
    for bad in (0, [1, 0], 1.5):
        with pytest.raises(AssertionError):
            _parse_scaling(bad)
    with pytest.raises(AssertionError):
        _parse_padding([1, 2, 3])


def test_setup_filter():
    f = setup_filter([1, 3, 3, 1])
    assert f.dtype == torch.float32 and f.shape == (4, 4)
    torch.testing.assert_close(
        f, torch.outer(torch.tensor([1.0, 3, 3, 1]), torch.tensor([1.0, 3, 3, 1])) / 64
    )
    assert setup_filter([1.0] * 8).shape == (8,)  # >= 8 taps: separable by default
    assert setup_filter([1, 2, 3], separable=True).shape == (3,)
    assert setup_filter([1.0] * 8, separable=False).shape == (8, 8)
    torch.testing.assert_close(setup_filter(None), torch.ones(1, 1))
    torch.testing.assert_close(setup_filter(2.0, normalize=False), torch.full((1, 1), 4.0))
    torch.testing.assert_close(setup_filter([1, 2, 3], flip_filter=True), setup_filter([3, 2, 1]))
    torch.testing.assert_close(setup_filter([1, 2], gain=4), setup_filter([1, 2]) * 4)
    torch.testing.assert_close(
        setup_filter([1, 2], separable=True, gain=4), setup_filter([1, 2], separable=True) * 2
    )
    taps = [[1.0, 2.0], [3.0, 4.0]]
    torch.testing.assert_close(setup_filter(taps, normalize=False), torch.tensor(taps))


# --- reference vs the definition ------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_ref_matches_naive(name, naive):
    x = torch.randn(2, 3, 5, 6, dtype=torch.float64)
    torch.testing.assert_close(run(x, CASES[name]), run_naive(naive, x, CASES[name]), rtol=1e-12, atol=1e-12)


def test_float32_filter_with_float32_input(naive):
    x = torch.randn(1, 2, 6, 6)
    case = CASES["up2-binomial"]
    torch.testing.assert_close(run(x, case).double(), run_naive(naive, x, case), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layout", ["transposed", "channels_last", "sliced"])
def test_non_contiguous_inputs(layout, naive, layout_of):
    base = torch.randn(2, 3, 7, 8, dtype=torch.float64)
    x = layout_of(base, layout)
    case = CASES["up3-down2-negpad"]
    torch.testing.assert_close(run(x, case), run_naive(naive, x, case))


def test_filter_must_not_require_grad():
    with pytest.raises(AssertionError):
        upfirdn2d(torch.randn(1, 1, 4, 4), torch.ones(2, 2, requires_grad=True))


def test_filter_larger_than_input_is_rejected():
    with pytest.raises(AssertionError, match="smaller than the filter"):
        upfirdn2d(torch.randn(1, 1, 2, 2), torch.ones(4, 4))


# --- wrappers: NVIDIA's padding rules -------------------------------------------------------------


@pytest.mark.parametrize(
    "taps, expected_pad",
    [([1, 3, 3, 1], [2, 1, 2, 1]), ([1, 2, 1], [1, 1, 1, 1]), (np.ones([2, 5]), [2, 2, 1, 0])],
)
def test_filter2d_padding(taps, expected_pad, naive):
    f = setup_filter(taps)
    x = torch.randn(1, 2, 6, 7, dtype=torch.float64)
    y = filter2d(x, f, padding=[1, 0, 0, 2], gain=2)
    p = np.add(expected_pad, [1, 0, 0, 2]).tolist()
    torch.testing.assert_close(y, naive(x, f, pad=p, gain=2))
    assert filter2d(x, f).shape == x.shape


@pytest.mark.parametrize(
    "taps, up, expected_pad",
    [([1, 3, 3, 1], 2, [2, 1, 2, 1]), ([1] * 6, 2, [3, 2, 3, 2]), ([1, 2, 1], [3, 2], [2, 0, 2, 0])],
)
def test_upsample2d_padding_and_gain(taps, up, expected_pad, naive):
    f = setup_filter(taps, separable=False)
    upx, upy = (up, up) if isinstance(up, int) else up
    x = torch.randn(1, 2, 4, 5, dtype=torch.float64)
    torch.testing.assert_close(upsample2d(x, f, up=up), naive(x, f, up=up, pad=expected_pad, gain=upx * upy))


def test_upsample2d_keeps_constant_images_constant():
    x = torch.full([1, 1, 6, 6], 3.0, dtype=torch.float64)
    y = upsample2d(x, setup_filter([1, 3, 3, 1]))
    assert y.shape == (1, 1, 12, 12)
    torch.testing.assert_close(y[:, :, 2:-2, 2:-2], torch.full([1, 1, 8, 8], 3.0, dtype=torch.float64))


@pytest.mark.parametrize(
    "taps, down, expected_pad",
    [([1, 3, 3, 1], 2, [1, 1, 1, 1]), ([1, 2, 1], 2, [1, 0, 1, 0]), ([1] * 5, [3, 2], [1, 1, 2, 1])],
)
def test_downsample2d_padding(taps, down, expected_pad, naive):
    f = setup_filter(taps, separable=False)
    x = torch.randn(1, 2, 8, 9, dtype=torch.float64)
    torch.testing.assert_close(
        downsample2d(x, f, down=down, gain=1.5), naive(x, f, down=down, pad=expected_pad, gain=1.5)
    )


# --- gradients ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["up3-down2-negpad", "separable-down-flip"])
def test_ref_gradcheck(name):
    x = torch.randn(1, 1, 3, 4, dtype=torch.float64, requires_grad=True)
    case = dict(CASES[name], f=CASES[name]["f"].double())
    assert torch.autograd.gradcheck(lambda x: run(x, case), (x,))
    assert torch.autograd.gradgradcheck(lambda x: run(x, case), (x,))


@pytest.mark.parametrize("seed", range(12))
def test_transpose_padding_gives_the_adjoint(seed):
    """<upfirdn2d(x), g> == <x, upfirdn2d(g) with up/down swapped, flipped f, transposed padding>."""
    rng = np.random.default_rng(seed)
    up, down = tuple(rng.integers(1, 4, 2).tolist()), tuple(rng.integers(1, 4, 2).tolist())
    f = torch.rand(*rng.integers(1, 5, 2).tolist(), dtype=torch.float64)
    pad = tuple(rng.integers(-1, 4, 4).tolist())
    flip = bool(rng.integers(2))
    x = torch.randn(1, 2, 6, 5, dtype=torch.float64)
    y = _upfirdn2d_ref(x, f, up, down, pad, flip, 1.5)
    g = torch.randn_like(y)
    pt = _transpose_padding(x.shape, y.shape, f, up, down, pad)
    xt = _upfirdn2d_ref(g, f, down, up, pt, not flip, 1.5)
    assert xt.shape == x.shape
    torch.testing.assert_close((y * g).sum(), (x * xt).sum())


# --- the CUDA code path, run on CPU through the kernel math harness ------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_kernel_math_matches_naive(kernel_path, name, naive):
    x = torch.randn(2, 3, 5, 6, dtype=torch.float64)
    want = run_naive(naive, x, CASES[name])
    torch.testing.assert_close(run(x, CASES[name], impl="auto"), want, rtol=1e-12, atol=1e-12)
    x32 = x.float()
    torch.testing.assert_close(
        run(x32, CASES[name], impl="auto"), run(x32, CASES[name]), rtol=1e-5, atol=1e-5
    )
    assert "upfirdn2d" in kernel_path.calls


@pytest.mark.parametrize("layout", ["transposed", "channels_last", "sliced"])
def test_kernel_math_non_contiguous(kernel_path, layout, naive, layout_of):
    base = torch.randn(2, 3, 7, 8, dtype=torch.float64)
    x = layout_of(base, layout)
    for name in ("up3-down2-negpad", "separable-up"):
        torch.testing.assert_close(run(x, CASES[name], impl="auto"), run_naive(naive, x, CASES[name]))


@pytest.mark.parametrize(
    "name", ["up3-down2-negpad", "separable-down-flip", "anisotropic", "one-tap-separable"]
)
def test_kernel_math_gradcheck(kernel_path, name):
    x = torch.randn(1, 1, 3, 4, dtype=torch.float64, requires_grad=True)
    case = CASES[name]
    assert torch.autograd.gradcheck(lambda x: run(x, case, impl="auto"), (x,))
    assert torch.autograd.gradgradcheck(lambda x: run(x, case, impl="auto"), (x,))


# --- real CUDA kernel vs reference (needs a GPU) -------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
@pytest.mark.parametrize("name", list(CASES))
def test_cuda_matches_ref(cuda_device, name, dtype):
    case = dict(CASES[name], f=None if CASES[name]["f"] is None else CASES[name]["f"].to(cuda_device))
    x = torch.randn(3, 4, 9, 11, device=cuda_device)
    for xx in (x, x.contiguous(memory_format=torch.channels_last), x.transpose(2, 3)):
        got = run(xx.to(dtype), case, impl="cuda").double()
        want = run(xx.double(), case, impl="ref")
        tol = {torch.float16: 2e-2, torch.float32: 1e-5, torch.float64: 1e-6}[dtype]
        torch.testing.assert_close(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", list(CASES))
def test_cuda_gradients_match_ref(cuda_device, name):
    case = dict(CASES[name], f=None if CASES[name]["f"] is None else CASES[name]["f"].to(cuda_device))
    x0 = torch.randn(2, 3, 6, 7, dtype=torch.float64, device=cuda_device)

    def grads(impl):
        x = x0.clone().requires_grad_(True)
        y = run(x, case, impl=impl)
        (gx,) = torch.autograd.grad(y.square().sum(), x, create_graph=True)
        (ggx,) = torch.autograd.grad(gx.square().sum(), x)
        return gx, ggx

    for got, want in zip(grads("cuda"), grads("ref")):
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
