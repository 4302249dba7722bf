"""filtered_lrelu: reference vs the definition (bias, up, lrelu*gain, clamp, down), gradients, CUDA."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from stylegan_ops.filtered_lrelu import filtered_lrelu
from stylegan_ops.upfirdn2d import setup_filter

SQRT2 = math.sqrt(2)


def lowpass(numtaps: int, seed: int) -> torch.Tensor:
    """A separable (1-D, >= 8 taps) or small 2-D filter with random positive taps."""
    g = torch.Generator().manual_seed(seed)
    return setup_filter(torch.rand(numtaps, generator=g) + 0.5)


def radial(size: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return setup_filter(torch.rand(size, size + 1, generator=g) + 0.5)


CASES = {
    "sg3-up2-down2": {
        "fu": lowpass(12, 0),
        "fd": lowpass(12, 1),
        "up": 2,
        "down": 2,
        "padding": [10, 10, 10, 10],
    },
    "no-resampling": {"fu": None, "fd": None, "padding": 0},
    "up4-radial-down2-clamp": {
        "fu": radial(6, 2),
        "fd": lowpass(8, 3),
        "up": 4,
        "down": 2,
        "padding": [5, 4, 6, 3],
        "clamp": 0.7,
    },
    "down-only-flip-gain": {
        "fu": None,
        "fd": radial(3, 4),
        "down": 2,
        "padding": [1, 2],
        "gain": 1.5,
        "slope": 0.05,
        "flip_filter": True,
    },
}


def definition(
    naive,
    x,
    b,
    fu=None,
    fd=None,
    up=1,
    down=1,
    padding=0,
    gain=SQRT2,
    slope=0.2,
    clamp=None,
    flip_filter=False,
) -> torch.Tensor:
    v = x.detach().double() + b.detach().double().reshape(1, -1, 1, 1)
    v = naive(v, fu, up=up, pad=padding, gain=up**2, flip_filter=flip_filter).numpy()
    v = np.where(v > 0, v, v * slope) * gain
    if clamp is not None:
        v = np.clip(v, -clamp, clamp)
    return naive(torch.from_numpy(v), fd, down=down, flip_filter=flip_filter)


@pytest.mark.parametrize("name", list(CASES))
def test_ref_matches_definition(naive, name):
    x = torch.randn(2, 3, 6, 5, dtype=torch.float64)
    b = torch.randn(3, dtype=torch.float64)
    y = filtered_lrelu(x, b=b, impl="ref", **CASES[name])
    torch.testing.assert_close(y, definition(naive, x, b, **CASES[name]), rtol=1e-10, atol=1e-10)


def test_output_shape_formula():
    x = torch.randn(1, 2, 16, 12)
    fu, fd = lowpass(12, 0), lowpass(12, 1)
    y = filtered_lrelu(x, fu, fd, up=2, down=2, padding=[10, 9, 8, 11])
    assert y.shape == (1, 2, (16 * 2 + 19 - 11 - 11 + 1) // 2, (12 * 2 + 19 - 11 - 11 + 1) // 2)
    assert y.dtype == x.dtype


def test_float32_defaults_match_definition(naive):
    x = torch.randn(1, 4, 8, 8)
    case = CASES["sg3-up2-down2"]
    y = filtered_lrelu(x, **case)
    torch.testing.assert_close(y.double(), definition(naive, x, torch.zeros(4), **case), rtol=1e-5, atol=1e-5)


def test_non_contiguous_input(naive):
    x = torch.randn(1, 3, 7, 6, dtype=torch.float64).transpose(2, 3)
    b = torch.randn(3, dtype=torch.float64)
    case = CASES["up4-radial-down2-clamp"]
    torch.testing.assert_close(filtered_lrelu(x, b=b, **case), definition(naive, x, b, **case))


def test_argument_checks():
    x = torch.randn(1, 2, 4, 4)
    with pytest.raises(AssertionError):
        filtered_lrelu(x, b=torch.zeros(3))
    with pytest.raises(AssertionError):
        filtered_lrelu(x, gain=0)
    with pytest.raises(AssertionError):
        filtered_lrelu(x, slope=-0.1)
    with pytest.raises(ValueError, match="impl"):
        filtered_lrelu(x, impl="fast")


def test_gradcheck():
    x = torch.randn(1, 1, 3, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(1, dtype=torch.float64, requires_grad=True)
    fu, fd = setup_filter([1, 3, 3, 1]).double(), setup_filter([1, 2, 1]).double()

    def fn(x, b):
        return filtered_lrelu(x, fu, fd, b, up=2, down=2, padding=3, clamp=5.0, impl="ref")

    assert torch.autograd.gradcheck(fn, (x, b))
    assert torch.autograd.gradgradcheck(fn, (x, b), fast_mode=True)


def test_kernel_path_composes_the_kernels(kernel_path):
    x = torch.randn(2, 3, 6, 5, dtype=torch.float64)
    b = torch.randn(3, dtype=torch.float64)
    case = CASES["up4-radial-down2-clamp"]
    want = filtered_lrelu(x, b=b, impl="ref", **case)
    assert kernel_path.calls == []  # impl='ref' never touches the extension
    torch.testing.assert_close(filtered_lrelu(x, b=b, **case), want, rtol=1e-12, atol=1e-12)
    assert kernel_path.calls.count("bias_act") == 2 and "upfirdn2d" in kernel_path.calls


@pytest.mark.parametrize("name", list(CASES))
def test_cuda_matches_ref(cuda_device, name):
    case = {k: (v.to(cuda_device) if isinstance(v, torch.Tensor) else v) for k, v in CASES[name].items()}
    x = torch.randn(2, 4, 16, 16, device=cuda_device)
    b = torch.randn(4, device=cuda_device)
    got = filtered_lrelu(x, b=b, impl="cuda", **case)
    torch.testing.assert_close(got, filtered_lrelu(x, b=b, impl="ref", **case), rtol=1e-4, atol=1e-4)
