"""Atomic file writes: a temp file beside the target, then a rename, so readers never see half a file.

Every temp name carries its owner: `.{name}.{pid}.{tid}.{rand}.tmp` (files and staging folders alike), so
`sweep_stale` can remove what a killed process left behind without touching a live writer's files.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

__all__ = [
    "commit_files",
    "pid_alive",
    "replace_dir",
    "staged_outputs",
    "staging_dir",
    "sweep_stale",
    "temp_name",
    "torch_save_atomic",
    "write_atomic",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_text_atomic",
]

# .{name}.{pid}.{tid}.{rand}.tmp (this module), .{name}.{pid}.tmp (older writers); group 1 = the owner pid
_TEMP_RE = re.compile(r"^\..+?\.(\d+)(?:\.\d+\.[0-9a-f]+)?\.tmp$")


def temp_name(name: str) -> str:
    """A temp name for `name`, unique per process, thread and call."""
    return f".{name}.{os.getpid()}.{threading.get_ident()}.{secrets.token_hex(4)}.tmp"


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def write_atomic(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Call `write(tmp)` on a temp file beside `path`, then rename it over `path`.

    The temp name is unique per process, thread and call (pid, thread id, random suffix), so concurrent
    writers of one path never share a temp file; it is removed on every exit path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(temp_name(path.name))
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        if exc.filename is None:  # e.g. PIL and torch report a full disk without the file: name it
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
        raise
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


def pid_alive(pid: int) -> bool:
    """Whether process `pid` exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def sweep_stale(folder: str | os.PathLike, recursive: bool = True, max_depth: int = 3) -> list[Path]:
    """Remove temp files and staging folders (`.{name}.{pid}...tmp`) whose owner process is gone.

    Only names that carry a pid are touched, and only when that pid is not running on this host (a batch
    folder shared by several hosts should run its sweeps with the writers of other hosts stopped).
    Returns the removed paths.
    """
    folder = Path(folder)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    me = os.getpid()
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_RE.match(entry.name)
        if match is not None:
            pid = int(match[1])
            if pid != me and not pid_alive(pid):
                _remove(entry)
                removed.append(entry)
        elif recursive and max_depth > 0 and entry.is_dir() and not entry.is_symlink():
            removed += sweep_stale(entry, recursive, max_depth - 1)
    return removed


def staging_dir(target: str | os.PathLike) -> Path:
    """A new empty staging folder beside `target` (same file system, so it can be renamed into place)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = target.with_name(temp_name(target.name))
    stage.mkdir()
    return stage


def replace_dir(stage: Path, target: Path) -> None:
    """Put folder `stage` in the place of `target` (which may exist): two renames, then the old one is removed.

    A kill between the renames leaves no `target` and two owner-named temp folders that `sweep_stale` removes.
    """
    old = None
    if target.exists():
        old = target.with_name(temp_name(target.name))
        os.rename(target, old)
    os.rename(stage, target)
    if old is not None:
        _remove(old)


def commit_files(stage: Path, target: Path, owned: Iterable[str], marker: str) -> None:
    """Move every file of `stage` into `target`, marker last; remove the `owned` names this run did not make.

    The marker (e.g. result.json) is removed first and renamed in last, so a folder holding the marker always
    holds one complete run, never a mix of two; other files in `target` (not `owned`) are left alone.
    """
    target.mkdir(parents=True, exist_ok=True)
    made = {p.name for p in stage.iterdir()}
    (target / marker).unlink(missing_ok=True)
    for name in set(owned) - made - {marker}:
        _remove(target / name)
    for name in sorted(made - {marker}):
        if (target / name).is_dir() and not (stage / name).is_dir():
            _remove(target / name)
        os.replace(stage / name, target / name)
    if marker in made:
        os.replace(stage / marker, target / marker)
    _remove(stage)


@contextlib.contextmanager
def staged_outputs(
    target: str | os.PathLike, owned: Iterable[str] = (), marker: str | None = None
) -> Iterator[Path]:
    """Write a run's outputs into the yielded staging folder; on success they move into `target`.

    With `marker`, files move one by one (`commit_files`: `target` may hold other things); without it the
    whole folder `target` is replaced (`replace_dir`). On any exception, Ctrl-C included, the staging
    folder is removed and `target` is left as it was.
    """
    target = Path(target).absolute()  # `--out .` too: the staging folder goes beside the folder
    sweep_stale(target.parent, recursive=False)
    stage = staging_dir(target)
    try:
        yield stage
        if marker is None:
            replace_dir(stage, target)
        else:
            commit_files(stage, target, owned, marker)
    except OSError as exc:  # name the output folder (or its file), not the staging folder
        where = str(exc.filename or target).replace(str(stage), str(target))
        if where != exc.filename:
            raise OSError(exc.errno, exc.strerror or str(exc), where) from exc
        raise
    finally:
        if stage.exists():
            _remove(stage)
