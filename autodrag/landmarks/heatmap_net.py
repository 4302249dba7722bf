"""The toy landmark detector's network: a small heatmap CNN with soft-argmax read-out.

A 128x128 RGB face goes through a stride-4 stem, three resolution levels (32, 16, 8 px) and a
top-down path back to 32x32, where 68 heatmap logits are turned into (x, y) input pixels by a
softmax-weighted mean over the cell centres (sub-pixel, differentiable).  Its cost: docs/BENCHMARKS.md.

Checkpoints are a safetensors file (float32 state dict) next to a JSON file holding the
`HeatmapNetConfig` and the training record; `load_heatmap_net` turns every failure into a
`LandmarkCheckpointError` that says how to restore or retrain the file.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from autodrag.atomic import write_atomic, write_json_atomic
from autodrag.pixels import rescale_points

__all__ = [
    "HeatmapNet",
    "HeatmapNetConfig",
    "LandmarkCheckpointError",
    "load_heatmap_net",
    "save_heatmap_net",
    "soft_argmax",
]

NUM_LANDMARKS = 68


class LandmarkCheckpointError(RuntimeError):
    """A landmark-detector checkpoint is missing, unreadable or does not match its config."""


@dataclass(frozen=True)
class HeatmapNetConfig:
    """Architecture of `HeatmapNet` (stored in the checkpoint's JSON)."""

    input_size: int = 128  # square input side in pixels; other sizes are resized by the detector
    stem_channels: int = 16  # channels after the first stride-2 conv
    channels: tuple[int, int, int] = (32, 64, 96)  # channels at input/4, input/8, input/16
    head_channels: int = 48  # channels of the top-down path at input/4, where heatmaps are read
    num_landmarks: int = NUM_LANDMARKS  # heatmaps (one per landmark)

    @property
    def stride(self) -> int:
        """Input pixels per heatmap cell."""
        return 4

    @property
    def heatmap_size(self) -> int:
        return self.input_size // self.stride


def _conv_bn(cin: int, cout: int, stride: int = 1, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class _ResBlock(nn.Module):
    """Two 3x3 convs with an identity shortcut."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = _conv_bn(channels, channels)
        self.conv2 = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False), nn.BatchNorm2d(channels)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.conv2(self.conv1(x)))


class HeatmapNet(nn.Module):
    """Images [N, 3, S, S] in [-1, 1] -> heatmap logits [N, 68, S/4, S/4]."""

    def __init__(self, config: HeatmapNetConfig = HeatmapNetConfig()):
        super().__init__()
        self.config = config
        c1, c2, c3 = config.channels
        self.stem = nn.Sequential(_conv_bn(3, config.stem_channels, 2), _conv_bn(config.stem_channels, c1, 2))
        self.level1 = _ResBlock(c1)
        self.down2 = _conv_bn(c1, c2, 2)
        self.level2 = _ResBlock(c2)
        self.down3 = _conv_bn(c2, c3, 2)
        self.level3 = _ResBlock(c3)
        self.lateral2 = nn.Conv2d(c2, c3, 1)
        self.fuse2 = _conv_bn(c3, config.head_channels)
        self.lateral1 = nn.Conv2d(c1, config.head_channels, 1)
        self.fuse1 = _conv_bn(config.head_channels, config.head_channels)
        self.head = nn.Conv2d(config.head_channels, config.num_landmarks, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f1 = self.level1(self.stem(x))  # [N, c1, S/4, S/4]
        f2 = self.level2(self.down2(f1))  # [N, c2, S/8, S/8]
        f3 = self.level3(self.down3(f2))  # [N, c3, S/16, S/16]
        t2 = self.fuse2(self.lateral2(f2) + F.interpolate(f3, scale_factor=2.0, mode="nearest"))
        t1 = self.fuse1(self.lateral1(f1) + F.interpolate(t2, scale_factor=2.0, mode="nearest"))
        return self.head(t1)

    def extra_repr(self) -> str:
        return f"config={self.config}"


def soft_argmax(logits: torch.Tensor, stride: int) -> torch.Tensor:
    """Expected (x, y) input pixels of each heatmap under its softmax.

    Args:
        logits: [N, K, h, w] heatmap logits.
        stride: input pixels per heatmap cell.
    Returns:
        [N, K, 2] (x, y), pixel centres at integers (cell j covers input pixels j*stride ..
        (j+1)*stride - 1, whose centre is (j + 0.5) * stride - 0.5).
    """
    n, k, h, w = logits.shape
    prob = torch.softmax(logits.reshape(n, k, h * w).float(), dim=-1).reshape(n, k, h, w)
    xs = rescale_points(torch.arange(w, device=logits.device, dtype=prob.dtype), stride)  # cell -> pixel
    ys = rescale_points(torch.arange(h, device=logits.device, dtype=prob.dtype), stride)
    x = (prob.sum(dim=2) * xs).sum(dim=-1)
    y = (prob.sum(dim=3) * ys).sum(dim=-1)
    return torch.stack([x, y], dim=-1)


def _json_path(weights: Path) -> Path:
    return weights.with_suffix(".json")


def save_heatmap_net(model: HeatmapNet, path: str | os.PathLike, record: dict) -> None:
    """Write `path` (.safetensors) and its .json (config + `record`) atomically (temp + rename)."""
    from safetensors.torch import save_file

    path = Path(path)
    tensors = {
        k: v.detach().to("cpu", torch.float32).contiguous()
        for k, v in model.state_dict().items()
        if v.is_floating_point()
    }
    write_atomic(
        path, lambda tmp: save_file(tensors, str(tmp), metadata={"format": "autodrag-toyfaces-landmarks"})
    )
    meta = {"format": "autodrag-toyfaces-landmarks", "version": 1, "config": asdict(model.config), **record}
    write_json_atomic(_json_path(path), meta)


def load_heatmap_net(path: str | os.PathLike, how_to_fix: str = "") -> tuple[HeatmapNet, dict]:
    """Load a checkpoint written by `save_heatmap_net`; the model is returned in eval mode.

    Args:
        path: the .safetensors file (its .json must sit next to it).
        how_to_fix: appended to every error message (how to restore or retrain the file).
    Returns:
        (model, metadata from the JSON).
    Raises:
        LandmarkCheckpointError: missing, corrupt or mismatched files.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    suffix = f" {how_to_fix}" if how_to_fix else ""
    for p in (path, _json_path(path)):
        if not p.is_file():
            raise LandmarkCheckpointError(f"landmark checkpoint file {p} is missing.{suffix}")
    try:
        meta = json.loads(_json_path(path).read_text())
        known = {f.name for f in fields(HeatmapNetConfig)}
        cfg = {k: tuple(v) if isinstance(v, list) else v for k, v in meta["config"].items() if k in known}
        config = HeatmapNetConfig(**cfg)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LandmarkCheckpointError(
            f"{_json_path(path)} is not a valid detector config ({exc}).{suffix}"
        ) from None
    try:
        tensors = load_file(str(path))
    except (OSError, SafetensorError) as exc:
        raise LandmarkCheckpointError(f"{path} is not a readable safetensors file ({exc}).{suffix}") from None
    model = HeatmapNet(config)
    expected = {k for k, v in model.state_dict().items() if v.is_floating_point()}
    if set(tensors) != expected:
        missing, unexpected = sorted(expected - set(tensors)), sorted(set(tensors) - expected)
        raise LandmarkCheckpointError(
            f"{path} does not match its config (missing {missing[:3]}, unexpected {unexpected[:3]}).{suffix}"
        )
    try:
        model.load_state_dict(tensors, strict=False)
    except RuntimeError as exc:  # shape mismatch
        raise LandmarkCheckpointError(f"{path} does not match its config ({exc}).{suffix}") from None
    return model.eval(), meta
