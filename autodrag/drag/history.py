"""Undo/redo history of a `DragSession`: one `Snapshot` per finished drag that changed the latent."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

__all__ = ["History", "Snapshot"]


@dataclass(frozen=True)
class Snapshot:
    """One undo/redo state: a latent and the handles and targets shown with it."""

    latent: torch.Tensor  # [num_ws, w_dim]
    handles: np.ndarray  # [N, 2] (row, col)
    targets: np.ndarray  # [N, 2] (row, col)


class History:
    """A list of snapshots and the index of the current one; pushing drops whatever was undone."""

    def __init__(self, latent: torch.Tensor) -> None:
        empty = np.zeros((0, 2), dtype=np.float32)
        self._entries = [Snapshot(latent.clone(), empty, empty)]
        self._index = 0

    @property
    def current(self) -> Snapshot:
        return self._entries[self._index]

    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._entries) - 1

    def set_points(self, handles: np.ndarray, targets: np.ndarray) -> None:
        """Show these handles and targets with the current latent."""
        self._entries[self._index] = replace(self.current, handles=handles, targets=targets)

    def push(self, snapshot: Snapshot) -> None:
        """Make `snapshot` current; the states after the current one (undone drags) are dropped."""
        del self._entries[self._index + 1 :]
        self._entries.append(snapshot)
        self._index += 1

    def undo(self) -> Snapshot | None:
        """Step back; the snapshot now current, or None (and no change) at the start."""
        if not self.can_undo:
            return None
        self._index -= 1
        return self.current

    def redo(self) -> Snapshot | None:
        """Step forward again; the snapshot now current, or None at the end."""
        if not self.can_redo:
            return None
        self._index += 1
        return self.current
