"""The options of a pix2pix training run, and their JSON file beside the checkpoints."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autodrag.atomic import write_text_atomic
from autodrag.pix2pix.datasets import DataConfig
from autodrag.pix2pix.discriminators import DiscriminatorConfig
from autodrag.pix2pix.errors import CheckpointError
from autodrag.pix2pix.losses import GAN_MODES
from autodrag.pix2pix.networks import GeneratorConfig

__all__ = [
    "D_PRECISIONS",
    "LR_POLICIES",
    "OPTIONS_FILE",
    "TrainConfig",
    "config_to_dict",
    "dataclass_from_dict",
    "load_options",
    "non_default_options",
    "save_options",
]

LR_POLICIES: tuple[str, ...] = ("linear", "step", "cosine", "plateau")
D_PRECISIONS: tuple[str, ...] = ("auto", "float32", "bfloat16")
OPTIONS_FILE = "options.json"


@dataclass
class TrainConfig:
    """Everything that defines a pix2pix run; saved as ``options.json`` in the run folder."""

    generator: GeneratorConfig = field(default_factory=GeneratorConfig)  # G architecture and channels
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)  # D architecture
    data: DataConfig = field(default_factory=DataConfig)  # dataset location and jitter
    gan_mode: str = "vanilla"  # vanilla | lsgan | hinge | wgangp
    lambda_l1: float = 100.0  # weight of the L1 term in G's loss
    gp_weight: float = 10.0  # wgangp: weight of the gradient penalty
    n_critic: int = 1  # D updates per G update (5 is usual for wgangp)
    lr: float = 2e-4  # Adam learning rate of G and D
    beta1: float = 0.5  # Adam beta1
    beta2: float = 0.999  # Adam beta2
    batch_size: int = 1  # pairs per step and process
    n_epochs: int = (
        100  # epochs at the initial learning rate (linear policy); total = n_epochs + n_epochs_decay
    )
    n_epochs_decay: int = 100  # epochs over which the linear policy decays the rate to zero
    lr_policy: str = "linear"  # linear | step | cosine | plateau
    lr_step_epochs: int = 50  # step: multiply the rate by lr_gamma every this many epochs
    lr_gamma: float = 0.1  # step: decay factor
    plateau_factor: float = 0.5  # plateau: factor applied when validation L1 stops improving
    plateau_patience: int = 5  # plateau: epochs without improvement before decaying
    val_fraction: float = 0.0  # without a val/ split, hold out this fraction of train pairs for validation
    save_every_epochs: int = 5  # keep epoch_XXXX.pt every this many epochs (latest.pt is written every epoch)
    checkpoint_every_steps: int = 0  # also refresh latest.pt every this many steps (0: only at epoch ends)
    log_every_steps: int = 10  # average losses over this many steps per row of losses.csv
    sample_count: int = 4  # pairs shown in each epoch's sample grid
    seed: int = 0  # seeds weights, data order, jitter and dropout
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    amp: bool = False  # CUDA only: bfloat16 autocast
    d_precision: str = "auto"  # D's maths: auto (bfloat16 on AMX CPUs, else float32) | float32 | bfloat16
    channels_last: bool = False  # CUDA only: channels-last memory format
    progress: bool = True  # show a progress bar

    @property
    def total_epochs(self) -> int:
        return self.n_epochs + self.n_epochs_decay

    def validate(self) -> None:
        """Raise ValueError on inconsistent options, before any work starts."""
        if self.gan_mode not in GAN_MODES:
            raise ValueError(f"gan_mode must be one of {', '.join(GAN_MODES)}, got {self.gan_mode!r}")
        if self.gan_mode == "wgangp" and self.discriminator.norm == "batch":
            raise ValueError(
                "wgangp: batch norm in the critic breaks the per-sample gradient penalty; use --norm-d layer|instance|none"
            )
        if self.d_precision not in D_PRECISIONS:
            raise ValueError(
                f"d_precision must be one of {', '.join(D_PRECISIONS)}, got {self.d_precision!r}"
            )
        if self.lr_policy not in LR_POLICIES:
            raise ValueError(f"lr_policy must be one of {', '.join(LR_POLICIES)}, got {self.lr_policy!r}")
        if self.n_critic < 1 or self.batch_size < 1 or self.total_epochs < 1:
            raise ValueError("n_critic, batch_size and n_epochs + n_epochs_decay must be >= 1")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        for name, channels in (
            ("input", self.generator.in_channels),
            ("output", self.generator.out_channels),
        ):
            if channels not in (1, 3):
                raise ValueError(f"{name} channels must be 1 or 3, got {channels}")


def config_to_dict(cfg: Any) -> dict:
    """A dataclass as plain JSON-able dict (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


def _coerce(hint: Any, value: Any) -> Any:
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return dataclass_from_dict(hint, value)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            if arg is type(None) and value is None:
                return None
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _coerce(inner[0], value) if value is not None else None
    if origin is tuple and isinstance(value, list):
        return tuple(value)
    return value


def dataclass_from_dict(cls: type, data: dict) -> Any:
    """Rebuild a (nested) dataclass from :func:`config_to_dict` output; unknown keys raise ValueError."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"unknown options for {cls.__name__}: {', '.join(unknown)}")
    return cls(**{key: _coerce(hints[key], value) for key, value in data.items()})


def _flatten(data: dict, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def non_default_options(cfg: TrainConfig) -> dict[str, Any]:
    """Dotted option names whose value differs from the default, e.g. ``{"generator.ngf": 32}``."""
    current, default = _flatten(config_to_dict(cfg)), _flatten(config_to_dict(TrainConfig()))
    return {key: value for key, value in current.items() if default.get(key) != value}


def save_options(cfg: TrainConfig, run_dir: str | Path) -> Path:
    """Write ``run_dir/options.json``: every option, plus the non-default ones for a quick read."""
    path = Path(run_dir) / OPTIONS_FILE
    payload = {"non_default": non_default_options(cfg), "options": config_to_dict(cfg)}
    return write_text_atomic(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


def load_options(run_dir: str | Path) -> TrainConfig:
    """Read the options a run was started with.

    Raises:
        CheckpointError: The file is missing or unreadable.
    """
    path = Path(run_dir) / OPTIONS_FILE
    try:
        payload = json.loads(path.read_text())
        return dataclass_from_dict(TrainConfig, payload["options"])
    except FileNotFoundError:
        raise CheckpointError(f"{path} not found: is {run_dir} a pix2pix run folder?") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a valid options file: {exc}") from exc
