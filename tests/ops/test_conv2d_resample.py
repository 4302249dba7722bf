"""conv2d_resample: every dispatch branch vs the upsample -> conv -> downsample composition."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from stylegan_ops.conv2d_resample import conv2d_resample
from stylegan_ops.upfirdn2d import setup_filter

F_ASYM = torch.tensor(
    [[1.0, 2.0, 0.5, 0.2], [0.3, 1.5, 2.5, 0.7], [0.9, 0.1, 1.2, 2.2], [0.4, 0.8, 0.6, 1.1]]
)
F_ASYM = F_ASYM / F_ASYM.sum()  # asymmetric, so flip mistakes show


def naive_conv(x: np.ndarray, w: np.ndarray, groups: int, flip_weight: bool) -> np.ndarray:
    """Valid grouped 2-D correlation (flip_weight) or convolution, by loops over the taps."""
    n, _c, h, wd = x.shape
    co, ci, kh, kw = w.shape
    if not flip_weight:
        w = w[:, :, ::-1, ::-1]
    out = np.zeros([n, co, h - kh + 1, wd - kw + 1])
    per_group = co // groups
    for o in range(co):
        g = o // per_group
        for a in range(kh):
            for b in range(kw):
                patch = x[:, g * ci : (g + 1) * ci, a : a + h - kh + 1, b : b + wd - kw + 1]
                out[:, o] += np.einsum("nihw,i->nhw", patch, w[o, :, a, b])
    return out


def composition(naive, x, w, f, up, down, padding, groups, flip_weight, flip_filter) -> torch.Tensor:
    """upsample (zero-insert, pad, filter, gain up**2) -> conv -> filter -> downsample, by definition."""
    fh, fw = (1, 1) if f is None else (f.shape[0], f.shape[-1])
    padding = [padding, padding] if isinstance(padding, int) else padding
    px0, px1, py0, py1 = [padding[0], padding[0], padding[1], padding[1]] if len(padding) == 2 else padding
    if up > 1:  # keep the image centred, as upsample2d does
        px0, px1 = px0 + (fw + up - 1) // 2, px1 + (fw - up) // 2
        py0, py1 = py0 + (fh + up - 1) // 2, py1 + (fh - up) // 2
    if down > 1:  # ... and as downsample2d does
        px0, px1 = px0 + (fw - down + 1) // 2, px1 + (fw - down) // 2
        py0, py1 = py0 + (fh - down + 1) // 2, py1 + (fh - down) // 2
    y = naive(x, f if up > 1 else None, up=up, pad=[px0, px1, py0, py1], gain=up**2, flip_filter=flip_filter)
    y = torch.from_numpy(naive_conv(y.numpy(), w.detach().double().numpy(), groups, flip_weight))
    return naive(y, f if down > 1 else None, down=down, flip_filter=flip_filter)


BRANCHES = list(itertools.product([1, 3], [(1, 1), (2, 1), (1, 2), (2, 2)], [1, 2], [True, False]))


@pytest.mark.parametrize("k, updown, groups, flip_weight", BRANCHES)
def test_matches_composition(naive, k, updown, groups, flip_weight):
    up, down = updown
    i = BRANCHES.index((k, updown, groups, flip_weight))
    padding = [0, 1, [1, 0, 2, 1]][i % 3]
    flip_filter = i % 2 == 1
    x = torch.randn(2, 4, 5, 6, dtype=torch.float64)
    w = torch.randn(6, 4 // groups, k, k + 1 if k > 1 else 1, dtype=torch.float64)
    y = conv2d_resample(
        x,
        w,
        F_ASYM,
        up=up,
        down=down,
        padding=padding,
        groups=groups,
        flip_weight=flip_weight,
        flip_filter=flip_filter,
    )
    want = composition(naive, x, w, F_ASYM, up, down, padding, groups, flip_weight, flip_filter)
    torch.testing.assert_close(y, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("padding", [0, 2, [1, 2], [2, 0, 1, 1], [-1, 1, 0, 2], [1, -1, 2, 2]])
def test_no_resampling_paddings(naive, padding):
    """Symmetric padding goes to conv2d, asymmetric/negative padding to the general path."""
    x = torch.randn(1, 3, 6, 5, dtype=torch.float64)
    w = torch.randn(2, 3, 3, 3, dtype=torch.float64)
    y = conv2d_resample(x, w, None, padding=padding)
    torch.testing.assert_close(y, composition(naive, x, w, None, 1, 1, padding, 1, True, False))


def test_binomial_filter_and_float32(naive):
    x = torch.randn(1, 2, 8, 8)
    w = torch.randn(3, 2, 3, 3)
    f = setup_filter([1, 3, 3, 1])
    for up, down in [(2, 1), (1, 2)]:
        y = conv2d_resample(x, w, f, up=up, down=down, padding=1)
        want = composition(naive, x, w, f, up, down, 1, 1, True, False)
        torch.testing.assert_close(y.double(), want, rtol=1e-4, atol=1e-4)


def test_non_contiguous_inputs(naive):
    base = torch.randn(1, 4, 6, 7, dtype=torch.float64)
    w = torch.randn(4, 2, 3, 3, dtype=torch.float64).transpose(2, 3)
    for x in (base.transpose(2, 3), base.contiguous(memory_format=torch.channels_last)):
        y = conv2d_resample(x, w, F_ASYM, up=2, padding=1, groups=2)
        torch.testing.assert_close(y, composition(naive, x, w, F_ASYM, 2, 1, 1, 2, True, False))


def test_argument_checks():
    x = torch.randn(1, 2, 4, 4)
    with pytest.raises(AssertionError):
        conv2d_resample(x, torch.randn(2, 2, 3, 3, dtype=torch.float64))
    with pytest.raises(AssertionError):
        conv2d_resample(x, torch.randn(2, 2, 3, 3), up=0)


@pytest.mark.parametrize("up, down", [(2, 1), (1, 2)])
def test_gradcheck(up, down):
    x = torch.randn(1, 1, 3, 3, dtype=torch.float64, requires_grad=True)
    w = torch.randn(1, 1, 3, 3, dtype=torch.float64, requires_grad=True)
    f = setup_filter([1, 3, 3, 1]).double()

    def fn(x, w):
        return conv2d_resample(x, w, f, up=up, down=down, padding=1)

    assert torch.autograd.gradcheck(fn, (x, w))
    assert torch.autograd.gradgradcheck(fn, (x, w), fast_mode=True)  # full mode: seconds of CPU conv


def test_kernel_math_path_matches_ref(kernel_path):
    x = torch.randn(2, 4, 5, 6, dtype=torch.float64)
    w = torch.randn(4, 2, 3, 3, dtype=torch.float64)
    for up, down in [(2, 1), (1, 2), (2, 2)]:
        got = conv2d_resample(x, w, F_ASYM, up=up, down=down, padding=1, groups=2)
        want = conv2d_resample(x, w, F_ASYM, up=up, down=down, padding=1, groups=2, impl="ref")
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    assert "upfirdn2d" in kernel_path.calls


@pytest.mark.parametrize("up, down", [(1, 1), (2, 1), (1, 2), (2, 2)])
def test_cuda_matches_ref(cuda_device, up, down):
    x = torch.randn(2, 8, 16, 16, device=cuda_device)
    w = torch.randn(8, 4, 3, 3, device=cuda_device)
    f = setup_filter([1, 3, 3, 1], device=cuda_device)
    got = conv2d_resample(x, w, f, up=up, down=down, padding=1, groups=2, impl="cuda")
    want = conv2d_resample(x, w, f, up=up, down=down, padding=1, groups=2, impl="ref")
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
