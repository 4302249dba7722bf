"""The two exception types of the drag engine: bad input, and calls made in the wrong state."""

from __future__ import annotations

__all__ = ["DragInputError", "DragStateError"]


class DragInputError(ValueError):
    """Points, targets, mask, latent or config that a drag cannot use; the message says which and why."""


class DragStateError(RuntimeError):
    """A session method called at the wrong time (e.g. `step()` with no drag started, `undo()` mid-drag)."""
