"""Fused bias + activation + gain + clamp, as in NVIDIA's StyleGAN2/3 `bias_act`.

`ACTIVATIONS` is the one spec table: the reference path and the CUDA kernel both read their
defaults and their kernel index from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from . import _build

__all__ = ["ACTIVATIONS", "ActivationSpec", "bias_act"]


@dataclass(frozen=True)
class ActivationSpec:
    """One activation of `bias_act`."""

    func: Callable[[torch.Tensor, float], torch.Tensor]  # f(x, alpha), before gain and clamp
    def_alpha: float  # default `alpha` (only lrelu reads it)
    def_gain: float  # default `gain`
    cuda_idx: int  # activation index in csrc/ops.h (`ActKind`)
    ref: str  # what the kernel's first derivative reads: 'x' forward input, 'y' forward output, '' none
    has_2nd_grad: bool  # second derivative is nonzero somewhere (kernel computes it)


_SQRT2 = math.sqrt(2)

ACTIVATIONS: dict[str, ActivationSpec] = {
    "linear": ActivationSpec(lambda x, a: x, 0.0, 1.0, 1, "", False),
    "relu": ActivationSpec(lambda x, a: F.relu(x), 0.0, _SQRT2, 2, "y", False),
    "lrelu": ActivationSpec(lambda x, a: F.leaky_relu(x, a), 0.2, _SQRT2, 3, "y", False),
    "tanh": ActivationSpec(lambda x, a: torch.tanh(x), 0.0, 1.0, 4, "y", True),
    "sigmoid": ActivationSpec(lambda x, a: torch.sigmoid(x), 0.0, 1.0, 5, "y", True),
    "elu": ActivationSpec(lambda x, a: F.elu(x), 0.0, 1.0, 6, "y", True),
    "selu": ActivationSpec(lambda x, a: F.selu(x), 0.0, 1.0, 7, "y", True),
    "softplus": ActivationSpec(lambda x, a: F.softplus(x), 0.0, 1.0, 8, "y", True),
    "swish": ActivationSpec(lambda x, a: torch.sigmoid(x) * x, 0.0, _SQRT2, 9, "x", True),
}


def _resolve(act: str, alpha: float | None, gain: float | None, clamp: float | None):
    """Fill in defaults from the spec table; clamp < 0 means 'no clamp'."""
    if act not in ACTIVATIONS:
        raise ValueError(f"unknown activation {act!r}; expected one of {sorted(ACTIVATIONS)}")
    if clamp is not None and clamp < 0:
        raise ValueError(f"clamp must be >= 0 or None, got {clamp}")
    spec = ACTIVATIONS[act]
    alpha = float(alpha if alpha is not None else spec.def_alpha)
    gain = float(gain if gain is not None else spec.def_gain)
    clamp = float(clamp if clamp is not None else -1)
    return spec, alpha, gain, clamp


def _check_bias(x: torch.Tensor, b: torch.Tensor | None, dim: int) -> None:
    if b is None:
        return
    assert isinstance(b, torch.Tensor) and b.ndim == 1, "bias must be a 1-D tensor"
    assert 0 <= dim < x.ndim, f"dim {dim} out of range for a {x.ndim}-D input"
    assert b.shape[0] == x.shape[dim], f"bias has {b.shape[0]} entries, x has {x.shape[dim]} along dim {dim}"


def bias_act(
    x: torch.Tensor,
    b: torch.Tensor | None = None,
    dim: int = 1,
    act: str = "linear",
    alpha: float | None = None,
    gain: float | None = None,
    clamp: float | None = None,
    impl: str = "auto",
) -> torch.Tensor:
    """Compute `clamp(act(x + b, alpha) * gain, -clamp, clamp)`.

    Args:
        x: input tensor of any shape.
        b: optional bias `[x.shape[dim]]`, broadcast along `dim`.
        dim: the dimension of `x` that `b` runs along.
        act: a key of `ACTIVATIONS`.
        alpha: activation shape parameter (lrelu slope); None = the table's default.
        gain: output scale; None = the table's default.
        clamp: clamp the scaled output to [-clamp, clamp]; None = no clamp.
        impl: 'auto' (kernel on CUDA tensors when it builds), 'ref' or 'cuda'.

    Returns:
        A tensor with the shape and dtype of `x`.
    """
    assert isinstance(x, torch.Tensor)
    spec, alpha, gain, clamp = _resolve(act, alpha, gain, clamp)
    _check_bias(x, b, dim)
    if _build.select_impl(impl, x) == "cuda":
        return _BiasActCuda.apply(x, b, dim, spec, alpha, gain, clamp)
    return _bias_act_ref(x, b, dim, spec, alpha, gain, clamp)


def _bias_act_ref(x, b, dim: int, spec: ActivationSpec, alpha: float, gain: float, clamp: float):
    """Plain PyTorch; differentiable to any order by autograd."""
    if b is not None:
        x = x + b.reshape([-1 if i == dim else 1 for i in range(x.ndim)])
    x = spec.func(x, alpha)
    if gain != 1:
        x = x * gain
    if clamp >= 0:
        x = x.clamp(-clamp, clamp)
    return x


# ----------------------------------------------------------------------------------------------
# CUDA path. The kernel computes, for grad = 0 / 1 / 2, the output / the first derivative times the
# incoming gradient / the second-derivative term, see csrc/bias_act_math.h.


def _memory_format(x: torch.Tensor) -> torch.memory_format:
    return torch.channels_last if x.ndim == 4 and x.stride(1) == 1 else torch.contiguous_format


def _is_identity(spec: ActivationSpec, gain: float, clamp: float) -> bool:
    return spec.cuda_idx == ACTIVATIONS["linear"].cuda_idx and gain == 1 and clamp < 0


class _BiasActCuda(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, b, dim, spec, alpha, gain, clamp):
        fmt = _memory_format(x)
        x = x.contiguous(memory_format=fmt)
        b = b.contiguous() if b is not None else None
        y = x
        if b is not None or not _is_identity(spec, gain, clamp):
            y = _build.get_plugin().bias_act(
                x, b, None, None, None, 0, dim, spec.cuda_idx, alpha, gain, clamp
            )
        keep_x = "x" in spec.ref or spec.has_2nd_grad
        # The kernel masks clamped gradients with y, so keep y whenever clamping (also for linear,
        # whose derivative does not need it; NVIDIA's CUDA path skips the mask there, unlike its ref).
        keep_y = "y" in spec.ref or clamp >= 0
        ctx.save_for_backward(x if keep_x else None, b if keep_x else None, y if keep_y else None)
        ctx.args = (fmt, dim, spec, alpha, gain, clamp)
        return y

    @staticmethod
    def backward(ctx, dy):
        fmt, dim, spec, _alpha, gain, clamp = ctx.args
        x, b, y = ctx.saved_tensors
        dy = dy.contiguous(memory_format=fmt)
        dx = db = None
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            dx = dy
            if not _is_identity(spec, gain, clamp):
                dx = _BiasActCudaGrad.apply(dy, x, b, y, *ctx.args)
        if ctx.needs_input_grad[1]:
            db = dx.sum([i for i in range(dx.ndim) if i != dim])
        return dx, db, None, None, None, None, None


class _BiasActCudaGrad(torch.autograd.Function):
    """dx = dy * f'(x) * gain (masked where clamped); differentiable once more."""

    @staticmethod
    def forward(ctx, dy, x, b, y, fmt, dim, spec, alpha, gain, clamp):
        dx = _build.get_plugin().bias_act(dy, b, x, y, None, 1, dim, spec.cuda_idx, alpha, gain, clamp)
        ctx.save_for_backward(dy if spec.has_2nd_grad else None, x, b, y)
        ctx.args = (fmt, dim, spec, alpha, gain, clamp)
        return dx

    @staticmethod
    def backward(ctx, d_dx):
        fmt, dim, spec, alpha, gain, clamp = ctx.args
        dy, x, b, y = ctx.saved_tensors
        d_dx = d_dx.contiguous(memory_format=fmt)
        d_dy = d_x = d_b = None
        if ctx.needs_input_grad[0]:
            d_dy = _BiasActCudaGrad.apply(d_dx, x, b, y, *ctx.args)
        if spec.has_2nd_grad and (ctx.needs_input_grad[1] or ctx.needs_input_grad[2]):
            d_x = _build.get_plugin().bias_act(d_dx, b, x, y, dy, 2, dim, spec.cuda_idx, alpha, gain, clamp)
        if spec.has_2nd_grad and ctx.needs_input_grad[2]:
            d_b = d_x.sum([i for i in range(d_x.ndim) if i != dim])
        return (d_dy, d_x, d_b) + (None,) * 7
