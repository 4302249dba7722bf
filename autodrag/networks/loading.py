"""Load generators from NVIDIA pickles (safely) or from AutoDrag's safetensors + JSON format; save the latter.

The family (StyleGAN2 or StyleGAN3) is read from the contents, never from the file name, and the
source code stored in NVIDIA pickles is never executed: see `pickle_reader`.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
from pathlib import Path
from typing import Any

import numpy as np
import torch

from autodrag import paths
from autodrag.atomic import write_bytes_atomic
from autodrag.networks import stylegan2, stylegan3
from autodrag.networks.common import init_args_as_kwargs
from autodrag.networks.pickle_reader import PersistentRecord, UnsafePickleError, read_network_pickle

__all__ = [
    "FAMILIES",
    "RESTORE_HINT",
    "AnyGenerator",
    "GeneratorLoadError",
    "UnsafePickleError",
    "build_generator",
    "detect_family",
    "generator_from_record",
    "load_default_generator",
    "load_generator",
    "save_generator",
]

AnyGenerator = stylegan2.Generator | stylegan3.Generator
FAMILIES: dict[str, type[torch.nn.Module]] = {
    "stylegan2": stylegan2.Generator,
    "stylegan3": stylegan3.Generator,
}
FORMAT_NAME = "autodrag-generator"
FORMAT_VERSION = 1
RESTORE_HINT = (
    "restore it with `git checkout -- checkpoints/` or retrain it with `autodrag toyfaces "
    "train-generator` then `autodrag toyfaces train-generator --minutes 0 --export "
    f"{paths.BUNDLED_GENERATOR}` (docs/TOYFACES.md), or pass --ckpt"
)


class GeneratorLoadError(ValueError):
    """A checkpoint could not be turned into a generator; the message names the file and the reason."""


def detect_family(record: PersistentRecord) -> str:
    """'stylegan2' or 'stylegan3', from the structure of a Generator record (not its module name)."""
    synthesis = record.children.get("synthesis")
    if not isinstance(synthesis, PersistentRecord):
        raise ValueError("the generator has no synthesis network")
    children = synthesis.children
    if "input" in children or synthesis.attribute("layer_names") is not None:
        return "stylegan3"
    if "b4" in children or synthesis.attribute("block_resolutions") is not None:
        return "stylegan2"
    raise ValueError(f"unknown generator family (synthesis children: {sorted(children)[:6]})")


def _plain(value: Any) -> Any:
    """Init kwargs as JSON-able Python values (EasyDict -> dict, numpy scalars -> numbers)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _generator_kwargs(record: PersistentRecord, family: str) -> dict:
    """Constructor kwargs of our Generator for a pickled NVIDIA Generator record."""
    cls = FAMILIES[family]
    kwargs = _plain(init_args_as_kwargs(cls, record.init_args, record.init_kwargs))
    if family == "stylegan2":
        synthesis = record.children["synthesis"]
        if synthesis.attribute("num_fp16_res") is None:
            # stylegan2-ada-pytorch classes: their defaults differ from the stylegan3 repo's.
            nested = kwargs.setdefault("synthesis_kwargs", {})
            flat_keys = set(kwargs) - {
                "z_dim",
                "c_dim",
                "w_dim",
                "img_resolution",
                "img_channels",
                "mapping_kwargs",
                "synthesis_kwargs",
            }
            if "num_fp16_res" not in nested and "num_fp16_res" not in flat_keys:
                nested["num_fp16_res"] = 0
            if "conv_clamp" not in nested and "conv_clamp" not in flat_keys:
                nested["conv_clamp"] = None
    return kwargs


def build_generator(family: str, init_kwargs: dict) -> AnyGenerator:
    """A fresh (randomly initialised) generator of `family` from NVIDIA-style init kwargs."""
    if family not in FAMILIES:
        raise ValueError(f"unknown generator family {family!r} (known: {', '.join(FAMILIES)})")
    return FAMILIES[family](**init_kwargs)


def _copy_tensors(model: torch.nn.Module, tensors: dict[str, torch.Tensor | None]) -> None:
    """Copy every parameter and buffer; all names and shapes must match both ways."""
    expected = model.state_dict()
    given = {k: v for k, v in tensors.items() if v is not None}
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"tensors do not match the architecture (missing: {missing[:4]}, unexpected: {unexpected[:4]})"
        )
    for name, value in given.items():
        if tuple(value.shape) != tuple(expected[name].shape):
            raise ValueError(
                f"tensor {name} has shape {list(value.shape)}, "
                f"the architecture needs {list(expected[name].shape)}"
            )
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in given.items()}, strict=True)


def generator_from_record(record: PersistentRecord) -> AnyGenerator:
    """Rebuild our module from a pickled Generator record: class name + init kwargs + tensors."""
    if record.class_name != "Generator":
        raise ValueError(f"expected a Generator, found {record.class_name}")
    family = detect_family(record)
    G = build_generator(family, _generator_kwargs(record, family))
    _copy_tensors(G, record.tensors())
    return G


