"""Shared test fixtures: CPU by default, the NVIDIA pickle fixtures from ../shared when present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("AUTODRAG_SHARED", REPO.parent / "shared"))
NVIDIA_PICKLES = SHARED / "fixtures" / "nvidia_pickles"


@pytest.fixture(autouse=True)
def _deterministic_torch():
    """Each test starts from the same RNG state and a bounded thread count."""
    torch.manual_seed(0)
    torch.set_num_threads(1)  # small ops: a second thread only waits when the cores are busy
    yield


@pytest.fixture(scope="session")
def nvidia_pickles() -> Path:
    """The folder of real-format NVIDIA pickles with reference outputs (skips when absent)."""
    if not (NVIDIA_PICKLES / "README.md").exists():
        why = f"NVIDIA pickle fixtures not found at {NVIDIA_PICKLES} (set AUTODRAG_SHARED to ../shared)"
        pytest.skip(reason=why)
    return NVIDIA_PICKLES
