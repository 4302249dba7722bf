"""StyleGAN2 generator (Karras et al. 2020) with NVIDIA's parameter names, shapes and call signatures.

A state dict moves unchanged between this module and `training.networks.Generator`
(stylegan2-ada-pytorch) or `training.networks_stylegan2.Generator` (stylegan3 repo) built
with the same kwargs. Modules are the paper's: mapping MLP, modulated convolutions with
demodulation, ToRGB layers, and orig/skip/resnet synthesis architectures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from autodrag.networks.common import FullyConnectedLayer, GeneratorBase, SynthesisOutput, normalize_2nd_moment
from stylegan_ops import bias_act, conv2d_resample, fma, upfirdn2d

__all__ = [
    "Conv2dLayer",
    "Generator",
    "MappingNetwork",
    "SynthesisBlock",
    "SynthesisLayer",
    "SynthesisNetwork",
    "ToRGBLayer",
    "modulated_conv2d",
]

NOISE_MODES = ("random", "const", "none")
ARCHITECTURES = ("orig", "skip", "resnet")


def modulated_conv2d(
    x: torch.Tensor,  # [N, I, H, W] input features.
    weight: torch.Tensor,  # [O, I, k, k] convolution weight.
    styles: torch.Tensor,  # [N, I] per-sample modulation.
    noise: torch.Tensor | None = None,  # Broadcastable to [N, O, H', W'], added after the conv.
    up: int = 1,
    down: int = 1,
    padding: int = 0,
    resample_filter: torch.Tensor | None = None,
    demodulate: bool = True,
    flip_weight: bool = True,
    fused_modconv: bool = True,  # One grouped convolution (True) or scale-conv-scale (False).
) -> torch.Tensor:
    """Modulated (and demodulated) convolution. Both forms compute the same function."""
    batch_size = x.shape[0]
    _out_channels, in_channels, kh, kw = weight.shape
    assert styles.shape == (batch_size, in_channels), styles.shape

    if x.dtype == torch.float16 and demodulate:  # keep fp16 activations in range
        weight = weight * (
            1 / np.sqrt(in_channels * kh * kw) / weight.norm(float("inf"), dim=[1, 2, 3], keepdim=True)
        )
        styles = styles / styles.norm(float("inf"), dim=1, keepdim=True)

    w = dcoefs = None
    if fused_modconv:
        w = weight.unsqueeze(0) * styles.reshape(batch_size, 1, -1, 1, 1)  # [N, O, I, k, k]
        if demodulate:
            dcoefs = (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()  # [N, O]
            w = w * dcoefs.reshape(batch_size, -1, 1, 1, 1)
    elif demodulate:  # the same sum, sum_i s_i^2 sum_k W_oik^2, without the [N, O, I, k, k] tensor
        dcoefs = (styles.square() @ weight.square().sum(dim=[2, 3]).t() + 1e-8).rsqrt()  # [N, O]

    if not fused_modconv:
        x = x * styles.to(x.dtype).reshape(batch_size, -1, 1, 1)
        x = conv2d_resample.conv2d_resample(
            x=x,
            w=weight.to(x.dtype),
            f=resample_filter,
            up=up,
            down=down,
            padding=padding,
            flip_weight=flip_weight,
        )
        if demodulate and noise is not None:
            return fma.fma(x, dcoefs.to(x.dtype).reshape(batch_size, -1, 1, 1), noise.to(x.dtype))
        if demodulate:
            return x * dcoefs.to(x.dtype).reshape(batch_size, -1, 1, 1)
        if noise is not None:
            return x + noise.to(x.dtype)
        return x

    x = x.reshape(1, -1, *x.shape[2:])
    w = w.reshape(-1, in_channels, kh, kw)
    x = conv2d_resample.conv2d_resample(
        x=x,
        w=w.to(x.dtype),
        f=resample_filter,
        up=up,
        down=down,
        padding=padding,
        groups=batch_size,
        flip_weight=flip_weight,
    )
    x = x.reshape(batch_size, -1, *x.shape[2:])
    if noise is not None:
        x = x + noise.to(x.dtype)
    return x


class Conv2dLayer(torch.nn.Module):
    """Plain equalised-lr convolution with optional resampling (the resnet skip path)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        bias: bool = True,
        activation: str = "linear",
        up: int = 1,
        down: int = 1,
        resample_filter: Sequence[int] = (1, 3, 3, 1),
        conv_clamp: float | None = None,  # Clamp the output to +-X, None = disable.
        channels_last: bool = False,  # Accepted for compatibility; memory format is chosen at run time.
        trainable: bool = True,
    ) -> None:
        super().__init__()
        self.activation = activation
        self.up = up
        self.down = down
        self.conv_clamp = conv_clamp
        self.register_buffer("resample_filter", upfirdn2d.setup_filter(list(resample_filter)))
        self.padding = kernel_size // 2
        self.weight_gain = 1 / np.sqrt(in_channels * kernel_size**2)
        self.act_gain = bias_act.ACTIVATIONS[activation].def_gain
        weight = torch.randn([out_channels, in_channels, kernel_size, kernel_size])
        bias_value = torch.zeros([out_channels]) if bias else None
        if trainable:
            self.weight = torch.nn.Parameter(weight)
            self.bias = torch.nn.Parameter(bias_value) if bias_value is not None else None
        else:
            self.register_buffer("weight", weight)
            self.register_buffer("bias", bias_value)

    def forward(self, x: torch.Tensor, gain: float = 1) -> torch.Tensor:
        w = self.weight * self.weight_gain
        b = self.bias.to(x.dtype) if self.bias is not None else None
        x = conv2d_resample.conv2d_resample(
            x=x,
            w=w.to(x.dtype),
            f=self.resample_filter,
            up=self.up,
            down=self.down,
            padding=self.padding,
            flip_weight=(self.up == 1),
        )
        act_gain = self.act_gain * gain
        act_clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return bias_act.bias_act(x, b, act=self.activation, gain=act_gain, clamp=act_clamp)


