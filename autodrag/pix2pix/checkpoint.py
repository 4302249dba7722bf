"""Atomic checkpoint files and the random-number state a run needs to continue bit for bit."""

from __future__ import annotations

import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from autodrag.atomic import torch_save_atomic
from autodrag.pix2pix.errors import CheckpointError

__all__ = ["LATEST", "capture_rng", "find_checkpoint", "load_checkpoint", "restore_rng", "save_atomic"]

LATEST = "latest.pt"


def save_atomic(payload: dict[str, Any], path: str | Path) -> Path:
    """``torch.save`` to a temporary file beside ``path``, then rename it over ``path``.

    A run killed mid-write leaves the previous checkpoint intact, never a truncated one.
    """
    return torch_save_atomic(payload, path)


def find_checkpoint(path: str | Path) -> Path:
    """``path`` itself if it is a file, else ``path/latest.pt``.

    Raises:
        CheckpointError: Neither exists.
    """
    path = Path(path)
    if path.is_file():
        return path
    if (path / LATEST).is_file():
        return path / LATEST
    raise CheckpointError(f"no checkpoint at {path} (expected a .pt file or a run folder with {LATEST})")


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_atomic` (tensors and plain data only).

    Raises:
        CheckpointError: Missing, truncated, or not a pix2pix checkpoint.
    """
    file = find_checkpoint(path)
    try:
        payload = torch.load(file, map_location="cpu", weights_only=True)
    except (RuntimeError, OSError, EOFError, ValueError, pickle.UnpicklingError) as exc:
        raise CheckpointError(f"cannot read checkpoint {file}: {exc}") from exc
    if not isinstance(payload, dict) or "kind" not in payload:
        raise CheckpointError(f"{file} is not a pix2pix checkpoint")
    return payload


def capture_rng() -> dict[str, Any]:
    """Snapshot Python, NumPy and torch (CPU and CUDA) random state as checkpointable data."""
    np_state = np.random.get_state()
    state: dict[str, Any] = {
        "python": list(random.getstate()[1]) + [random.getstate()[2]],
        "python_version": random.getstate()[0],
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    """Undo :func:`capture_rng`."""
    py = state["python"]
    random.setstate((state["python_version"], tuple(py[:-1]), py[-1]))
    np_state = state["numpy"]
    np.random.set_state((np_state[0], np_state[1].numpy().astype(np.uint32), *np_state[2:]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
