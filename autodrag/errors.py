"""The one rule for errors a user can cause: one line naming the file or option, exit 2 (usage) or 1 (run).

`describe(exc)` turns an exception into that line and exit code; the `autodrag` group (autodrag/cli.py)
applies it to every command. Bugs (exceptions of no known kind) still get one line, and the traceback
is shown with `autodrag --debug ...` or AUTODRAG_DEBUG=1.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "EXIT_RUN",
    "EXIT_USAGE",
    "NonFiniteError",
    "OutputPathError",
    "check_finite",
    "check_output_dir",
    "debug_enabled",
    "describe",
    "quiet_interrupts",
]

EXIT_USAGE = 2
EXIT_RUN = 1

# exceptions (by class name anywhere in the MRO) that mean "a bad argument or input file": exit 2
USAGE_ERRORS = frozenset(
    {
        "DragInputError",
        "PresetError",
        "LatentFileError",
        "RecordError",
        "ScriptError",
        "OutputPathError",
        "UploadError",
        "ModelNameError",
    }
)


class OutputPathError(ValueError):
    """An output location that cannot hold the run (a file, a path under a file, a read-only folder)."""


class NonFiniteError(ValueError):
    """NaN or inf where numbers enter (weights, latents) or come out (a step's image)."""


def debug_enabled() -> bool:
    """AUTODRAG_DEBUG=1 (set by `autodrag --debug`) shows tracebacks."""
    return os.environ.get("AUTODRAG_DEBUG", "") not in ("", "0", "false", "no")


def _ours(exc: BaseException) -> bool:
    return any(cls.__module__.startswith("autodrag") for cls in type(exc).__mro__[:-1])


def describe(exc: BaseException) -> tuple[str, int] | None:
    """(one line, exit code) for an error a user can cause, or None for a bug."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & USAGE_ERRORS:
        return _one_line(str(exc)), EXIT_USAGE
    if isinstance(exc, OSError) and not _ours(exc):
        where = exc.filename or ""
        what = exc.strerror or str(exc)
        if exc.errno == errno.ENOSPC:
            what = "no space left on the device"
        return _one_line(f"{where}: {what}" if where else what), EXIT_RUN
    if _ours(exc) and isinstance(exc, Exception):
        return _one_line(str(exc)), EXIT_RUN
    return None


def _one_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return "; ".join(lines) if lines else "failed"


def check_output_dir(path: str | os.PathLike, option: str = "--out") -> Path:
    """Raise OutputPathError unless `path` is (or can become) a writable folder; returns it."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"{option} {path}: exists and is not a folder")
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise OutputPathError(f"{option} {path}: {probe} is a file, not a folder")
    if probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        raise OutputPathError(f"{option} {path}: {probe} is not writable")
    return path


def check_finite(values, what: str) -> None:
    """Raise NonFiniteError naming `what` when `values` (array or tensor) holds NaN or inf."""
    import numpy as np

    try:
        import torch

        if isinstance(values, torch.Tensor):
            if not bool(torch.isfinite(values).all()):
                raise NonFiniteError(f"{what} contains NaN or inf")
            return
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    if not np.isfinite(np.asarray(values, dtype=np.float64)).all():
        raise NonFiniteError(f"{what} contains NaN or inf")


def _interrupted(signum, frame) -> None:
    # Exit at once: unwinding SystemExit through a half-done `import numpy`/`import torch` leaves
    # half-built modules that exit-time hooks then trip on (a RecursionError traceback, exit 1).
    # Nothing needs cleaning yet: no command has started.
    sys.stderr.write("Error: interrupted\n")
    sys.stderr.flush()
    os._exit(130)


@contextlib.contextmanager
def quiet_interrupts() -> Iterator[None]:
    """Ctrl-C while the heavy imports run (torch: seconds) exits 130 with one line, not an import traceback.

    Only in the main thread and only over Python's default handler; the previous handler comes back after.
    """
    active = (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    )
    if active:
        signal.signal(signal.SIGINT, _interrupted)
    try:
        yield
    finally:
        if active:
            signal.signal(signal.SIGINT, signal.default_int_handler)
