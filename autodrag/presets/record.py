"""Reproducible edit records: what result.json must hold to re-run an edit bit for bit, and the re-run.

`edit_context` describes where an edit started (seed or latent file with its hash, truncation psi,
checkpoint with its hash, landmark backend, device, versions); `outputs.result_record` adds how it ran
(every `DragConfig` field, tracking, guide, mask, strength, presets). `rerun_from_record` reads such a
result.json and runs the same edit again (`autodrag edit --from result.json`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

import torch

import autodrag
from autodrag import paths
from autodrag.drag import DragConfig
from autodrag.landmarks.base import LandmarkDetector
from autodrag.landmarks.select import detector_for
from autodrag.latents import load_latent, ws_from_seed
from autodrag.networks import load_generator
from autodrag.presets.edit import EditResult, run_edit
from autodrag.provenance import git_commit

__all__ = [
    "CONTEXT_KEYS",
    "RECORD_VERSION",
    "RecordError",
    "edit_context",
    "file_sha256",
    "read_record",
    "rerun_from_record",
]

RECORD_VERSION = 1  # bumped when result.json changes in a way `rerun_from_record` must know about
CONTEXT_KEYS = (
    "record_version",
    "seed",
    "latent",
    "latent_sha256",
    "truncation_psi",
    "checkpoint",
    "checkpoint_sha256",
    "landmarks",
    "device",
    "autodrag_version",
    "torch_version",
    "git_commit",
)  # `edit_context`'s keys


class RecordError(ValueError):
    """A result.json cannot be re-run: unreadable, incomplete, or its inputs changed since (hash mismatch)."""


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _checkpoint_file(ckpt: Path | None) -> Path:
    return paths.BUNDLED_GENERATOR if ckpt is None else Path(ckpt)


def edit_context(
    *,
    ckpt: Path | None,
    seed: int | None,
    latent: Path | None,
    truncation_psi: float,
    landmarks: str,
    device: torch.device | str,
) -> dict:
    """Where an edit starts, for result.json: the latent (seed + psi, or a file + its hash), the checkpoint
    (+ hash; 'bundled' for the bundled model), the landmark backend, the device and the versions."""
    ckpt_file = _checkpoint_file(ckpt)
    context = {
        "record_version": RECORD_VERSION,
        "seed": None if latent is not None else seed,
        "latent": None if latent is None else str(latent),
        "latent_sha256": None if latent is None else file_sha256(latent),
        "truncation_psi": truncation_psi,  # used for seeds only
        "checkpoint": str(ckpt) if ckpt else "bundled",
        "checkpoint_sha256": file_sha256(ckpt_file) if ckpt_file.is_file() else None,
        "landmarks": landmarks,
        "device": str(device),
        "autodrag_version": autodrag.__version__,
        "torch_version": torch.__version__,
        "git_commit": git_commit(),
    }
    return context


def read_record(record_path: str | os.PathLike) -> dict:
    """A result.json that `rerun_from_record` can re-run (RecordError otherwise)."""
    try:
        record = json.loads(Path(record_path).read_text())
    except FileNotFoundError:
        raise RecordError(f"{record_path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise RecordError(f"{record_path}: not a readable result.json ({exc})") from None
    missing = [
        k
        for k in (
            "preset",
            "strength",
            "drag_config",
            "tracking",
            "guide",
            "mask",
            "checkpoint",
            "landmarks",
            "truncation_psi",
        )
        if k not in record
    ]
    if missing:
        raise RecordError(
            f"{record_path}: not a reproducible record (written before record_version "
            f"{RECORD_VERSION}?): missing {', '.join(missing)}"
        )
    return record


def _check_hash(record_path: Path, what: str, path: Path, expected: str | None) -> None:
    if expected is not None and file_sha256(path) != expected:
        raise RecordError(f"{record_path}: {what} {path} has changed since the edit (SHA-256 differs)")


def _drag_config(record_path: Path, values: dict) -> DragConfig:
    known = {f.name for f in fields(DragConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise RecordError(f"{record_path}: drag_config has unknown fields {', '.join(unknown)}")
    return DragConfig(**values)


def rerun_from_record(
    record_path: str | os.PathLike,
    *,
    device: torch.device | str | None = None,
    detector: LandmarkDetector | None = None,
    frame_every: int = 4,
    on_step: Callable[[int, float], None] | None = None,
) -> EditResult:
    """Run the edit that wrote `record_path` (a result.json of `autodrag edit` or `batch`) again.

    On the recorded device (or `device`), the same checkpoint, latent, presets and drag settings give the
    same image bit for bit on a CPU (GPU kernels may differ in the last bits between runs).

    Args:
        record_path: the result.json.
        device: where to run; default the recorded device.
        detector: a landmark backend to use instead of the recorded one (tests, or a preloaded detector).
        frame_every: GIF frames to keep (does not change the edit). on_step: progress, as `run_edit`.
    Raises:
        RecordError: unreadable or incomplete record, checkpoint or latent file changed or missing.
        PresetError, DragInputError, GeneratorLoadError, LatentFileError: as `autodrag edit`.
    """
    record_path = Path(record_path)
    record = read_record(record_path)
    device = torch.device(device if device is not None else record.get("device", "cpu"))
    ckpt = None if record["checkpoint"] == "bundled" else Path(record["checkpoint"])
    ckpt_file = _checkpoint_file(ckpt)
    if not ckpt_file.is_file():
        raise RecordError(f"{record_path}: checkpoint {ckpt_file} is missing")
    _check_hash(record_path, "checkpoint", ckpt_file, record.get("checkpoint_sha256"))
    G = load_generator(ckpt, device=device)
    if record.get("latent"):
        latent = Path(record["latent"])
        if not latent.is_file() and (record_path.parent / latent).is_file():
            latent = record_path.parent / latent
        if not latent.is_file():
            raise RecordError(f"{record_path}: latent file {latent} is missing")
        _check_hash(record_path, "latent file", latent, record.get("latent_sha256"))
        ws = torch.from_numpy(load_latent(latent, G.num_ws, G.w_dim)).to(device)
    elif record.get("seed") is not None:
        ws = ws_from_seed(G, int(record["seed"]), float(record["truncation_psi"]))
    else:
        raise RecordError(f"{record_path}: neither a seed nor a latent file recorded")
    if detector is None:
        detector = detector_for(record["landmarks"], bundled_model=ckpt is None, device=str(device))
    return run_edit(
        G,
        ws,
        detector,
        record["preset"],
        float(record["strength"]),
        mask=bool(record["mask"]),
        config=_drag_config(record_path, record["drag_config"]),
        frame_every=frame_every,
        tracking=record["tracking"],
        guide=bool(record["guide"]),
        on_step=on_step,
    )
