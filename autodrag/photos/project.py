"""A photo project folder: everything an inversion produced, so a second edit of the photo skips it.

Layout (every file written atomically; `project.json` last):
    aligned.png         the aligned face crop (the inversion's target)
    transform.json      AlignTransform, photo size/orientation/mode, face index, framing, every face found
    pivot.npz           ws_w (stage 1) and ws_pivot (the latent to edit), float32 [num_ws, w_dim]
    tuned.safetensors   the tuned generator's changed tensors (`tuned.save_tuned`); absent when nothing changed
    metrics.json        PSNR / SSIM / steps / seconds per stage, the loss, the stage that was stopped
    project.json        the command, the photo (path, sha256), the generator (path, fingerprint), the
                        inversion config, backend, face, framing, package version, and `complete`

A project is reused when `complete` is true and its key (photo sha256, generator fingerprint, inversion
config, backend, face index, framing) equals the new request's; otherwise it is redone and `note` says
why. A run starts by writing `project.json` with `complete: false`, so a killed inversion never looks
finished: the next run restarts it from the beginning (B's `invert` starts from w_avg). A run stopped
on purpose (Ctrl-C) writes what it had (the finished stages and the stopped one) with `complete: false`
and `stopped: <stage>`: kept for inspection, redone by the next edit.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from autodrag.atomic import write_atomic, write_json_atomic
from autodrag.images import save_png
from autodrag.photos.align import AlignTransform
from autodrag.photos.invert import Inversion, InversionConfig
from autodrag.photos.tuned import TunedWeightsError, fingerprint, load_tuned, save_tuned

__all__ = [
    "FORMAT",
    "PhotoProject",
    "ProjectError",
    "is_complete",
    "open_project",
    "project_key",
    "read_project",
    "reuse_reason",
    "start_project",
    "write_project",
]

FORMAT = "autodrag-photo-project"
VERSION = 1
KEY_FIELDS = ("photo_sha256", "generator_fingerprint", "inversion_config", "backend", "face_index", "framing")


class ProjectError(ValueError):
    """A photo project folder is missing, incomplete, damaged or made for another generator (one line)."""


@dataclass
class PhotoProject:
    """An inverted photo: the crop, how it maps to the photo, the pivot and the tuned generator."""

    dir: Path
    crop: np.ndarray  # uint8 [R, R, 3], the aligned face
    transform: AlignTransform
    ws_w: np.ndarray  # float32 [num_ws, w_dim]
    ws_pivot: np.ndarray  # float32 [num_ws, w_dim]
    G_tuned: torch.nn.Module  # the generator to edit with (the base G when nothing was tuned)
    metrics: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)  # project.json
    layout: dict = field(default_factory=dict)  # transform.json (photo size, faces, framing, ...)
    reused: bool = False  # True: loaded from disk, no inversion ran
    note: str = ""  # why it was (re)done, or that it was reused

    @property
    def face_landmarks(self) -> np.ndarray:
        """The edited face's landmarks in photo pixels, float64 [68, 2] (x, y)."""
        return np.asarray(self.layout["faces"][self.layout["face_index"]]["landmarks"], dtype=np.float64)


def _version() -> str:
    from autodrag import __version__

    return __version__


def project_key(
    *,
    photo_sha256: str,
    generator_fingerprint: str,
    config: InversionConfig,
    backend: str,
    face_index: int,
    framing: str,
) -> dict:
    """What decides whether an existing project can be reused (JSON-safe)."""
    return {
        "photo_sha256": photo_sha256,
        "generator_fingerprint": generator_fingerprint,
        "inversion_config": asdict(config),
        "backend": backend,
        "face_index": int(face_index),
        "framing": framing,
    }


def read_project(directory: str | os.PathLike) -> dict | None:
    """project.json of `directory`, or None when there is none (or it cannot be read)."""
    path = Path(directory) / "project.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else None


def is_complete(directory: str | os.PathLike) -> bool:
    info = read_project(directory)
    return bool(info and info.get("complete") is True)


_KEY_WORDS = {
    "photo_sha256": "the photo changed (sha256 differs)",
    "generator_fingerprint": "the generator differs",
    "inversion_config": "the inversion settings differ",
    "backend": "the landmark backend differs",
    "face_index": "another face was asked for (--face)",
    "framing": "the crop framing differs",
}


def reuse_reason(directory: str | os.PathLike, key: dict) -> str | None:
    """None when the project in `directory` can be reused for `key`, else why not (one line)."""
    info = read_project(directory)
    if info is None:
        return (
            "no project yet" if not (Path(directory) / "project.json").exists() else "project.json unreadable"
        )
    if info.get("complete") is not True:
        stopped = info.get("stopped")
        return (
            f"the last inversion was stopped during stage {stopped}"
            if stopped
            else "the last inversion did not finish (no complete marker)"
        )
    diffs = [_KEY_WORDS[k] for k in KEY_FIELDS if info.get("key", {}).get(k) != key.get(k)]
    return "; ".join(diffs) if diffs else None


