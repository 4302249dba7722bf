"""The state of one running drag (private to `DragSession`): latent offset, optimiser, points, terms, patience."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from autodrag.drag.config import DragConfig, DragScales
from autodrag.drag.coords import FeatureWindow
from autodrag.drag.terms import LossTerm
from autodrag.drag.tracking import Relocator

__all__ = ["PATIENCE_AFTER_VETO", "DragState", "PointTracker"]

# Patience (steps without progress) once the relocator has vetoed an arrival: the drag is as near as its
# tracking can tell, so it gets 5 steps to show progress, not the full patience. On the bundled model's 1-point
# drags (40 pairs) 10 instead of 5 took 4 more steps per edit for MD 1.76 against 1.81 px, and the full 30
# doubled the steps (docs/BENCHMARKS.md).
PATIENCE_AFTER_VETO = 5

# A tracker maps the current image [1, C, H, W] in [-1, 1] to the handles' (row, col) [N, 2].
PointTracker = Callable[[torch.Tensor], np.ndarray]


@dataclass
class DragState:
    """State that lives from `DragSession.start_drag` to `finish`."""

    config: DragConfig  # The session's config when the drag started (later changes apply to the next drag).
    feature_index: int  # The synthesis feature map this drag uses.
    window: FeatureWindow  # Where the image lies on that map.
    base: torch.Tensor  # [num_ws, w_dim] latent at the start of the drag (rows not optimised stay here).
    delta: torch.Tensor  # [rows, w_dim] optimised offset from `base` (rows = w_plus_rows, or 1 for W).
    optimizer: torch.optim.Optimizer
    handles: torch.Tensor  # [N, 2] current tracked handles.
    targets: torch.Tensor  # [N, 2]
    references: torch.Tensor  # [N, P * C] the features of the patch around each handle in F0 (f_i for P = 1).
    patch: torch.Tensor  # [P, 2] image-pixel offsets of the tracking patch (`tracking.patch_offsets`).
    # Lower feature maps (index, window) whose features the tracking descriptors include.
    track_maps: tuple[tuple[int, FeatureWindow], ...]
    scales: DragScales
    offsets: torch.Tensor  # [K, 2] the motion-supervision disc.
    terms: list[LossTerm] = field(default_factory=list)  # Added to the motion loss, in this order.
    tracker: PointTracker | None = None  # Tracks handles on the image instead of the features.
    relocator: Relocator | None = None  # Checks arrivals, places the final handles (`relocate`).
    vetoed: bool = False  # The step's tracking once said "arrived" and the relocator did not agree.
    recent: torch.Tensor | None = None  # [N, P * C] patch features at the last tracked positions.
    reliable: torch.Tensor | None = (
        None  # [N] bool: the last tracking's two matches agreed (None: not known).
    )
    good_delta: torch.Tensor | None = None  # Last delta whose features were finite.
    best_delta: torch.Tensor | None = None  # Delta with the lowest mean tracked distance so far.
    best_mean: float = float("inf")
    best_step: int = 0
    steps: int = 0
    updates: int = 0
    tracked_after_update: bool = True  # False when the latent changed after the last tracking.
    reason: str | None = None
    message: str = ""

    @property
    def needs_image(self) -> bool:
        """A term reads the image, or the handles are tracked on it."""
        return self.tracker is not None or any(t.needs_image for t in self.terms)

    def distances(self) -> torch.Tensor:
        return (self.targets - self.handles).norm(dim=1)

    def arrived(self) -> bool:
        """Every handle within the stop distance, and (with `reliable_stop`) its tracking trusted."""
        if not bool((self.distances() <= self.scales.stop_distance).all()):
            return False
        return not (self.config.reliable_stop and self.reliable is not None and not bool(self.reliable.all()))

    def current_ws(self) -> torch.Tensor:
        """[num_ws, w_dim]: the start latent with the optimised offset applied to its rows."""
        rows = self.delta.shape[0]
        if not self.config.w_plus:  # one shared offset for every row
            return self.base + self.delta
        return torch.cat([self.base[:rows] + self.delta, self.base[rows:]], dim=0)

    def stalled(self) -> bool:
        """Patience: remember the best latent; True (after restoring it) when it is `patience` steps old."""
        patience = self.scales.patience
        if self.vetoed and patience > 0:
            patience = min(patience, PATIENCE_AFTER_VETO)
        if patience <= 0:
            return False
        mean = float(self.distances().mean())
        if mean < self.best_mean - 1e-3:
            self.best_mean, self.best_step, self.best_delta = mean, self.steps, self.delta.detach().clone()
            return False
        if self.steps - self.best_step < patience:
            return False
        with torch.no_grad():
            self.delta.copy_(self.best_delta)
        self.tracked_after_update = False
        return True

    def restore_good(self, what: str) -> None:
        """NaN stop: put back the last latent whose features were finite."""
        with torch.no_grad():
            self.delta.copy_(self.good_delta)
        self.tracked_after_update = False
        self.reason = "nan"
        self.message = f"{what} at step {self.steps}: stopped and kept the last good latent"
