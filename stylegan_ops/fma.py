"""Fused multiply-add `a * b + c` with a cheap backward, as in NVIDIA's StyleGAN2/3 `fma`."""

from __future__ import annotations

import torch

__all__ = ["fma"]


def fma(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Return `a * b + c` (computed with `torch.addcmul`), broadcasting all three.

    The backward reduces each gradient to its input's shape ("unbroadcasting") and is itself made
    of differentiable torch ops, so second-order gradients work.
    """
    return _FusedMultiplyAdd.apply(a, b, c)


class _FusedMultiplyAdd(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, c):
        out = torch.addcmul(c, a, b)
        ctx.save_for_backward(a, b)
        ctx.c_shape = c.shape
        return out

    @staticmethod
    def backward(ctx, dout):
        a, b = ctx.saved_tensors
        da = db = dc = None
        if ctx.needs_input_grad[0]:
            da = _unbroadcast(dout * b, a.shape)
        if ctx.needs_input_grad[1]:
            db = _unbroadcast(dout * a, b.shape)
        if ctx.needs_input_grad[2]:
            dc = _unbroadcast(dout, ctx.c_shape)
        return da, db, dc


def _unbroadcast(x: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """Sum `x` over the dimensions that broadcasting expanded from `shape`."""
    extra = x.ndim - len(shape)
    assert extra >= 0
    if extra:
        x = x.sum(dim=list(range(extra)))
    dims = [i for i, s in enumerate(shape) if s == 1 and x.shape[i] != 1]
    if dims:
        x = x.sum(dim=dims, keepdim=True)
    assert x.shape == shape, f"cannot unbroadcast {tuple(x.shape)} to {tuple(shape)}"
    return x