def start_project(directory: str | os.PathLike, key: dict, **context: object) -> None:
    """Mark `directory` as an inversion in progress (project.json, complete: false) before anything else."""
    record = {
        "format": FORMAT,
        "version": VERSION,
        "complete": False,
        "key": key,
        "started": time.time(),
        "package_version": _version(),
        **context,
    }
    write_json_atomic(Path(directory) / "project.json", record)


def write_project(
    directory: str | os.PathLike,
    G: torch.nn.Module,
    crop: np.ndarray,
    transform: AlignTransform,
    layout: dict,
    inversion: Inversion,
    key: dict,
    seconds: float,
    **context: object,
) -> dict:
    """Write every file of the project; project.json last with `complete` (false when the run was stopped)."""
    directory = Path(directory)
    save_png(directory / "aligned.png", crop)
    write_json_atomic(directory / "transform.json", {**layout, "transform": transform.to_dict()})
    write_atomic(
        directory / "pivot.npz",
        lambda tmp: _save_npz(
            tmp, ws_w=inversion.ws_w.astype(np.float32), ws_pivot=inversion.ws_pivot.astype(np.float32)
        ),
    )
    tuned = directory / "tuned.safetensors"
    if inversion.G_tuned is not None:
        save_tuned(G, inversion.G_tuned, tuned)
    else:
        tuned.unlink(missing_ok=True)
    metrics = {
        **inversion.metrics,
        "stages_done": list(inversion.stages_done),
        "stopped": inversion.stopped,
        "seconds_total": round(seconds, 3),
    }
    write_json_atomic(directory / "metrics.json", metrics)
    complete = inversion.stopped is None
    record = {
        "format": FORMAT,
        "version": VERSION,
        "key": key,
        "package_version": _version(),
        **context,
        "stages_done": list(inversion.stages_done),
        "stopped": inversion.stopped,
        "tuned": tuned.exists(),
        "finished": time.time(),
        "complete": complete,
    }  # `complete` is the last key, the file the last write
    write_json_atomic(directory / "project.json", record)
    return record


def _save_npz(tmp: Path, **arrays: np.ndarray) -> None:
    with open(tmp, "wb") as f:  # a file object: np.savez must not append '.npz' to the temp name
        np.savez(f, **arrays)


def open_project(
    directory: str | os.PathLike, G: torch.nn.Module, allow_incomplete: bool = False
) -> tuple[np.ndarray, AlignTransform, np.ndarray, torch.nn.Module]:
    """(crop, transform, ws_pivot, G_tuned) of a finished project (`load_project` for everything).

    Raises:
        ProjectError: not a project, unfinished, damaged, or made with another generator.
    """
    p = load_project(directory, G, allow_incomplete=allow_incomplete)
    return p.crop, p.transform, p.ws_pivot, p.G_tuned


def load_project(
    directory: str | os.PathLike, G: torch.nn.Module, allow_incomplete: bool = False
) -> PhotoProject:
    """The project in `directory` as a `PhotoProject` (reused=True). Raises ProjectError."""
    from PIL import Image

    directory = Path(directory)
    info = read_project(directory)
    if info is None:
        raise ProjectError(f"{directory}: not a photo project (no readable project.json)")
    if info.get("complete") is not True and not allow_incomplete:
        raise ProjectError(f"{directory}: the inversion did not finish (no complete marker); run it again")
    expected = info.get("key", {}).get("generator_fingerprint")
    if expected is not None and expected != fingerprint(G):
        raise ProjectError(
            f"{directory}: made with another generator (fingerprint {expected}, "
            f"this one's is {fingerprint(G)})"
        )
    try:
        crop = np.asarray(Image.open(directory / "aligned.png").convert("RGB")).copy()
        layout = json.loads((directory / "transform.json").read_text())
        transform = AlignTransform.from_dict(layout["transform"])
        with np.load(directory / "pivot.npz") as data:
            ws_w, ws_pivot = data["ws_w"].astype(np.float32), data["ws_pivot"].astype(np.float32)
        metrics = json.loads((directory / "metrics.json").read_text())
    except (OSError, ValueError, KeyError) as exc:
        raise ProjectError(f"{directory}: damaged project ({type(exc).__name__}: {exc})") from None
    if ws_pivot.shape != (G.num_ws, G.w_dim):
        raise ProjectError(
            f"{directory}: pivot.npz holds ws {ws_pivot.shape}, the generator needs ({G.num_ws}, {G.w_dim})"
        )
    tuned = directory / "tuned.safetensors"
    try:
        G_tuned = load_tuned(G, tuned).eval().requires_grad_(False) if tuned.exists() else G
    except TunedWeightsError as exc:
        raise ProjectError(str(exc)) from None
    return PhotoProject(
        dir=directory,
        crop=crop,
        transform=transform,
        ws_w=ws_w,
        ws_pivot=ws_pivot,
        G_tuned=G_tuned,
        metrics=metrics,
        info=info,
        layout=layout,
        reused=True,
        note="reused the finished inversion",
    )
