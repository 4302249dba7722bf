"""Process set-up for AutoDrag's entry points (the CLI, the visualizer), done before torch loads.

The library itself never changes the environment; only a program's entry point calls this.
"""

from __future__ import annotations

import ctypes
import os

__all__ = ["configure_process", "keep_freed_memory"]


def configure_process() -> None:
    """Let idle OpenMP threads sleep instead of spin-waiting (OMP_WAIT_POLICY=PASSIVE), unless the user
    chose a policy. On a shared or loaded CPU, spinning made 2-thread drag steps 5-8x slower
    (docs/DRAG.md, "Threads"). Only effective before torch is first imported."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory for reuse instead of handing it back to the system.

    For a training process: glibc maps every block of 32 MiB or more afresh and unmaps it when
    freed, so each step page-faults its largest tensors in again (the U-Net's 1024 x 512 x 4 x 4
    weight gradients: ~10 ms each on the 2-core CPU). Serving them from the heap made pix2pix
    training steps 6% faster there (docs/BENCHMARKS.md). The cost: memory a step frees stays with
    the process. Returns False (and changes nothing) off glibc.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_max = -1, -4  # <malloc.h>
    return bool(mallopt(m_mmap_max, 0)) and bool(mallopt(m_trim_threshold, 1 << 30))
