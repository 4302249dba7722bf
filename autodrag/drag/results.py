"""What a drag reports: each step's `StepResult`, the final `DragSummary`, and the stop reasons."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["STOP_REASONS", "DragSummary", "StepResult"]

STOP_REASONS = ("converged", "stalled", "max_steps", "stopped", "nan")


@dataclass(frozen=True)
class StepResult:
    """What one `DragSession.step()` reports (numpy copies: safe to hand to another thread)."""

    step: int  # 1-based index of this step within the drag.
    points: np.ndarray  # [N, 2] handles (row, col), tracked on the latent this step started from.
    distances: np.ndarray  # [N] pixels from each handle to its target.
    loss: float | None  # Total loss that was minimised; None when the step only found the drag done.
    ms: float  # Wall time of the step in milliseconds.
    done: bool  # True when this step ended the drag (converged or NaN); `run` also ends on limits.
    reason: str | None = None  # One of STOP_REASONS when done, else None.


@dataclass(frozen=True)
class DragSummary:
    """How a drag ended (`DragSession.finish()`), with the handles tracked on the final latent."""

    reason: str  # One of STOP_REASONS.
    steps: int  # Steps taken (including a final step that only found convergence).
    points: np.ndarray  # [N, 2] final handle positions (row, col).
    targets: np.ndarray  # [N, 2] the drag's targets.
    distances: np.ndarray  # [N] final pixel distances to the targets.
    message: str  # One line for a user, e.g. why a NaN stop happened.
