"""`DragSession`: the one owner of a drag's state (latents, optimiser, reference features, points, history).

Each step runs synthesis only up to the feature map, tracks the handles on it, and (unless every
handle has arrived) takes one Adam step on the latent. The full image is rendered only when asked,
or when a loss term or tracker needs it. Front ends (CLI, GUI worker thread) drive it through
`start_drag`, `run`/`step`, `stop`, `render`, `undo` and `redo`; only `stop()` may be called from another
thread. The optional loss terms are in `terms`, the undo/redo history in `history`,
a running drag's state in `state`, what it reports in `results`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np
import torch

from autodrag.drag.config import DragConfig
from autodrag.drag.coords import (
    FeatureWindow,
    as_handles_and_targets,
    as_movable_mask,
    as_points,
    automatic_feature_index,
)
from autodrag.drag.errors import DragInputError, DragStateError
from autodrag.drag.history import History, Snapshot
from autodrag.drag.losses import disc_offsets, motion_loss
from autodrag.drag.results import STOP_REASONS, DragSummary, StepResult
from autodrag.drag.state import DragState, PointTracker
from autodrag.drag.terms import ImageGuide, drag_terms
from autodrag.drag.tracking import (
    RELOCATION_BLOCKS,
    RELOCATION_PATCH,
    Relocator,
    lower_maps,
    patch_descriptors,
    patch_offsets,
    track_handles,
)
from autodrag.latents import fit_ws, ws_from_seed

__all__ = [
    "STOP_REASONS",
    "DragSession",
    "DragSummary",
    "ImageGuide",
    "PointTracker",
    "Snapshot",
    "StepResult",
    "warm_up_optimizer",
]


def warm_up_optimizer() -> None:
    """Pay the one-off cost of the first `torch.optim.Adam` (it imports torch._dynamo: 1-2 s on a CPU)
    now, e.g. when a front end loads a model, rather than between a user's Start and the first step."""
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])


