"""Write our modules as NVIDIA-format network pickles (persistent objects), for loader tests.

The stream has the structure upstream snapshots have: a dict of networks, each a
REDUCE(torch_utils.persistence._reconstruct_persistent_obj, (meta,)) whose `state` is the
module's __dict__ (parameters, buffers, children, plain attributes, init args). Tensors are
pickled by torch itself, exactly as upstream does.
"""

from __future__ import annotations

import pickle
import sys
import types
from pathlib import Path

import numpy as np
import torch

MODULE_SRC = "# source omitted from test fixture\n"


def _reconstruct_persistent_obj(meta):  # never called: only its name is pickled
    raise AssertionError("test helper must not be executed")


def _install_fake_modules() -> None:
    """Make `torch_utils.persistence` and `dnnlib.util` importable names for the pickler to reference."""
    for name in ("torch_utils", "torch_utils.persistence", "dnnlib", "dnnlib.util"):
        sys.modules.setdefault(name, types.ModuleType(name))
    persistence = sys.modules["torch_utils.persistence"]
    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    persistence._reconstruct_persistent_obj = _reconstruct_persistent_obj


class _Persistent:
    def __init__(self, meta: dict) -> None:
        self.meta = meta

    def __reduce__(self):
        return _reconstruct_persistent_obj, (self.meta,)


def _plain_attributes(module: torch.nn.Module) -> dict:
    out = {}
    for key, value in vars(module).items():
        if key.startswith("_") or key in ("training", "init_kwargs"):
            continue
        if isinstance(value, (bool, int, float, str, list, tuple, np.ndarray, np.generic)) or value is None:
            out[key] = value
    return out


def _as_persistent(
    module: torch.nn.Module, init_args: tuple = (), init_kwargs: dict | None = None
) -> _Persistent:
    state = {
        "training": False,
        "_parameters": {
            k: (torch.nn.Parameter(v.detach().clone(), requires_grad=False) if v is not None else None)
            for k, v in module._parameters.items()
        },
        "_buffers": {k: (v.detach().clone() if v is not None else None) for k, v in module._buffers.items()},
        "_non_persistent_buffers_set": set(),
        "_modules": {k: (_as_persistent(v) if v is not None else None) for k, v in module._modules.items()},
        **_plain_attributes(module),
        "_init_args": tuple(init_args),
        "_init_kwargs": dict(init_kwargs or {}),
    }
    meta = {
        "type": "class",
        "version": 6,
        "module_src": MODULE_SRC,
        "class_name": type(module).__name__,
        "state": state,
    }
    return _Persistent(meta)


def write_network_pickle(
    path: Path,
    G: torch.nn.Module,
    extra: dict | None = None,
    protocol: int = 4,
    keys: tuple[str, ...] = ("G", "G_ema"),
) -> Path:
    """Pickle `G` (as 'G' and 'G_ema' by default) the way an NVIDIA training snapshot stores it."""
    _install_fake_modules()
    record = _as_persistent(G, init_kwargs=G.init_kwargs)
    data = {key: record for key in keys}
    data.update(extra or {})
    path.write_bytes(pickle.dumps(data, protocol=protocol))
    return path
