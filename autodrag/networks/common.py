"""Layers and helpers shared by the StyleGAN2 and StyleGAN3 generators (NVIDIA parameter names)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

from stylegan_ops import bias_act

__all__ = [
    "FullyConnectedLayer",
    "GeneratorBase",
    "SynthesisOutput",
    "init_args_as_kwargs",
    "normalize_2nd_moment",
]


def normalize_2nd_moment(x: torch.Tensor, dim: int = 1, eps: float = 1e-8) -> torch.Tensor:
    """Scale `x` to unit mean square along `dim` (how the mapping network normalises z and c)."""
    return x * (x.square().mean(dim=dim, keepdim=True) + eps).rsqrt()


class SynthesisOutput(NamedTuple):
    """What `synthesis.forward_features` returns.

    features: one feature map per block (StyleGAN2) or layer (StyleGAN3), in order, up to `stop_at`.
    image: the [N, C, H, W] image in [-1, 1], or None when synthesis stopped early.
    """

    features: list[torch.Tensor]
    image: torch.Tensor | None


class FullyConnectedLayer(torch.nn.Module):
    """Equalised-learning-rate linear layer with an optional fused activation."""

    def __init__(
        self,
        in_features: int,  # Number of input features.
        out_features: int,  # Number of output features.
        bias: bool = True,  # Apply an additive bias before the activation?
        activation: str = "linear",  # Activation name from stylegan_ops.bias_act.
        lr_multiplier: float = 1.0,  # Learning-rate multiplier (equalised lr).
        bias_init: float | Sequence[float] = 0.0,  # Initial bias value(s).
        weight_init: float = 1.0,  # Initial weight scale (StyleGAN3 uses 0 for the input affine).
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.activation = activation
        self.weight = torch.nn.Parameter(
            torch.randn([out_features, in_features]) * (weight_init / lr_multiplier)
        )
        bias_values = np.broadcast_to(np.asarray(bias_init, dtype=np.float32), [out_features])
        self.bias = torch.nn.Parameter(torch.from_numpy(bias_values / lr_multiplier)) if bias else None
        self.weight_gain = lr_multiplier / np.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [N, in] -> [N, out]
        w = self.weight.to(x.dtype) * self.weight_gain
        b = self.bias
        if b is not None:
            b = b.to(x.dtype)
            if self.bias_gain != 1:
                b = b * self.bias_gain
        if self.activation == "linear" and b is not None:
            return torch.addmm(b.unsqueeze(0), x, w.t())
        return bias_act.bias_act(x.matmul(w.t()), b, act=self.activation)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, activation={self.activation}"
        )


def init_args_as_kwargs(cls: type, args: Sequence, kwargs: dict) -> dict:
    """Merge positional constructor arguments into kwargs using `cls.__init__`'s parameter names."""
    import inspect

    names = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    if len(args) > len(names):
        raise TypeError(f"{cls.__name__} takes {len(names)} positional arguments, got {len(args)}")
    merged = dict(zip(names, args))
    merged.update(kwargs)
    return merged


class GeneratorBase(torch.nn.Module):
    """`mapping` (z, c -> ws) followed by `synthesis` (ws -> image), with NVIDIA's attributes and call.

    Subclasses name their two network classes and their `family`; `_build` creates them in NVIDIA's
    order (synthesis first, since it decides `num_ws`).
    """

    family = ""
    mapping_class: type[torch.nn.Module]
    synthesis_class: type[torch.nn.Module]

    def _build(
        self,
        z_dim: int,
        c_dim: int,
        w_dim: int,
        img_resolution: int,
        img_channels: int,
        mapping_kwargs: dict,
        synthesis_kwargs: dict,
        init_kwargs: dict,
    ) -> None:
        self.z_dim, self.c_dim, self.w_dim = z_dim, c_dim, w_dim
        self.img_resolution, self.img_channels = img_resolution, img_channels
        self.init_kwargs = init_kwargs  # what save_generator writes: rebuilds this exact network
        self.synthesis = self.synthesis_class(
            w_dim=w_dim, img_resolution=img_resolution, img_channels=img_channels, **synthesis_kwargs
        )
        self.num_ws = self.synthesis.num_ws
        self.mapping = self.mapping_class(
            z_dim=z_dim, c_dim=c_dim, w_dim=w_dim, num_ws=self.num_ws, **mapping_kwargs
        )

    def forward(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        truncation_psi: float = 1,
        truncation_cutoff: int | None = None,
        update_emas: bool = False,
        **synthesis_kwargs: Any,
    ) -> torch.Tensor:
        ws = self.mapping(
            z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff, update_emas=update_emas
        )
        return self.synthesis(ws, **synthesis_kwargs)
