"""Pivotal-tuned generator weights on disk: a safetensors file of the tensors that differ from the base.

Metadata: format, version, `stored` ("changed" or "all"), the changed tensor names (JSON list) and the
base generator's fingerprint (sha256 of its state dict), so that loading onto another base is an error.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from pathlib import Path

import torch

from autodrag.atomic import write_atomic

__all__ = ["FORMAT", "TunedWeightsError", "changed_tensors", "fingerprint", "load_tuned", "save_tuned"]

FORMAT = "autodrag-tuned"
VERSION = "1"
ALL_FRACTION = 0.8  # changed tensors holding more than this share of the values: store everything


class TunedWeightsError(ValueError):
    """A tuned-weights file is missing, unreadable, damaged or made for another base generator."""


def fingerprint(G: torch.nn.Module) -> str:
    """sha256 (hex, 16 chars) over G's state dict: names, dtypes, shapes and values."""
    digest = hashlib.sha256()
    for name, tensor in sorted(G.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
        digest.update(t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()[:16]


def changed_tensors(G_base: torch.nn.Module, G_tuned: torch.nn.Module) -> list[str]:
    """Names of the state-dict tensors of G_tuned that differ from G_base's (same names and shapes needed)."""
    base, tuned = G_base.state_dict(), G_tuned.state_dict()
    if base.keys() != tuned.keys():
        raise TunedWeightsError("the tuned generator's tensors do not match the base generator's names")
    return [
        n for n in tuned if base[n].shape != tuned[n].shape or not torch.equal(base[n].cpu(), tuned[n].cpu())
    ]


def save_tuned(G_base: torch.nn.Module, G_tuned: torch.nn.Module, path: str | os.PathLike) -> Path:
    """Write G_tuned's changed tensors (all of them when most values changed) to `path`, atomically."""
    from safetensors.torch import save_file

    path = Path(path)
    changed = changed_tensors(G_base, G_tuned)
    state = G_tuned.state_dict()
    total = sum(t.numel() for t in state.values())
    stored_all = sum(state[n].numel() for n in changed) > ALL_FRACTION * total
    names = list(state) if stored_all else changed
    tensors = {n: state[n].detach().cpu().contiguous().clone() for n in names}
    metadata = {
        "format": FORMAT,
        "version": VERSION,
        "stored": "all" if stored_all else "changed",
        "changed": json.dumps(changed),
        "base_fingerprint": fingerprint(G_base),
    }
    return write_atomic(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))


def load_tuned(G_base: torch.nn.Module, path: str | os.PathLike) -> torch.nn.Module:
    """A copy of G_base with the tensors stored in `path` (G_base is untouched).

    Raises:
        TunedWeightsError: missing or unreadable file, not a tuned-weights file, another base generator,
            mismatched tensor names/shapes, or non-finite values.
    """
    from safetensors import SafetensorError
    from safetensors.torch import safe_open

    path = Path(path)
    if not path.is_file():
        raise TunedWeightsError(f"{path}: no such tuned-weights file")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not iterable)
    except (SafetensorError, OSError, ValueError) as exc:
        raise TunedWeightsError(f"{path}: not a readable safetensors file ({exc})") from None
    if metadata.get("format") != FORMAT:
        raise TunedWeightsError(
            f"{path}: not an AutoDrag tuned-weights file (format {metadata.get('format')!r})"
        )
    expected = fingerprint(G_base)
    if metadata.get("base_fingerprint") != expected:
        raise TunedWeightsError(
            f"{path}: made for another base generator (fingerprint "
            f"{metadata.get('base_fingerprint')}, this generator's is {expected})"
        )
    base_state = G_base.state_dict()
    for name, tensor in tensors.items():
        if name not in base_state or base_state[name].shape != tensor.shape:
            raise TunedWeightsError(f"{path}: tensor {name} does not fit the base generator")
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise TunedWeightsError(f"{path}: tensor {name} has non-finite values (NaN or inf)")
    G_tuned = copy.deepcopy(G_base)
    device = next(G_base.parameters()).device
    with torch.no_grad():
        tuned_state = G_tuned.state_dict()
        for name, tensor in tensors.items():
            tuned_state[name].copy_(tensor.to(device))
    return G_tuned