def _select_generator_record(data: Any) -> PersistentRecord:
    if isinstance(data, PersistentRecord):
        return data
    if isinstance(data, dict):
        for key in ("G_ema", "G"):
            if isinstance(data.get(key), PersistentRecord):
                return data[key]
        raise ValueError(f"no 'G_ema' or 'G' network in the pickle (keys: {sorted(map(str, data))[:8]})")
    raise ValueError(f"the pickle holds a {type(data).__name__}, not a network snapshot")


def _load_pickle(path: Path) -> AnyGenerator:
    try:
        with open(path, "rb") as stream:
            data = read_network_pickle(stream)
    except UnsafePickleError as exc:
        raise GeneratorLoadError(
            f"{path}: refused to load: {exc} (nothing from the file was executed)"
        ) from None
    except EOFError:
        raise GeneratorLoadError(f"{path}: the file is truncated (pickle stream ends early)") from None
    except (
        pickle.UnpicklingError,
        ValueError,
        TypeError,
        IndexError,
        KeyError,
        AttributeError,
        UnicodeDecodeError,
        OverflowError,
        RuntimeError,
        struct.error,
    ) as exc:
        raise GeneratorLoadError(
            f"{path}: not a readable network pickle ({type(exc).__name__}: {exc})"
        ) from None
    try:
        return generator_from_record(_select_generator_record(data))
    except (ValueError, TypeError, KeyError) as exc:
        raise GeneratorLoadError(f"{path}: {exc}") from None


def _config_path(path: Path) -> Path:
    return path.with_suffix(".json")


def _load_safetensors(path: Path) -> AnyGenerator:
    from safetensors import SafetensorError
    from safetensors.torch import load_file, safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise GeneratorLoadError(f"{path}: not a readable safetensors file ({exc})") from None
    config_file = _config_path(path)
    try:
        if config_file.exists():
            config = json.loads(config_file.read_text())
        elif "config" in metadata:
            config = json.loads(metadata["config"])
        else:
            raise GeneratorLoadError(f"{path}: no config: expected {config_file.name} beside it")
    except json.JSONDecodeError as exc:
        raise GeneratorLoadError(f"{config_file}: invalid JSON ({exc})") from None
    if config.get("format") != FORMAT_NAME:
        raise GeneratorLoadError(
            f"{config_file}: not an AutoDrag generator config (format={config.get('format')!r})"
        )
    try:
        G = build_generator(config["family"], config["init_kwargs"])
    except (KeyError, TypeError, ValueError) as exc:
        raise GeneratorLoadError(
            f"{config_file}: bad generator config ({type(exc).__name__}: {exc})"
        ) from None
    try:
        _copy_tensors(G, tensors)
    except ValueError as exc:
        raise GeneratorLoadError(f"{path}: shapes disagree with its config: {exc}") from None
    return G


def load_generator(path: str | os.PathLike | None = None, device: str | torch.device = "cpu") -> AnyGenerator:
    """Load a generator for inference (eval mode, no parameter gradients).

    Args:
        path: an NVIDIA `.pkl` (stylegan2-ada-pytorch or stylegan3 repo, StyleGAN2 or StyleGAN3),
            an AutoDrag `.safetensors` (config in the `.json` beside it), or None for the bundled default.
        device: where to put the model.
    Raises:
        GeneratorLoadError: the file is missing, unsafe, corrupt, or holds no usable generator.
    """
    if path is None:
        G = load_default_generator()
    else:
        path = Path(path)
        if not path.is_file():
            raise GeneratorLoadError(f"{path}: no such file")
        G = _load_safetensors(path) if path.suffix == ".safetensors" else _load_pickle(path)
        _check_finite(G, path)
    return G.eval().requires_grad_(False).to(device)


def _check_finite(G: torch.nn.Module, path: Path) -> None:
    """NaN or inf weights make blank images without any error later: refuse them at load, naming the tensor."""
    for name, tensor in [*G.named_parameters(), *G.named_buffers()]:
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise GeneratorLoadError(f"{path}: weight {name} contains NaN or inf")


def load_default_generator() -> AnyGenerator:
    """The bundled generator (`autodrag.paths.BUNDLED_GENERATOR`).

    Raises:
        GeneratorLoadError: it is missing or corrupt (the message says how to restore or retrain it).
    """
    bundled = paths.BUNDLED_GENERATOR
    if not bundled.is_file():
        raise GeneratorLoadError(f"the bundled model {bundled} is missing: {RESTORE_HINT}")
    try:
        return load_generator(bundled)
    except GeneratorLoadError as exc:
        raise GeneratorLoadError(f"{exc} (the bundled model: {RESTORE_HINT})") from None


def save_generator(G: AnyGenerator, path: str | os.PathLike, extra: dict | None = None) -> Path:
    """Write `G` as `<path>.safetensors` + `<path>.json` (family, init kwargs, `extra` info), atomically."""
    from safetensors.torch import save

    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"{path}: the file name must end in .safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "family": G.family,
        "init_kwargs": _plain(G.init_kwargs),
        **(extra or {}),
    }
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in G.state_dict().items()}
    blob = save(tensors, metadata={"config": json.dumps(config)})
    write_bytes_atomic(_config_path(path), (json.dumps(config, indent=2) + "\n").encode())
    write_bytes_atomic(path, blob)
    return path
