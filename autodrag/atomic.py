"""Atomic file writes: a temp file beside the target, then a rename, so readers never see half a file."""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Callable
from pathlib import Path

__all__ = ["torch_save_atomic", "write_atomic", "write_bytes_atomic", "write_json_atomic", "write_text_atomic"]


def write_atomic(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Call `write(tmp)` on a temp file beside `path`, then rename it over `path`.

    The temp name is unique per process, thread and call (pid, thread id, random suffix), so concurrent
    writers of one path never share a temp file; it is removed on every exit path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.{secrets.token_hex(4)}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_bytes(data))


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    return write_bytes_atomic(path, text.encode())


def write_json_atomic(path: str | os.PathLike, data: object) -> Path:
    return write_text_atomic(path, json.dumps(data, indent=2) + "\n")


def torch_save_atomic(obj: object, path: str | os.PathLike) -> Path:
    """`torch.save` that never leaves a truncated file: a killed run keeps the previous checkpoint."""
    import torch

    return write_atomic(path, lambda tmp: torch.save(obj, tmp))