def _as_latent(w: torch.Tensor | np.ndarray, num_ws: int, w_dim: int, device: torch.device) -> torch.Tensor:
    """ws [num_ws, w_dim] (`latents.fit_ws`) on `device`, checked finite."""
    fitted = fit_ws(torch.as_tensor(w, dtype=torch.float32).detach(), num_ws, w_dim)
    if fitted is None:
        raise DragInputError(
            f"latent has shape {list(np.shape(w))}, this generator needs [{num_ws}, {w_dim}] (or [{w_dim}])"
        )
    if not torch.isfinite(fitted).all():
        raise DragInputError("latent contains NaN or infinity")
    return fitted.to(device).clone()


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

    def __init__(
        self, G: torch.nn.Module, w0: torch.Tensor | np.ndarray, config: DragConfig | None = None
    ) -> None:
        self._G = G.requires_grad_(False)
        self._device = next(G.parameters()).device
        self._resolution = int(G.img_resolution)
        self.config = config or DragConfig()
        self._w0 = _as_latent(w0, G.num_ws, G.w_dim, self._device)
        self._latent = self._w0.clone()
        self._history = History(self._w0)
        self._drag: DragState | None = None
        self._stop = threading.Event()
        self.last_summary: DragSummary | None = None  # How the last finished drag ended.

    @classmethod
    def from_seed(
        cls, G: torch.nn.Module, seed: int, truncation_psi: float = 1.0, config: DragConfig | None = None
    ) -> DragSession:
        """A session on the image `autodrag generate --seeds SEED --trunc PSI` makes (unconditional G)."""
        if G.c_dim:
            raise DragInputError(
                f"the generator is conditional ({G.c_dim} classes): start from ws mapped "
                "with a class (CLI: --latent)"
            )
        return cls(G, ws_from_seed(G, seed, truncation_psi), config)

    # ----------------------------------------------------------------------------------- state
    @property
    def config(self) -> DragConfig:
        """How the next drag runs; may be replaced at any time (a running drag keeps its own)."""
        return self._config

    @config.setter
    def config(self, config: DragConfig) -> None:
        synthesis = self._G.synthesis
        index = config.feature_index
        if index is None:
            index = synthesis.drag_feature_index if config.draggan_map else automatic_feature_index(synthesis)
        if not 0 <= index < synthesis.num_feature_layers:
            raise DragInputError(
                f"feature_index must be in [0, {synthesis.num_feature_layers - 1}], got {index}"
            )
        if config.w_plus and config.w_plus_rows > self._G.num_ws:
            raise DragInputError(
                f"w_plus_rows={config.w_plus_rows}, but the generator has only {self._G.num_ws} ws"
            )
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
        return self._drag.handles.cpu().numpy().copy() if self._drag else self._history.current.handles.copy()

    @property
    def targets(self) -> np.ndarray:
        """Current targets [N, 2] (row, col)."""
        return self._drag.targets.cpu().numpy().copy() if self._drag else self._history.current.targets.copy()

    @property
    def step_count(self) -> int:
        """Steps taken in the current drag (0 when none is active)."""
        return self._drag.steps if self._drag is not None else 0

    @property
    def can_undo(self) -> bool:
        return self._drag is None and self._history.can_undo

    @property
    def can_redo(self) -> bool:
        return self._drag is None and self._history.can_redo

    # ----------------------------------------------------------------------------------- synthesis
    def _current_ws(self) -> torch.Tensor:
        """[num_ws, w_dim]: the latent, with the drag's optimised offset applied to its rows."""
        return self._latent if self._drag is None else self._drag.current_ws()

    def _synthesize(
        self, ws: torch.Tensor, with_image: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None, list[torch.Tensor]]:
        """(the drag feature map [1, C, H, W], the image [1, C, R, R] or None), running synthesis only up to
        the map and no RGB branch (or to the end with the image, `with_image`), and every map up to it.
        The image carries the step's graph when `ws` does."""
        drag = self._drag
        index = drag.feature_index if drag is not None else self._feature_index
        noise_mode = (drag.config if drag is not None else self.config).noise_mode
        # Rows the drag does not optimise are constants: the network skips their gradient work.
        grad_rows = drag.delta.shape[0] if drag is not None and drag.config.w_plus else None
        out = self._G.synthesis.forward_features(
            ws[None],
            stop_at=None if with_image else index,
            grad_rows=grad_rows,
            need_image=with_image,
            noise_mode=noise_mode,
        )
        return out.features[index], out.image, out.features

    def _maps_below(self, blocks: int) -> tuple[tuple[int, FeatureWindow], ...]:
        """(index, window) of the `blocks - 1` feature maps below the drag map, nearest first."""
        below = range(self._feature_index - 1, max(self._feature_index - blocks, -1), -1)
        return tuple((i, FeatureWindow.of(self._G, i)) for i in below)

    def _features(self, ws: torch.Tensor) -> torch.Tensor:
        """The drag feature map [1, C, H, W] of `ws`."""
        return self._synthesize(ws)[0]

    def render(self) -> torch.Tensor:
        """The full image of the current latent, [1, C, H, W] in [-1, 1] (no gradients)."""
        noise_mode = (self._drag.config if self._drag is not None else self.config).noise_mode
        with torch.no_grad():
            return self._G.synthesis(self._current_ws().detach()[None], noise_mode=noise_mode)

    # ----------------------------------------------------------------------------------- drags
    def start_drag(
        self,
        handles: object,
        targets: object,
        mask: torch.Tensor | np.ndarray | None = None,
        tracker: PointTracker | None = None,
        anchors: object = None,
        guide: ImageGuide | None = None,
    ) -> None:
        """Begin a drag: take F0 and f_i = F0(p_i) at the current latent, and a fresh Adam optimiser.

        Args:
            handles: [N, 2] (row, col) image pixels, floats inside the image.
            targets: [N, 2] (row, col), one per handle, none equal to its handle.
            mask: optional [R, R] binary map, 1 = movable; pixels at 0 are held close to F0 (and, with
                `config.image_mask_weight`, to the start image).
            tracker: optional image -> handles function (e.g. re-detected landmarks) used instead of
                feature tracking; it costs a full render per step.
            anchors: optional [A, 2] (row, col) points whose content must stay put (`terms.AnchorTerm`).
            guide: optional image -> scalar loss added every step (differentiable; [1, C, R, R] in [-1, 1]);
                it costs the synthesis blocks after the drag feature map.
        Raises:
            DragInputError: bad points or mask (the message names the problem).
            DragStateError: a drag is already running.
        """
        if self._drag is not None:
            raise DragStateError("a drag is already running: stop or finish it first")
        p, t = as_handles_and_targets(handles, targets, self._resolution)
        movable = as_movable_mask(mask, self._resolution) if mask is not None else None
        a = as_points(anchors, self._resolution, "anchors") if anchors is not None else p[:0]

        p, t = p.to(self._device), t.to(self._device)
        config, window = self.config, self.window
        base = self._latent.clone()
        image_term = movable is not None and config.image_mask_weight > 0
        with torch.no_grad():
            f0, i0, maps0 = self._synthesize(base, with_image=image_term)
        rows = config.w_plus_rows if config.w_plus else 1
        delta = torch.zeros([rows, base.shape[1]], device=self._device, requires_grad=True)
        draggan_window = FeatureWindow.of(self._G, self._G.synthesis.drag_feature_index)
        scales = config.scaled(self._resolution, p.shape[0], coarsening=draggan_window.scale / window.scale)
        offsets = disc_offsets(scales.r1, self._device)
        patch = patch_offsets(scales.track_patch, window, self._device)
        track_maps = self._maps_below(config.track_blocks)
        extra0 = lower_maps(maps0, track_maps)
        relocator = None
        if config.relocate and tracker is None:
            relocation_patch = patch_offsets(RELOCATION_PATCH, window, self._device)
            lower = self._maps_below(RELOCATION_BLOCKS)
            relocator = Relocator.at_start(
                f0,
                maps0,
                p,
                window,
                relocation_patch,
                lower,
                radius=scales.r2,
                metric=config.tracking,
                subpixel=config.subpixel,
            )
        self._drag = DragState(
            config=config,
            feature_index=self._feature_index,
            window=window,
            base=base,
            delta=delta,
            optimizer=torch.optim.Adam([delta], lr=scales.lr),
            handles=p.clone(),
            targets=t,
            references=patch_descriptors(f0, p, window, patch, extra0),
            patch=patch,
            track_maps=track_maps,
            scales=scales,
            offsets=offsets,
            terms=drag_terms(
                config, scales, window, delta, offsets, f0, i0, movable, a.to(self._device), guide
            ),
            tracker=tracker,
            relocator=relocator,
            good_delta=delta.detach().clone(),
        )
        self._history.set_points(p.cpu().numpy(), t.cpu().numpy())
        self._stop.clear()

    def _require_drag(self) -> DragState:
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
        features, image, maps = self._synthesize(self._current_ws(), with_image=drag.needs_image)
        loss_value = None
        if not torch.isfinite(features).all():
            drag.restore_good("NaN/inf in the features")
        else:
            drag.good_delta = drag.delta.detach().clone()
            self._track(drag, features, image, maps)
            if drag.arrived() and drag.relocator is not None:  # the richer match must agree
                drag.handles = drag.relocator.relocate(features, maps, drag.handles)
                drag.vetoed = drag.vetoed or not drag.arrived()
            if drag.arrived():
                drag.reason = "converged"
            elif drag.stalled():
                drag.reason = "stalled"
            else:
                loss = motion_loss(features, drag.handles, drag.targets, drag.window, drag.offsets)
                for term in drag.terms:
                    loss = loss + term.loss(features, image)
                loss_value = float(loss.detach())
                if not np.isfinite(loss_value):
                    drag.restore_good("NaN/inf in the loss")
                else:
                    drag.optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    drag.optimizer.step()
                    drag.updates += 1
                    drag.tracked_after_update = False
                    if not torch.isfinite(drag.delta).all():
                        drag.restore_good("NaN/inf in the latent")
        return StepResult(
            step=drag.steps,
            points=drag.handles.cpu().numpy().copy(),
            distances=drag.distances().cpu().numpy().copy(),
            loss=loss_value,
            ms=(time.perf_counter() - start) * 1e3,
            done=drag.reason is not None,
            reason=drag.reason,
        )

    def _track(
        self, drag: DragState, features: torch.Tensor, image: torch.Tensor | None, maps: list[torch.Tensor]
    ) -> None:
        """Update the handles on the current latent (features, or the drag's image tracker on `image`)."""
        if drag.tracker is None:
            config = drag.config
            found = track_handles(
                features,
                drag.handles,
                drag.references,
                drag.recent,
                drag.window,
                drag.scales.r2,
                drag.patch,
                config.tracking,
                config.recent_weight,
                config.subpixel,
                lower_maps(maps, drag.track_maps),
            )
            drag.handles, drag.reliable = found.points, found.reliable
            drag.recent = found.recent if config.recent_weight > 0 else None
        else:
            image = image.detach() if image is not None else self.render()
            found = np.asarray(drag.tracker(image), dtype=np.float32).reshape(drag.handles.shape)
            drag.handles = torch.from_numpy(found).to(drag.handles.device)
        drag.tracked_after_update = True

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
        """End the drag: track the handles on the final latent (and re-locate them: `DragConfig.relocate`), and
        push it onto the undo history."""
        drag = self._require_drag()
        # A converged drag's last step re-located its handles on the final latent already.
        relocate = drag.relocator is not None and drag.reason != "converged"
        if not drag.tracked_after_update or relocate:
            with torch.no_grad():
                features, image, maps = self._synthesize(
                    self._current_ws(), with_image=drag.tracker is not None
                )
            if torch.isfinite(features).all():
                if not drag.tracked_after_update:
                    self._track(drag, features, image, maps)
                if relocate:
                    drag.handles = drag.relocator.relocate(features, maps, drag.handles)
        reason = drag.reason or "stopped"
        with torch.no_grad():
            self._latent = self._current_ws().detach().clone()
        handles, targets = drag.handles.cpu().numpy(), drag.targets.cpu().numpy()
        distances = drag.distances().cpu().numpy()
        self._drag = None
        if drag.updates > 0:
            self._history.push(Snapshot(self._latent.clone(), handles, targets))
        else:
            self._history.set_points(handles, targets)
        message = drag.message or f"{reason} after {drag.steps} steps, max distance {distances.max():.2f} px"
        self.last_summary = DragSummary(
            reason, drag.steps, handles.copy(), targets.copy(), distances, message
        )
        return self.last_summary

    # ----------------------------------------------------------------------------------- history
    def undo(self) -> bool:
        """Go back to the latent (and handles) before the last drag. Returns False when there is none."""
        return self._move_in_history(self._history.undo, "undo")

    def redo(self) -> bool:
        """Re-apply the drag that `undo` took back. Returns False when there is none."""
        return self._move_in_history(self._history.redo, "redo")

    def _move_in_history(self, move: Callable[[], Snapshot | None], what: str) -> bool:
        if self._drag is not None:
            raise DragStateError(f"cannot {what} during a drag: stop or finish it first")
        snapshot = move()
        if snapshot is None:
            return False
        self._latent = snapshot.latent.clone()
        return True