class MappingNetwork(torch.nn.Module):
    """z (+ embedded class c) -> w, broadcast to `num_ws` rows, with truncation toward `w_avg`."""

    def __init__(
        self,
        z_dim: int,  # Input latent (Z) dimensionality, 0 = no latent.
        c_dim: int,  # Conditioning label (C) dimensionality, 0 = no label.
        w_dim: int,  # Intermediate latent (W) dimensionality.
        num_ws: int | None,  # Number of intermediate latents to output, None = do not broadcast.
        num_layers: int = 8,  # Number of mapping layers.
        embed_features: int | None = None,  # Label embedding dimensionality, None = same as w_dim.
        layer_features: int | None = None,  # Hidden features, None = same as w_dim.
        activation: str = "lrelu",
        lr_multiplier: float = 0.01,  # Learning-rate multiplier for the mapping layers.
        w_avg_beta: float | None = 0.995,  # Decay for the tracked average of W, None = do not track.
    ) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.c_dim = c_dim
        self.w_dim = w_dim
        self.num_ws = num_ws
        self.num_layers = num_layers
        self.w_avg_beta = w_avg_beta
        if embed_features is None:
            embed_features = w_dim
        if c_dim == 0:
            embed_features = 0
        if layer_features is None:
            layer_features = w_dim
        features = [z_dim + embed_features] + [layer_features] * (num_layers - 1) + [w_dim]
        if c_dim > 0:
            self.embed = FullyConnectedLayer(c_dim, embed_features)
        for idx in range(num_layers):
            layer = FullyConnectedLayer(
                features[idx], features[idx + 1], activation=activation, lr_multiplier=lr_multiplier
            )
            setattr(self, f"fc{idx}", layer)
        if num_ws is not None and w_avg_beta is not None:
            self.register_buffer("w_avg", torch.zeros([w_dim]))

    def forward(
        self,
        z: torch.Tensor,  # [N, z_dim]
        c: torch.Tensor | None,  # [N, c_dim]
        truncation_psi: float = 1,
        truncation_cutoff: int | None = None,  # Truncate only the first rows, None = all.
        update_emas: bool = False,  # Update w_avg (training only).
        skip_w_avg_update: bool = False,  # stylegan2-ada-pytorch's name for the opposite of update_emas.
    ) -> torch.Tensor:  # [N, num_ws, w_dim] (or [N, w_dim] when num_ws is None)
        parts = []
        if self.z_dim > 0:
            parts.append(normalize_2nd_moment(z.to(torch.float32)))
        if self.c_dim > 0:
            if c is None or c.shape[-1] != self.c_dim:
                raise ValueError(f"this generator is conditional: c must have {self.c_dim} columns")
            parts.append(normalize_2nd_moment(self.embed(c.to(torch.float32))))
        x = torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]
        for idx in range(self.num_layers):
            x = getattr(self, f"fc{idx}")(x)
        if update_emas and self.w_avg_beta is not None:
            self.w_avg.copy_(x.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        if self.num_ws is None:
            return x
        x = x.unsqueeze(1).repeat([1, self.num_ws, 1])
        if truncation_psi != 1:
            if truncation_cutoff is None:
                x = self.w_avg.lerp(x, truncation_psi)
            else:
                x = x.clone()
                x[:, :truncation_cutoff] = self.w_avg.lerp(x[:, :truncation_cutoff], truncation_psi)
        return x

    def extra_repr(self) -> str:
        return f"z_dim={self.z_dim}, c_dim={self.c_dim}, w_dim={self.w_dim}, num_ws={self.num_ws}"


class SynthesisLayer(torch.nn.Module):
    """Modulated 3x3 conv (optionally 2x upsampling) + noise + bias + activation."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        resolution: int,  # Output resolution.
        kernel_size: int = 3,
        up: int = 1,
        use_noise: bool = True,
        activation: str = "lrelu",
        resample_filter: Sequence[int] = (1, 3, 3, 1),
        conv_clamp: float | None = None,
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.w_dim = w_dim
        self.resolution = resolution
        self.up = up
        self.use_noise = use_noise
        self.activation = activation
        self.conv_clamp = conv_clamp
        self.register_buffer("resample_filter", upfirdn2d.setup_filter(list(resample_filter)))
        self.padding = kernel_size // 2
        self.act_gain = bias_act.ACTIVATIONS[activation].def_gain
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = torch.nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        if use_noise:
            self.register_buffer("noise_const", torch.randn([resolution, resolution]))
            self.noise_strength = torch.nn.Parameter(torch.zeros([]))
        self.bias = torch.nn.Parameter(torch.zeros([out_channels]))

    def forward(
        self,
        x: torch.Tensor,
        w: torch.Tensor,
        noise_mode: str = "random",
        fused_modconv: bool = True,
        gain: float = 1,
    ) -> torch.Tensor:
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        styles = self.affine(w)
        noise = None
        if self.use_noise and noise_mode == "random":
            noise = (
                torch.randn([x.shape[0], 1, self.resolution, self.resolution], device=x.device)
                * self.noise_strength
            )
        if self.use_noise and noise_mode == "const":
            noise = self.noise_const * self.noise_strength
        x = modulated_conv2d(
            x=x,
            weight=self.weight,
            styles=styles,
            noise=noise,
            up=self.up,
            padding=self.padding,
            resample_filter=self.resample_filter,
            flip_weight=(self.up == 1),
            fused_modconv=fused_modconv,
        )
        act_gain = self.act_gain * gain
        act_clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return bias_act.bias_act(
            x, self.bias.to(x.dtype), act=self.activation, gain=act_gain, clamp=act_clamp
        )

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, out_channels={self.out_channels}, "
            f"resolution={self.resolution}, up={self.up}, activation={self.activation}"
        )


class ToRGBLayer(torch.nn.Module):
    """Modulated 1x1 conv to image channels, no demodulation."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        kernel_size: int = 1,
        conv_clamp: float | None = None,
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.w_dim = w_dim
        self.conv_clamp = conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = torch.nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        self.bias = torch.nn.Parameter(torch.zeros([out_channels]))
        self.weight_gain = 1 / np.sqrt(in_channels * kernel_size**2)

    def forward(self, x: torch.Tensor, w: torch.Tensor, fused_modconv: bool = True) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain
        x = modulated_conv2d(
            x=x, weight=self.weight, styles=styles, demodulate=False, fused_modconv=fused_modconv
        )
        return bias_act.bias_act(x, self.bias.to(x.dtype), clamp=self.conv_clamp)

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, out_channels={self.out_channels}"


class SynthesisBlock(torch.nn.Module):
    """One resolution of the synthesis network: (const | conv0 up) + conv1 (+ ToRGB, + resnet skip)."""

    def __init__(
        self,
        in_channels: int,  # 0 = first block (learned constant input).
        out_channels: int,
        w_dim: int,
        resolution: int,
        img_channels: int,
        is_last: bool,
        architecture: str = "skip",
        resample_filter: Sequence[int] = (1, 3, 3, 1),
        conv_clamp: float | None = 256,
        use_fp16: bool = False,  # Run in fp16 when on CUDA.
        fp16_channels_last: bool = False,
        fused_modconv_default: bool | str = True,  # stylegan3-repo kwarg; True/False/'inference_only'.
        **layer_kwargs: Any,
    ) -> None:
        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")
        super().__init__()
        self.in_channels = in_channels
        self.w_dim = w_dim
        self.resolution = resolution
        self.img_channels = img_channels
        self.is_last = is_last
        self.architecture = architecture
        self.use_fp16 = use_fp16
        self.fused_modconv_default = fused_modconv_default
        self.register_buffer("resample_filter", upfirdn2d.setup_filter(list(resample_filter)))
        self.num_conv = 0
        self.num_torgb = 0
        if in_channels == 0:
            self.const = torch.nn.Parameter(torch.randn([out_channels, resolution, resolution]))
        else:
            self.conv0 = SynthesisLayer(
                in_channels,
                out_channels,
                w_dim=w_dim,
                resolution=resolution,
                up=2,
                resample_filter=resample_filter,
                conv_clamp=conv_clamp,
                **layer_kwargs,
            )
            self.num_conv += 1
        self.conv1 = SynthesisLayer(
            out_channels,
            out_channels,
            w_dim=w_dim,
            resolution=resolution,
            conv_clamp=conv_clamp,
            **layer_kwargs,
        )
        self.num_conv += 1
        if is_last or architecture == "skip":
            self.torgb = ToRGBLayer(out_channels, img_channels, w_dim=w_dim, conv_clamp=conv_clamp)
            self.num_torgb += 1
        if in_channels != 0 and architecture == "resnet":
            self.skip = Conv2dLayer(
                in_channels, out_channels, kernel_size=1, bias=False, up=2, resample_filter=resample_filter
            )

    def forward(
        self,
        x: torch.Tensor | None,
        img: torch.Tensor | None,
        ws: torch.Tensor,
        force_fp32: bool = False,
        fused_modconv: bool | None = None,
        update_emas: bool = False,
        need_image: bool = True,
        **layer_kwargs: Any,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Returns (features, image so far); with need_image=False the RGB branch is skipped (image None)."""
        w_iter = iter(ws.unbind(dim=1))
        on_cuda = ws.device.type == "cuda"
        dtype = torch.float16 if (self.use_fp16 and on_cuda and not force_fp32) else torch.float32
        if fused_modconv is None:
            # a drag or a projection (ws needs gradients): the scale-conv-scale form's style gradient
            # is activation-sized work, the fused one's weight-sized (1.2x a drag step)
            if ws.requires_grad:
                fused_modconv = False
            elif self.fused_modconv_default == "inference_only":
                fused_modconv = not self.training
            elif isinstance(self.fused_modconv_default, bool) and not self.fused_modconv_default:
                fused_modconv = False
            else:  # stylegan2-ada-pytorch's rule
                fused_modconv = (not self.training) and (dtype == torch.float32 or ws.shape[0] == 1)

        if self.in_channels == 0:
            x = self.const.to(dtype).unsqueeze(0).repeat([ws.shape[0], 1, 1, 1])
            x = self.conv1(x, next(w_iter), fused_modconv=fused_modconv, **layer_kwargs)
        elif self.architecture == "resnet":
            x = x.to(dtype)
            y = self.skip(x, gain=np.sqrt(0.5))
            x = self.conv0(x, next(w_iter), fused_modconv=fused_modconv, **layer_kwargs)
            x = self.conv1(x, next(w_iter), fused_modconv=fused_modconv, gain=np.sqrt(0.5), **layer_kwargs)
            x = y + x
        else:
            x = x.to(dtype)
            x = self.conv0(x, next(w_iter), fused_modconv=fused_modconv, **layer_kwargs)
            x = self.conv1(x, next(w_iter), fused_modconv=fused_modconv, **layer_kwargs)

        if not need_image:
            return x, None
        if img is not None:
            img = upfirdn2d.upsample2d(img, self.resample_filter)
        if self.is_last or self.architecture == "skip":
            y = self.torgb(x, next(w_iter), fused_modconv=fused_modconv).to(torch.float32)
            img = img + y if img is not None else y
        return x, img

    def extra_repr(self) -> str:
        return f"resolution={self.resolution}, architecture={self.architecture}"


class SynthesisNetwork(torch.nn.Module):
    """ws [N, num_ws, w_dim] -> image [N, C, H, W] through blocks b4, b8, ..., b<res>."""

    def __init__(
        self,
        w_dim: int,
        img_resolution: int,  # Output resolution, a power of two >= 4.
        img_channels: int,
        channel_base: int = 32768,  # Overall multiplier for the number of channels.
        channel_max: int = 512,  # Maximum number of channels in any layer.
        num_fp16_res: int = 4,  # Use fp16 (on CUDA) for the N highest resolutions.
        **block_kwargs: Any,  # Passed to SynthesisBlock: architecture, conv_clamp, ...
    ) -> None:
        if img_resolution < 4 or img_resolution & (img_resolution - 1):
            raise ValueError(f"img_resolution must be a power of two >= 4, got {img_resolution}")
        super().__init__()
        self.w_dim = w_dim
        self.img_resolution = img_resolution
        self.img_resolution_log2 = int(np.log2(img_resolution))
        self.img_channels = img_channels
        self.num_fp16_res = num_fp16_res
        self.block_resolutions = [2**i for i in range(2, self.img_resolution_log2 + 1)]
        channels = {res: min(channel_base // res, channel_max) for res in self.block_resolutions}
        fp16_resolution = max(2 ** (self.img_resolution_log2 + 1 - num_fp16_res), 8)
        self.num_ws = 0
        for res in self.block_resolutions:
            in_channels = channels[res // 2] if res > 4 else 0
            block = SynthesisBlock(
                in_channels,
                channels[res],
                w_dim=w_dim,
                resolution=res,
                img_channels=img_channels,
                is_last=(res == img_resolution),
                use_fp16=(res >= fp16_resolution),
                **block_kwargs,
            )
            self.num_ws += block.num_conv
            if res == img_resolution:
                self.num_ws += block.num_torgb
            setattr(self, f"b{res}", block)

    @property
    def num_feature_layers(self) -> int:
        """How many feature maps `forward_features` can return (one per block)."""
        return len(self.block_resolutions)

    @property
    def drag_feature_index(self) -> int:
        """DragGAN's feature map: block 6 (128x128, `feat[5]`), or the last block of a smaller network."""
        return min(5, self.num_feature_layers - 1)

    def feature_window(self, index: int) -> tuple[float, float]:
        """(offset, extent) in feature pixels of the region that covers the image; StyleGAN2 maps it whole."""
        return 0.0, float(self.block_resolutions[index])

    def _split_ws(self, ws: torch.Tensor, grad_rows: int | None) -> list[torch.Tensor]:
        """Each block's slice of ws (blocks share the ToRGB row with the next block's conv0).

        Rows >= grad_rows get no gradient; a slice lying wholly there is detached, so the blocks using
        it skip their style weight-gradient work.
        """
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must be [N, {self.num_ws}, {self.w_dim}], got {list(ws.shape)}")
        if grad_rows is not None and grad_rows < self.num_ws:
            ws = torch.cat(
                [ws[:, :grad_rows], ws[:, grad_rows:].detach()], dim=1
            )  # exact for straddling blocks
        block_ws, w_idx = [], 0
        for res in self.block_resolutions:
            block = getattr(self, f"b{res}")
            cur = ws.narrow(1, w_idx, block.num_conv + block.num_torgb)
            block_ws.append(cur.detach() if grad_rows is not None and w_idx >= grad_rows else cur)
            w_idx += block.num_conv
        return block_ws

    def forward_features(
        self,
        ws: torch.Tensor,
        stop_at: int | None = None,
        grad_rows: int | None = None,
        need_image: bool = True,
        **block_kwargs: Any,
    ) -> SynthesisOutput:
        """Run blocks 0..stop_at (all when None); return every block's feature map and the image if finished.

        Args:
            ws: [N, num_ws, w_dim].
            stop_at: last block to run; blocks above it (and every RGB branch) are skipped.
            grad_rows: rows of ws at or above this index are treated as constants (no gradient work
                for them), e.g. the fixed W+ rows of a drag. None = all rows.
            need_image: False skips the RGB branch even when every block runs (image None): a drag
                on the last block's features that needs no image.
        """
        last = self.num_feature_layers - 1 if stop_at is None else stop_at
        if not 0 <= last < self.num_feature_layers:
            raise ValueError(f"stop_at must be in [0, {self.num_feature_layers - 1}], got {stop_at}")
        finished = last == self.num_feature_layers - 1 and need_image
        x = img = None
        features = []
        for index, (res, cur_ws) in enumerate(zip(self.block_resolutions, self._split_ws(ws, grad_rows))):
            x, img = getattr(self, f"b{res}")(x, img, cur_ws, need_image=finished, **block_kwargs)
            features.append(x)
            if index == last:
                break
        return SynthesisOutput(features, img)

    def forward(self, ws: torch.Tensor, **block_kwargs: Any) -> torch.Tensor:
        return self.forward_features(ws, **block_kwargs).image

    def extra_repr(self) -> str:
        return (
            f"w_dim={self.w_dim}, num_ws={self.num_ws}, img_resolution={self.img_resolution}, "
            f"img_channels={self.img_channels}, num_fp16_res={self.num_fp16_res}"
        )


class Generator(GeneratorBase):
    """StyleGAN2 generator: `mapping` (z, c -> ws) followed by `synthesis` (ws -> image)."""

    family = "stylegan2"
    mapping_class = MappingNetwork
    synthesis_class = SynthesisNetwork

    def __init__(
        self,
        z_dim: int,
        c_dim: int,
        w_dim: int,
        img_resolution: int,
        img_channels: int,
        mapping_kwargs: dict | None = None,  # Passed to MappingNetwork.
        synthesis_kwargs: dict | None = None,  # stylegan2-ada-pytorch style; merged with **kwargs.
        **extra_synthesis_kwargs: Any,  # stylegan3-repo style: synthesis kwargs given flat.
    ) -> None:
        super().__init__()
        synthesis_kwargs = {**(synthesis_kwargs or {}), **extra_synthesis_kwargs}
        mapping_kwargs = dict(mapping_kwargs or {})
        init_kwargs = dict(
            z_dim=z_dim,
            c_dim=c_dim,
            w_dim=w_dim,
            img_resolution=img_resolution,
            img_channels=img_channels,
            mapping_kwargs=mapping_kwargs,
            synthesis_kwargs=synthesis_kwargs,
        )
        self._build(
            z_dim, c_dim, w_dim, img_resolution, img_channels, mapping_kwargs, synthesis_kwargs, init_kwargs
        )
