"""Seeds to latents, latent files: the one place that decides which z a seed means."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from autodrag.atomic import write_atomic

__all__ = [
    "LatentFileError",
    "fit_ws",
    "load_latent",
    "normalize_z",
    "save_latent",
    "ws_from_seed",
    "z_from_seed",
]


class LatentFileError(ValueError):
    """A latent file is missing, unreadable or of the wrong shape."""


def z_from_seed(seed: int, z_dim: int) -> np.ndarray:
    """The z for `seed`, as NVIDIA's gen_images.py draws it: float32 [1, z_dim]."""
    return np.random.RandomState(seed).randn(1, z_dim).astype(np.float32)


def ws_from_seed(G: torch.nn.Module, seed: int, truncation_psi: float = 1.0) -> torch.Tensor:
    """ws [num_ws, w_dim] of `seed` (class vector zero), on G's device: `autodrag generate --seeds` faces."""
    device = next(G.parameters()).device
    z = torch.from_numpy(z_from_seed(seed, G.z_dim)).to(device)
    with torch.no_grad():
        return G.mapping(z, torch.zeros([1, G.c_dim], device=device), truncation_psi=truncation_psi)[0]


def fit_ws(ws: np.ndarray | torch.Tensor, num_ws: int, w_dim: int) -> np.ndarray | torch.Tensor | None:
    """ws [num_ws, w_dim] from [num_ws, w_dim], [1, num_ws, w_dim], [w_dim] or [1, w_dim] (a single w is
    broadcast to every row); None when the shape is none of these. Numpy stays numpy, a tensor a tensor."""
    if ws.ndim == 3 and ws.shape[0] == 1:
        ws = ws[0]
    if ws.ndim == 2 and ws.shape[0] == 1 and num_ws != 1:
        ws = ws[0]
    if tuple(ws.shape) == (w_dim,):
        ws = (
            ws[None].repeat(num_ws, 1)
            if isinstance(ws, torch.Tensor)
            else np.repeat(ws[None], num_ws, axis=0)
        )
    return ws if tuple(ws.shape) == (num_ws, w_dim) else None


def normalize_z(z: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """What the mapping network sees: z scaled to unit second moment per row. Shape [N, z_dim]."""
    z = np.asarray(z, dtype=np.float32)
    return z / np.sqrt(np.mean(np.square(z), axis=-1, keepdims=True) + eps)


def save_latent(path: str | os.PathLike, **arrays: np.ndarray | int | float | str) -> None:
    """Write a `.npz` atomically (`atomic.write_atomic`). Typical keys: z, ws, seed, psi."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a file object: np.savez would append .npz to a name
            np.savez(f, **{k: np.asarray(v) for k, v in arrays.items()})

    write_atomic(path, write)


def load_latent(path: str | os.PathLike, num_ws: int, w_dim: int) -> np.ndarray:
    """Read `ws` [num_ws, w_dim] (or a single w [w_dim], broadcast) from an `.npz` or `.npy` file."""
    path = Path(path)
    try:
        data = np.load(path)
        ws = data["ws"] if isinstance(data, np.lib.npyio.NpzFile) else data
    except FileNotFoundError:
        raise LatentFileError(f"{path}: no such latent file") from None
    except KeyError:
        raise LatentFileError(f"{path}: no 'ws' array in the file") from None
    except Exception as exc:  # numpy raises several types for corrupt files
        raise LatentFileError(f"{path}: not a readable .npz/.npy latent ({exc})") from None
    if not (np.issubdtype(ws.dtype, np.floating) or np.issubdtype(ws.dtype, np.integer)):
        raise LatentFileError(f"{path}: ws holds {ws.dtype} values, not numbers")
    fitted = fit_ws(np.asarray(ws, dtype=np.float32), num_ws, w_dim)
    if fitted is None:
        raise LatentFileError(
            f"{path}: ws has shape {tuple(np.shape(ws))}, this generator needs ({num_ws}, {w_dim})"
        )
    if not np.isfinite(fitted).all():
        raise LatentFileError(f"{path}: ws contains NaN or inf")
    return fitted
