"""Where the bundled checkpoints live: one neutral module that every package may import.

`$AUTODRAG_CHECKPOINTS` moves the folder (default: `checkpoints/` at the repository root). The
loaders read these names at call time (`paths.BUNDLED_GENERATOR`), so tests can point them elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["BUNDLED_GENERATOR", "BUNDLED_LANDMARK_CHECKPOINT", "CHECKPOINT_DIR"]

CHECKPOINT_DIR = Path(
    os.environ.get("AUTODRAG_CHECKPOINTS", Path(__file__).resolve().parents[1] / "checkpoints")
)
BUNDLED_GENERATOR = CHECKPOINT_DIR / "toyfaces128.safetensors"  # + .json (config and metrics)
BUNDLED_LANDMARK_CHECKPOINT = CHECKPOINT_DIR / "toyfaces_landmarks.safetensors"  # + .json
