"""Shared fixtures for the toy-face tests (CPU only, small sizes)."""

from __future__ import annotations

import pytest
import torch

from autodrag.paths import BUNDLED_LANDMARK_CHECKPOINT


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def bundled_detector():
    """The bundled toy detector; skips (with the reason) if the checkpoint is not there yet."""
    from autodrag.landmarks.toy import ToyLandmarkDetector

    if not BUNDLED_LANDMARK_CHECKPOINT.is_file():
        pytest.skip(reason="bundled checkpoint missing: run `autodrag toyfaces train-landmarks`")
    return ToyLandmarkDetector()
