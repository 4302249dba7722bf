"""fma: values and unbroadcast gradients vs plain a * b + c, gradcheck, double backward."""

from __future__ import annotations

import pytest
import torch

from stylegan_ops.fma import fma

SHAPES = [
    ([2, 3, 4], [3, 1], [1]),
    ([4], [2, 3, 4], [2, 1, 1]),
    ([1, 1], [5, 1], [5, 7]),
    ([2, 3, 1, 1], [2, 3, 4, 5], [2, 3, 4, 5]),  # StyleGAN's x * dcoefs + noise pattern, transposed roles
    ([3], [3], [3]),
]


def make(shape, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, dtype=torch.float64, generator=g).requires_grad_(True)


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_values_and_gradients_match_plain_ops(shapes):
    a, b, c = (make(s, i) for i, s in enumerate(shapes))
    out = fma(a, b, c)
    want = a * b + c
    torch.testing.assert_close(out, want)
    g = torch.randn_like(want)
    got_grads = torch.autograd.grad(out, (a, b, c), g)
    want_grads = torch.autograd.grad(want, (a, b, c), g)
    for got, exp, t in zip(got_grads, want_grads, (a, b, c)):
        assert got.shape == t.shape
        torch.testing.assert_close(got, exp)


@pytest.mark.parametrize("shapes", SHAPES[:3], ids=str)
def test_gradcheck_and_gradgradcheck(shapes):
    args = tuple(make(s, i) for i, s in enumerate(shapes))
    assert torch.autograd.gradcheck(fma, args)
    assert torch.autograd.gradgradcheck(fma, args)


def test_only_some_inputs_require_grad():
    a, b = make([2, 3], 0), torch.randn(3, dtype=torch.float64)
    c = torch.randn(2, 1, dtype=torch.float64)
    (ga,) = torch.autograd.grad(fma(a, b, c).sum(), (a,))
    torch.testing.assert_close(ga, b.expand(2, 3))


def test_non_contiguous_inputs():
    a = torch.randn(4, 3, dtype=torch.float64).t().requires_grad_(True)  # [3, 4], transposed
    b = torch.randn(3, 8, dtype=torch.float64)[:, ::2]
    c = torch.randn(3, 1, dtype=torch.float64)
    torch.testing.assert_close(fma(a, b, c), a * b + c)
    (ga,) = torch.autograd.grad(fma(a, b, c).sum(), a)
    torch.testing.assert_close(ga, b.expand(3, 4))


def test_float32_matches_addcmul():
    a, b, c = torch.randn(2, 3), torch.randn(3), torch.randn(2, 1)
    assert torch.equal(fma(a, b, c), torch.addcmul(c, a, b))
