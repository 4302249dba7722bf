"""`DragSession`: the one owner of a drag's state (latents, optimiser, reference features, points, history).

Each step runs synthesis only up to the feature map, tracks the handles on it, and (unless every
handle has arrived) takes one Adam step on the latent. The full image is rendered only when asked.
Front ends (CLI, GUI worker thread) drive it through `start_drag`, `run`/`step`, `stop`, `render`,
`undo` and `redo`; only `stop()` may be called from another thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np
import torch

from autodrag.drag.config import DragConfig, DragScales
from autodrag.drag.coords import FeatureWindow, as_points, fixed_weight_map, sample_features
from autodrag.drag.errors import DragInputError, DragStateError
from autodrag.drag.losses import anchor_loss, disc_offsets, image_mask_loss, mask_loss, motion_loss
from autodrag.drag.tracking import track_points
from autodrag.latents import ws_from_seed

__all__ = ["STOP_REASONS", "ImageGuide", "PointTracker", "DragSession", "DragSummary", "Snapshot", "StepResult"]

STOP_REASONS = ("converged", "stalled", "max_steps", "stopped", "nan")

# A tracker maps the current image [1, C, H, W] in [-1, 1] to the handles' (row, col) [N, 2].
PointTracker = Callable[[torch.Tensor], np.ndarray]
ImageGuide = Callable[[torch.Tensor], torch.Tensor]  # step image [1, C, R, R] (with gradient) -> scalar loss


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


@dataclass(frozen=True)
class Snapshot:
    """One undo/redo state: a latent and the handles and targets shown with it."""

    latent: torch.Tensor  # [num_ws, w_dim]
    handles: np.ndarray  # [N, 2] (row, col)
    targets: np.ndarray  # [N, 2] (row, col)


@dataclass
class _Drag:
    """State that lives from `start_drag` to `finish` (private to the session)."""

    config: DragConfig  # The session's config when the drag started (later changes apply to the next drag).
    feature_index: int  # The synthesis feature map this drag uses.
    window: FeatureWindow  # Where the image lies on that map.
    base: torch.Tensor  # [num_ws, w_dim] latent at the start of the drag (rows not optimised stay here).
    delta: torch.Tensor  # [rows, w_dim] optimised offset from `base` (rows = w_plus_rows, or 1 for W).
    optimizer: torch.optim.Optimizer
    start_handles: torch.Tensor  # [N, 2]
    handles: torch.Tensor  # [N, 2] current tracked handles.
    targets: torch.Tensor  # [N, 2]
    references: torch.Tensor  # [N, C] f_i = F0(p_i).
    reference_map: torch.Tensor | None  # [1, C, H, W] F0, kept only when a mask is in use.
    fixed: torch.Tensor | None  # [H, W] 1 - M at feature resolution, or None without a mask.
    reference_image: torch.Tensor | None  # [1, C, R, R] I0, kept only for the image fixed-region term.
    fixed_image: torch.Tensor | None  # [R, R] 1 - M at image resolution, with that term.
    scales: DragScales
    offsets: torch.Tensor  # [K, 2] the motion-supervision disc.
    good_delta: torch.Tensor  # Last delta whose features were finite.
    anchor_points: torch.Tensor | None = None  # [A, K, 2] disc points around points that must stay.
    anchor_refs: torch.Tensor | None = None  # [A, K, C] F0 at those points.
    tracker: PointTracker | None = None  # Tracks handles on the image instead of the features.
    guide: ImageGuide | None = None  # Extra loss on the step's image (e.g. landmarks at their targets).
    best_delta: torch.Tensor | None = None  # Delta with the lowest mean tracked distance so far.
    best_mean: float = float("inf")
    best_step: int = 0
    steps: int = 0
    updates: int = 0
    tracked_after_update: bool = True  # False when the latent changed after the last tracking.
    reason: str | None = None
    message: str = ""


def _as_latent(w: torch.Tensor | np.ndarray, num_ws: int, w_dim: int, device: torch.device) -> torch.Tensor:
    """ws [num_ws, w_dim] from [num_ws, w_dim], [1, num_ws, w_dim], [w_dim] or [1, w_dim]."""
    w = torch.as_tensor(w, dtype=torch.float32).detach()
    if w.ndim == 3 and w.shape[0] == 1:
        w = w[0]
    if w.ndim == 2 and w.shape[0] == 1 and num_ws != 1:
        w = w[0]
    if w.shape == (w_dim,):
        w = w[None].repeat(num_ws, 1)
    if w.shape != (num_ws, w_dim):
        raise DragInputError(f"latent has shape {list(w.shape)}, this generator needs [{num_ws}, {w_dim}] "
                             f"(or [{w_dim}])")
    if not torch.isfinite(w).all():
        raise DragInputError("latent contains NaN or infinity")
    return w.to(device).clone()


def _as_mask(mask: torch.Tensor | np.ndarray, resolution: int) -> torch.Tensor | None:
    """A binary movable mask [R, R] (1 = movable) as float32, or None when nothing is fixed."""
    m = torch.as_tensor(np.asarray(mask) if not isinstance(mask, torch.Tensor) else mask).detach().cpu()
    if m.ndim == 3 and m.shape[-1] == 1:
        m = m[..., 0]
    if m.shape != (resolution, resolution):
        raise DragInputError(f"mask is {'x'.join(map(str, m.shape))}, the image is {resolution}x{resolution}")
    m = m.to(torch.float32)
    if not torch.isfinite(m).all() or not ((m == 0) | (m == 1)).all():
        odd = m[~((m == 0) | (m == 1))][0].item()
        raise DragInputError(f"mask must be binary (1 = movable, 0 = fixed), found the value {odd:g}")
    if not m.any():
        raise DragInputError("mask marks no pixel as movable")
    return None if m.all() else m


class DragSession:
    """A DragGAN editing session on one generator: drags, renders, undo/redo.

    The session freezes G's parameters (`requires_grad_(False)`): a drag optimises only the latent.

    Example::

        session = DragSession(G, ws)                        # ws: [num_ws, w_dim] from G.mapping
        session.start_drag([[40, 30]], [[40, 44]])          # handles and targets, (row, col) pixels
        for result in session.run():
            print(result.step, result.distances, result.loss)
        image = session.render()                            # [1, C, H, W] in [-1, 1]

    Args:
        G: a StyleGAN2/StyleGAN3 generator with `synthesis.forward_features` and `feature_window`.
        w0: the starting latent, [num_ws, w_dim] (W+) or [w_dim] (W, broadcast to every row).
        config: how to drag (`DragConfig`).
    """

    def __init__(self, G: torch.nn.Module, w0: torch.Tensor | np.ndarray,
                 config: DragConfig | None = None) -> None:
        self._G = G.requires_grad_(False)
        self._device = next(G.parameters()).device
        self._resolution = int(G.img_resolution)
        self.config = config or DragConfig()
        self._w0 = _as_latent(w0, G.num_ws, G.w_dim, self._device)
        self._latent = self._w0.clone()
        empty = np.zeros((0, 2), dtype=np.float32)
        self._history = [Snapshot(self._w0.clone(), empty, empty)]
        self._history_index = 0
        self._drag: _Drag | None = None
        self._features_image: torch.Tensor | None = None  # image of the last `_features` call, if it had one
        # (as computed: it carries the step's graph when the latent did)
        self._stop = threading.Event()
        self.last_summary: DragSummary | None = None  # How the last finished drag ended.

    @classmethod
    def from_seed(cls, G: torch.nn.Module, seed: int, truncation_psi: float = 1.0,
                  config: DragConfig | None = None) -> DragSession:
        """A session on the image `autodrag generate --seeds SEED --trunc PSI` makes (unconditional G)."""
        if G.c_dim:
            raise DragInputError(f"the generator is conditional ({G.c_dim} classes): start from ws mapped "
                                 "with a class (CLI: --latent)")
        return cls(G, ws_from_seed(G, seed, truncation_psi), config)

    # ----------------------------------------------------------------------------------- state
    @property
    def config(self) -> DragConfig:
        """How the next drag runs; may be replaced at any time (a running drag keeps its own)."""
        return self._config

    @config.setter
    def config(self, config: DragConfig) -> None:
        synthesis = self._G.synthesis
        index = synthesis.drag_feature_index if config.feature_index is None else config.feature_index
        if not 0 <= index < synthesis.num_feature_layers:
            raise DragInputError(f"feature_index must be in [0, {synthesis.num_feature_layers - 1}], "
                                 f"got {index}")
        if config.w_plus and config.w_plus_rows > self._G.num_ws:
            raise DragInputError(f"w_plus_rows={config.w_plus_rows}, but the generator has only "
                                 f"{self._G.num_ws} ws")
        self._config, self._feature_index = config, index

    @property
    def window(self) -> FeatureWindow:
        """Where the image lies on the feature map the session drags (per the current config)."""
        return FeatureWindow.of(self._G, self._feature_index)

    @property
    def w0(self) -> torch.Tensor:
        """The latent the session started from, [num_ws, w_dim] (a copy)."""
        return self._w0.clone()

    @property
    def latent(self) -> torch.Tensor:
        """The current latent, [num_ws, w_dim] (a detached copy; includes an ongoing drag's progress)."""
        return self._current_ws().detach().clone()

    @property
    def dragging(self) -> bool:
        """True between `start_drag` and the end of the drag."""
        return self._drag is not None

    @property
    def points(self) -> np.ndarray:
        """Current handles [N, 2] (row, col): tracked during a drag, else those of the current snapshot."""
        if self._drag is not None:
            return self._drag.handles.cpu().numpy().copy()
        return self._history[self._history_index].handles.copy()

    @property
    def targets(self) -> np.ndarray:
        """Current targets [N, 2] (row, col)."""
        if self._drag is not None:
            return self._drag.targets.cpu().numpy().copy()
        return self._history[self._history_index].targets.copy()

    @property
    def step_count(self) -> int:
        """Steps taken in the current drag (0 when none is active)."""
        return self._drag.steps if self._drag is not None else 0

    @property
    def can_undo(self) -> bool:
        return self._drag is None and self._history_index > 0

    @property
    def can_redo(self) -> bool:
        return self._drag is None and self._history_index < len(self._history) - 1

    # ----------------------------------------------------------------------------------- features
    def _current_ws(self) -> torch.Tensor:
        """[num_ws, w_dim]: the latent, with the drag's optimised offset applied to its rows."""
        drag = self._drag
        if drag is None:
            return self._latent
        rows = drag.delta.shape[0]
        if not drag.config.w_plus:  # one shared offset for every row
            return drag.base + drag.delta
        return torch.cat([drag.base[:rows] + drag.delta, drag.base[rows:]], dim=0)

    def _features(self, ws: torch.Tensor, with_image: bool = False) -> torch.Tensor:
        """The drag feature map [1, C, H, W], running synthesis only up to it (or to the end, `with_image`)."""
        drag = self._drag
        index = drag.feature_index if drag is not None else self._feature_index
        noise_mode = (drag.config if drag is not None else self.config).noise_mode
        # Rows the drag does not optimise are constants: the network skips their gradient work.
        grad_rows = drag.delta.shape[0] if drag is not None and drag.config.w_plus else None
        out = self._G.synthesis.forward_features(ws[None], stop_at=None if with_image else index,
                                                 grad_rows=grad_rows, noise_mode=noise_mode)
        # When the feature map is the last block, the image comes with it: an image tracker reuses it.
        self._features_image = out.image
        return out.features[index]

    def render(self) -> torch.Tensor:
        """The full image of the current latent, [1, C, H, W] in [-1, 1] (no gradients)."""
        noise_mode = (self._drag.config if self._drag is not None else self.config).noise_mode
        with torch.no_grad():
            return self._G.synthesis(self._current_ws().detach()[None], noise_mode=noise_mode)

    # ----------------------------------------------------------------------------------- drags
    def start_drag(self, handles: object, targets: object,
                   mask: torch.Tensor | np.ndarray | None = None, tracker: PointTracker | None = None,
                   anchors: object = None, guide: ImageGuide | None = None) -> None:
        """Begin a drag: take F0 and f_i = F0(p_i) at the current latent, and a fresh Adam optimiser.

        Args:
            handles: [N, 2] (row, col) image pixels, floats inside the image.
            targets: [N, 2] (row, col), one per handle, none equal to its handle.
            mask: optional [R, R] binary map, 1 = movable; pixels at 0 are held close to F0.
            tracker: optional image -> handles function (e.g. re-detected landmarks) used instead of
                feature tracking; it costs a full render per step.
            anchors: optional [A, 2] (row, col) points whose content must stay put (`losses.anchor_loss`).
            guide: optional image -> scalar loss added every step (differentiable; [1, C, R, R] in [-1, 1]);
                it costs the synthesis blocks after the drag feature map.
        Raises:
            DragInputError: bad points or mask (the message names the problem).
            DragStateError: a drag is already running.
        """
        if self._drag is not None:
            raise DragStateError("a drag is already running: stop or finish it first")
        p = as_points(handles, self._resolution, "handles")
        t = as_points(targets, self._resolution, "targets")
        if p.shape[0] == 0:
            raise DragInputError("no handle points given")
        if p.shape[0] != t.shape[0]:
            raise DragInputError(f"{p.shape[0]} handles but {t.shape[0]} targets: give one target per handle")
        same = (p == t).all(dim=1)
        if same.any():
            i = int(same.nonzero()[0])
            raise DragInputError(f"target {i} equals its handle ({p[i, 0].item():g}, {p[i, 1].item():g})")
        movable = _as_mask(mask, self._resolution) if mask is not None else None
        a = as_points(anchors, self._resolution, "anchors") if anchors is not None else p[:0]

        p, t = p.to(self._device), t.to(self._device)
        config, window = self.config, self.window
        base = self._latent.clone()
        image_term = movable is not None and config.image_mask_weight > 0
        with torch.no_grad():
            f0 = self._features(base, with_image=image_term)
        fixed = None
        if movable is not None:
            fixed = fixed_weight_map(movable.to(self._device), window, tuple(f0.shape[-2:]))
        rows = config.w_plus_rows if config.w_plus else 1
        delta = torch.zeros([rows, base.shape[1]], device=self._device, requires_grad=True)
        scales = config.scaled(self._resolution, p.shape[0])
        offsets = disc_offsets(scales.r1, self._device)
        anchor_points = a.to(self._device)[:, None, :] + offsets[None] if a.shape[0] else None
        self._drag = _Drag(
            config=config, feature_index=self._feature_index, window=window,
            base=base, delta=delta, optimizer=torch.optim.Adam([delta], lr=config.lr),
            start_handles=p.clone(), handles=p.clone(), targets=t,
            references=sample_features(f0, p, window), reference_map=f0 if fixed is not None else None,
            fixed=fixed, reference_image=self._features_image if image_term else None,
            fixed_image=1 - movable.to(self._device) if image_term else None, scales=scales, offsets=offsets,
            good_delta=delta.detach().clone(), tracker=tracker, guide=guide, anchor_points=anchor_points,
            anchor_refs=None if anchor_points is None else sample_features(f0, anchor_points, window))
        entry = self._history[self._history_index]
        self._history[self._history_index] = replace(entry, handles=p.cpu().numpy(), targets=t.cpu().numpy())
        self._stop.clear()

    def _require_drag(self) -> _Drag:
        if self._drag is None:
            raise DragStateError("no drag is running: call start_drag(handles, targets) first")
        return self._drag

    def step(self) -> StepResult:
        """Track the handles on the current latent, then (unless all arrived) take one optimiser step."""
        drag = self._require_drag()
        if drag.reason is not None:
            raise DragStateError(f"the drag has ended ({drag.reason}): call finish()")
        start = time.perf_counter()
        drag.steps += 1
        features = self._features(self._current_ws(),
                                  with_image=drag.reference_image is not None or drag.guide is not None)
        image = self._features_image  # with this step's graph; None unless synthesis ran to the end
        loss_value = None
        if not torch.isfinite(features).all():
            self._restore_good(drag, "NaN/inf in the features")
        else:
            drag.good_delta = drag.delta.detach().clone()
            self._track(drag, features)
            if bool((self._distances(drag) <= drag.scales.stop_distance).all()):
                drag.reason = "converged"
            elif self._stalled(drag):
                drag.reason = "stalled"
            else:
                loss = self._loss(drag, features, image)
                loss_value = float(loss.detach())
                if not np.isfinite(loss_value):
                    self._restore_good(drag, "NaN/inf in the loss")
                else:
                    drag.optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    drag.optimizer.step()
                    drag.updates += 1
                    drag.tracked_after_update = False
                    if not torch.isfinite(drag.delta).all():
                        self._restore_good(drag, "NaN/inf in the latent")
        return StepResult(step=drag.steps, points=drag.handles.cpu().numpy().copy(),
                          distances=self._distances(drag).cpu().numpy().copy(), loss=loss_value,
                          ms=(time.perf_counter() - start) * 1e3, done=drag.reason is not None,
                          reason=drag.reason)

    def _loss(self, drag: _Drag, features: torch.Tensor, image: torch.Tensor | None) -> torch.Tensor:
        loss = motion_loss(features, drag.handles, drag.targets, drag.window, drag.offsets)
        if drag.fixed is not None and drag.scales.mask_weight > 0:
            loss = loss + drag.scales.mask_weight * mask_loss(features, drag.reference_map, drag.fixed,
                                                              drag.window.extent ** 2)
        if drag.anchor_points is not None:
            loss = loss + drag.config.anchor_weight * anchor_loss(features, drag.anchor_points, drag.anchor_refs,
                                                                  drag.window)
        if drag.reference_image is not None:
            loss = loss + drag.config.image_mask_weight * image_mask_loss(image, drag.reference_image, drag.fixed_image)
        if drag.guide is not None:
            loss = loss + drag.guide(image)
        if drag.config.latent_reg > 0:
            loss = loss + drag.config.latent_reg * drag.delta.square().mean()
        return loss

    def _track(self, drag: _Drag, features: torch.Tensor) -> None:
        """Update the handles on the current latent (features, or the drag's image tracker)."""
        if drag.tracker is None:
            drag.handles, _ = track_points(features, drag.handles, drag.references, drag.window,
                                           drag.scales.r2, drag.config.tracking)
        else:
            image = self._features_image.detach() if self._features_image is not None else self.render()
            found = np.asarray(drag.tracker(image), dtype=np.float32).reshape(drag.handles.shape)
            drag.handles = torch.from_numpy(found).to(drag.handles.device)
        drag.tracked_after_update = True

    def _stalled(self, drag: _Drag) -> bool:
        """Patience: remember the best latent; True (after restoring it) when it is `patience` steps old."""
        patience = drag.config.patience
        if patience <= 0:
            return False
        mean = float(self._distances(drag).mean())
        if mean < drag.best_mean - 1e-3:
            drag.best_mean, drag.best_step, drag.best_delta = mean, drag.steps, drag.delta.detach().clone()
            return False
        if drag.steps - drag.best_step < patience:
            return False
        with torch.no_grad():
            drag.delta.copy_(drag.best_delta)
        drag.tracked_after_update = False
        return True

    @staticmethod
    def _distances(drag: _Drag) -> torch.Tensor:
        return (drag.targets - drag.handles).norm(dim=1)

    def _restore_good(self, drag: _Drag, what: str) -> None:
        """NaN stop: put back the last latent whose features were finite."""
        with torch.no_grad():
            drag.delta.copy_(drag.good_delta)
        drag.tracked_after_update = False
        drag.reason = "nan"
        drag.message = f"{what} at step {drag.steps}: stopped and kept the last good latent"

    def run(self, max_steps: int | None = None) -> Iterator[StepResult]:
        """Step until every handle arrives, a NaN appears, `stop()` is called or `max_steps`; then finish.

        Yields each `StepResult`; the last one has `done=True` and a `reason` (except after `stop()`,
        which ends the loop between steps). The drag's `DragSummary` is then in `last_summary`.
        """
        drag = self._require_drag()
        limit = drag.config.max_steps if max_steps is None else max_steps
        try:
            while not self._stop.is_set() and drag.reason is None:
                if drag.steps >= limit:
                    drag.reason = "max_steps"
                    break
                result = self.step()
                if result.done:
                    yield result
                    break
                if drag.steps >= limit:
                    drag.reason = "max_steps"
                    yield replace(result, done=True, reason="max_steps")
                    break
                yield result
        finally:
            if self._drag is drag:
                self.finish()

    def stop(self) -> None:
        """Ask a running `run()` to end after the current step (safe from any thread)."""
        self._stop.set()

    def finish(self) -> DragSummary:
        """End the drag: track the handles on the final latent and push it onto the undo history."""
        drag = self._require_drag()
        if not drag.tracked_after_update:
            with torch.no_grad():
                features = self._features(self._current_ws())
            if torch.isfinite(features).all():
                self._track(drag, features)
        reason = drag.reason or "stopped"
        with torch.no_grad():
            self._latent = self._current_ws().detach().clone()
        handles, targets = drag.handles.cpu().numpy(), drag.targets.cpu().numpy()
        distances = self._distances(drag).cpu().numpy()
        self._drag = None
        if drag.updates > 0:
            del self._history[self._history_index + 1:]
            self._history.append(Snapshot(self._latent.clone(), handles, targets))
            self._history_index += 1
        else:
            entry = self._history[self._history_index]
            self._history[self._history_index] = replace(entry, handles=handles, targets=targets)
        message = drag.message or f"{reason} after {drag.steps} steps, max distance {distances.max():.2f} px"
        self.last_summary = DragSummary(reason, drag.steps, handles.copy(), targets.copy(), distances,
                                        message)
        return self.last_summary

    # ----------------------------------------------------------------------------------- history
    def undo(self) -> bool:
        """Go back to the latent (and handles) before the last drag. Returns False when there is none."""
        if self._drag is not None:
            raise DragStateError("cannot undo during a drag: stop or finish it first")
        if self._history_index == 0:
            return False
        self._history_index -= 1
        self._latent = self._history[self._history_index].latent.clone()
        return True

    def redo(self) -> bool:
        """Re-apply the drag that `undo` took back. Returns False when there is none."""
        if self._drag is not None:
            raise DragStateError("cannot redo during a drag: stop or finish it first")
        if self._history_index >= len(self._history) - 1:
            return False
        self._history_index += 1
        self._latent = self._history[self._history_index].latent.clone()
        return True
