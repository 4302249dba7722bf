"""Process set-up for AutoDrag's entry points (the CLI, the visualizer), done before torch loads.

The library itself never changes the environment; only a program's entry point calls this.
"""

from __future__ import annotations

import os

__all__ = ["configure_process"]


def configure_process() -> None:
    """Let idle OpenMP threads sleep instead of spin-waiting (OMP_WAIT_POLICY=PASSIVE), unless the user
    chose a policy. On a shared or loaded CPU, spinning made 2-thread drag steps 5-8x slower
    (docs/DRAG.md, "Threads"). Only effective before torch is first imported."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
