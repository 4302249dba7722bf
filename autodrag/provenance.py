"""Where a trained file came from: the git commit of the code that produced it."""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["git_commit"]

_REPO = Path(__file__).resolve().parents[1]


def git_commit() -> str:
    """`git rev-parse HEAD` of this checkout ("-dirty" if autodrag/ or scripts/ have uncommitted changes).

    'unknown' when git or the repository is not available (an installed package).
    """
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10, cwd=_REPO
        )
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "autodrag", "scripts"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
            cwd=_REPO,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = head.stdout.strip()
    if not commit:
        return "unknown"
    return commit + ("-dirty" if status.stdout.strip() else "")
