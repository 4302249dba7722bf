"""Everything the visualizer can do, callable from Python without a window.

The `Controller` owns the generator, the `DragSession`, the pending points and mask, and the
status line. The window (`app.py`) draws its state and calls its methods; tests call the same
methods headless. No user action raises: errors go to `status`.
"""

from __future__ import annotations

import functools
import itertools
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from autodrag.cli_types import resolve_device
from autodrag.drag import DragConfig, DragSession
from autodrag.drag.session import warm_up_optimizer
from autodrag.gui.worker import DragWorker, Progress
from autodrag.images import save_gif, save_png, to_uint8
from autodrag.landmarks.select import detector_for
from autodrag.latents import load_latent, save_latent, ws_from_seed
from autodrag.networks import load_generator
from autodrag.presets import PRESETS, STRENGTH_RANGE, plan_edit
from autodrag.presets.masks import disc_mask
from autodrag.presets.plan import EditPlan
from autodrag.presets.wiring import preset_drag, preset_drag_config

__all__ = ["Controller", "ViewState"]


@dataclass
class ViewState:
    """What the window shows besides the image (all points (row, col) image pixels)."""

    handles: list[tuple[float, float]] = field(default_factory=list)
    targets: list[tuple[float, float]] = field(default_factory=list)
    landmarks_rc: np.ndarray | None = None  # [68, 2] when shown
    show_landmarks: bool = False
    show_mask: bool = True
    mask_mode: str = "off"  # 'off' (clicks place points), 'movable' or 'fixed' (clicks paint)
    mask_radius: float = 8.0  # paint radius, image pixels
    strength: float = 1.0  # preset strength
    pending_preset: str | None = None  # preset whose points are shown, waiting for Start/Apply


def _user_action(method: Callable) -> Callable:
    """Run a controller action; any error becomes a status-line message instead of a crash."""

    @functools.wraps(method)
    def wrapper(self: Controller, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:  # the window must never crash on user input
            self.status = f"{method.__name__.replace('_', ' ')}: {exc}"
            self.log.append(("error", self.status))
            return None

    return wrapper


class Controller:
    """The visualizer's state and actions."""

    render_every_s: float = 0.25  # how often a running drag renders a fresh image (the web front end: less)

    def __init__(self, device: str = "cpu", capture_dir: Path = Path("out/captures")) -> None:
        self.device = resolve_device(device)  # 'auto' = cuda when available
        self.capture_dir = Path(capture_dir)
        self.G: torch.nn.Module | None = None
        self.ckpt: Path | None = None
        self.recent: list[str] = []
        self.seed, self.psi = 0, 0.7
        self.drag_config = DragConfig()
        self.session: DragSession | None = None
        self.view = ViewState()
        self.mask: np.ndarray | None = None  # bool [H, W], True = movable; None = everything movable
        self.image: np.ndarray | None = None
        self.image_version = 0
        self.status = "ready"
        self.log: list[tuple[str, str]] = []  # (kind, text) of actions, for tests and --log
        self.step = 0
        self.last_frames: list[np.ndarray] = []  # images of the last drag, for the GIF
        self._worker: DragWorker | None = None
        self._drag_id = 0
        self._detector = None
        self._preset_plan: EditPlan | None = None  # the pending preset's plan (handles, anchors, guide)

    # ------------------------------------------------------------------ state queries
    @property
    def busy(self) -> bool:
        """True while a drag (or a photo inversion: `open_photo`) runs in the worker."""
        return self._worker is not None or getattr(self, "_photo_job", None) is not None

    @property
    def resolution(self) -> int:
        return int(self.G.img_resolution) if self.G is not None else 0

    def _set_image(self, image: np.ndarray) -> None:
        self.image = image
        self.image_version += 1

    def _require_idle(self) -> None:
        if self.busy:
            raise RuntimeError("a drag is running: stop it first")

    def _record(self, text: str) -> None:
        self.status = text
        self.log.append(("action", text))

    # ------------------------------------------------------------------ network and latent
    @_user_action
    def load_network(self, path: str | Path | None) -> None:
        """Load a checkpoint (None = the bundled model) and show its seed."""
        self._require_idle()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            G = load_generator(Path(path) if path else None, device=self.device)
        self.G, self.ckpt = G, Path(path) if path else None
        self._detector = None
        if path:
            self.recent = [str(path)] + [r for r in self.recent if r != str(path)][:7]
        self._new_session(self._seed_ws())
        warm_up_optimizer()  # the first Start then shows its first step in ~0.1 s, not ~1.2 s
        notes = "".join(f" (note: {w.message})" for w in caught)
        self._record(f"loaded {path or 'bundled model'}: {G.family}, {G.img_resolution}px{notes}")

    def _seed_ws(self) -> torch.Tensor:
        return ws_from_seed(self.G, self.seed, self.psi)

    def _new_session(self, ws: torch.Tensor) -> None:
        self.session = DragSession(self.G, ws, self.drag_config)
        self.view.handles, self.view.targets, self.view.pending_preset = [], [], None
        self.view.landmarks_rc = None
        self.mask = None
        self.step = 0
        self._refresh_image()

    def _refresh_image(self) -> None:
        self._set_image(to_uint8(self.session.render()))
        if self.view.show_landmarks:
            self._detect_landmarks()

    @_user_action
    def set_latent(self, seed: int | None = None, psi: float | None = None) -> None:
        """Show a new seed and/or truncation psi (starts a fresh session)."""
        self._require_idle()
        if seed is not None:
            if not 0 <= int(seed) < 2**32:
                raise ValueError(f"seed must be in [0, 2**32), got {seed}")
            self.seed = int(seed)
        if psi is not None:
            self.psi = float(psi)
        self._new_session(self._seed_ws())
        self._record(f"seed {self.seed}, psi {self.psi:g}")

    @_user_action
    def set_drag_options(
        self,
        w_plus: bool | None = None,
        lr: float | None = None,
        max_steps: int | None = None,
        mask_weight: float | None = None,
    ) -> None:
        """W/W+, step size (0 = automatic, `DragConfig.lr` None), max steps, mask lambda: used by the next
        drag. None leaves an option unchanged."""
        changes = {
            k: v
            for k, v in dict(w_plus=w_plus, lr=lr, max_steps=max_steps, mask_weight=mask_weight).items()
            if v is not None
        }
        if changes.get("lr") == 0:
            changes["lr"] = None
        self.drag_config = replace(self.drag_config, **changes)
        if self.session is not None:
            self.session.config = self.drag_config

    @_user_action
    def reset_latent(self) -> None:
        """Back to the seed's latent (history is cleared)."""
        self._require_idle()
        self._new_session(self._seed_ws())
        self._record("latent reset")

    @_user_action
    def load_latent(self, path: str | Path) -> None:
        self._require_idle()
        ws = load_latent(path, self.G.num_ws, self.G.w_dim)
        self._new_session(torch.from_numpy(ws).to(self.device))
        self._record(f"loaded latent {path}")

    @_user_action
    def save_latent(self, path: str | Path) -> None:
        save_latent(path, ws=self.session.latent.cpu().numpy(), seed=self.seed, psi=self.psi)
        self._record(f"saved latent {path}")

    # ------------------------------------------------------------------ points and mask
    def _check_inside(self, row: float, col: float) -> None:
        if not (0 <= row <= self.resolution - 1 and 0 <= col <= self.resolution - 1):
            raise ValueError(
                f"({row:.0f}, {col:.0f}) is outside the {self.resolution}x{self.resolution} image"
            )

    @_user_action
    def click_image(self, row: float, col: float) -> None:
        """Place a handle, then its target (alternately); in a mask mode, paint instead."""
        self._require_idle()
        self._check_inside(row, col)
        if self.view.mask_mode != "off":
            self._paint(row, col, movable=self.view.mask_mode == "movable")
            return
        if len(self.view.handles) == len(self.view.targets):
            self.view.handles.append((row, col))
            self._record(f"handle {len(self.view.handles)} at ({row:.1f}, {col:.1f})")
        else:
            self.view.targets.append((row, col))
            self._record(f"target {len(self.view.targets)} at ({row:.1f}, {col:.1f})")

    def _paint(self, row: float, col: float, movable: bool) -> None:
        if self.mask is None:  # first stroke: painting movable starts from all-fixed, and vice versa
            self.mask = np.full((self.resolution, self.resolution), not movable)
        disc = disc_mask(self.mask.shape, np.array([[col, row]]), self.view.mask_radius)
        self.mask[disc] = movable
        self.status = f"mask: {self.mask.mean():.0%} movable"

    @_user_action
    def reset_points(self) -> None:
        self._require_idle()
        self.view.handles, self.view.targets, self.view.pending_preset = [], [], None
        self._record("points reset")

    @_user_action
    def reset_mask(self) -> None:
        self.mask = None
        self._record("mask reset (everything movable)")

    # ------------------------------------------------------------------ landmarks and presets
    def _landmark_detector(self):
        if self._detector is None:
            self._detector = detector_for("auto", bundled_model=self.ckpt is None, device=str(self.device))
        return self._detector

    def _detect_landmarks(self) -> np.ndarray:
        from autodrag.drag.coords import xy_to_rowcol

        xy = self._landmark_detector().detect(self.image)
        self.view.landmarks_rc = xy_to_rowcol(xy)
        return xy

    @_user_action
    def set_show_landmarks(self, show: bool) -> None:
        self.view.show_landmarks = bool(show)
        if show and self.image is not None and not self.busy:
            self._detect_landmarks()

    @_user_action
    def prepare_preset(self, name: str) -> None:
        """Detect the 68 landmarks and show the preset's handles, targets and mask (Start/Apply runs it)."""
        self._require_idle()
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}")
        lo, hi = STRENGTH_RANGE
        xy = self._detect_landmarks()
        plan = plan_edit(xy, name, min(max(self.view.strength, lo), hi), self.image.shape[:2])
        self.view.handles = [tuple(p) for p in plan.handles_rc.tolist()]
        self.view.targets = [tuple(p) for p in plan.targets_rc.tolist()]
        self.mask = plan.mask.copy()
        self.view.pending_preset = name
        self._preset_plan = plan
        self._record(f"{PRESETS[name].label}: {len(plan.handles_xy)} points planned; press Start")

    @_user_action
    def apply_preset(self, name: str) -> None:
        """Plan the preset and start the drag at once."""
        self.prepare_preset(name)
        if self.view.pending_preset == name:
            self.start()

    # ------------------------------------------------------------------ drags
    @_user_action
    def start(self) -> None:
        """Start dragging the placed handles to their targets (in the worker thread)."""
        self._require_idle()
        if self.session is None:
            raise RuntimeError("no network loaded")
        n = min(len(self.view.handles), len(self.view.targets))
        if n == 0:
            raise ValueError("place a handle and a target first (click the image twice)")
        self.session.config = self.drag_config
        self.view.handles, self.view.targets = self.view.handles[:n], self.view.targets[:n]
        self._drag_id += 1
        self.step = 0
        self.last_frames = [self.image.copy()]
        mask = None if self.mask is None else self.mask.astype(np.float32)
        handles, targets = np.array(self.view.handles), np.array(self.view.targets)
        tracker = anchors = guide = None
        plan = self._preset_plan
        if self.view.pending_preset is not None and plan is not None and n == len(plan.handle_rows):
            # A preset's handles are landmarks: track and guide them as `autodrag edit` does (presets.wiring).
            drag = preset_drag(
                self.session,
                self._landmark_detector(),
                plan,
                config=preset_drag_config(self.drag_config, presets=plan.presets),
                mask=mask,
            )
            self.session.config = drag.config
            handles, targets, anchors = drag.handles, drag.targets, drag.anchors
            tracker, guide = drag.tracker, drag.guide
        self._worker = DragWorker(
            self.session,
            self._drag_id,
            handles,
            targets,
            mask,
            self.drag_config.max_steps,
            render_every_s=self.render_every_s,
            tracker=tracker,
            anchors=anchors,
            guide=guide,
        )
        self._worker.start()
        self._record(f"drag started ({n} points)")

    @_user_action
    def stop(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._record("stopping...")

    def poll(self) -> bool:
        """Take the worker's messages (call once a frame). Returns True when something changed."""
        if getattr(self, "_photo_job", None) is not None:
            return self._poll_photo()
        worker = self._worker
        if worker is None:
            return False
        changed = False
        while not worker.messages.empty():
            msg: Progress = worker.messages.get_nowait()
            if msg.drag_id != self._drag_id:
                continue
            changed = True
            self._apply_progress(msg)
        return changed

    def _apply_progress(self, msg: Progress) -> None:
        if msg.error:
            self._worker = None
            self.status = f"drag failed: {msg.error}"
            self.log.append(("error", self.status))
            return
        self.step = msg.step
        if len(msg.points):
            self.view.handles = [tuple(p) for p in np.asarray(msg.points, dtype=float).tolist()]
        if msg.image is not None:
            self._set_image(msg.image)
            self.last_frames.append(msg.image)
        if msg.summary is not None:
            self._worker = None
            self.view.pending_preset = None
            if self.view.show_landmarks:
                self._detect_landmarks()
            self._record(
                f"drag {msg.summary.reason} after {msg.summary.steps} steps, "
                f"max distance {float(np.max(msg.summary.distances, initial=0)):.1f} px"
            )
        else:
            self.status = f"step {msg.step}, max distance {float(np.max(msg.distances, initial=0)):.1f} px"

    def wait_idle(self, timeout_s: float = 600.0) -> bool:
        """Block until the running drag ends (for scripts and tests). Returns False on timeout."""
        deadline = time.monotonic() + timeout_s
        while self.busy and time.monotonic() < deadline:
            if self._worker is None:  # a photo inversion: no drag worker to join
                time.sleep(0.05)
                self.poll()
                continue
            self._worker.join(0.05)
            self.poll()
        self.poll()
        return not self.busy

    @_user_action
    def undo(self) -> None:
        self._require_idle()
        if self.session.undo():
            self._after_history("undo")
        else:
            self.status = "nothing to undo"

    @_user_action
    def redo(self) -> None:
        self._require_idle()
        if self.session.redo():
            self._after_history("redo")
        else:
            self.status = "nothing to redo"

    def _after_history(self, what: str) -> None:
        self.view.handles = [tuple(p) for p in self.session.points.tolist()]
        self.view.targets = [tuple(p) for p in self.session.targets.tolist()]
        self._refresh_image()
        self._record(what)

    # ------------------------------------------------------------------ capture
    @_user_action
    def save_capture(self) -> Path:
        """Save the current image (PNG) and latent (.npz) into the capture folder."""
        stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{self.image_version:04d}"
        png = save_png(self.capture_dir / f"capture-{stamp}.png", self.image)
        save_latent(
            self.capture_dir / f"capture-{stamp}.npz", ws=self.session.latent.cpu().numpy(), seed=self.seed
        )
        self._record(f"saved {png}")
        return png

    @_user_action
    def save_gif(self) -> Path:
        """Save the frames of the last drag as a GIF."""
        if len(self.last_frames) < 2:
            raise RuntimeError("no drag to save yet")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = save_gif(self.capture_dir / f"drag-{stamp}.gif", self.last_frames)
        self._record(f"saved {path}")
        return path

    # ------------------------------------------------------------------ additions for the web front end
    @_user_action
    def paint_stroke(
        self, points: list[tuple[float, float]], movable: bool, radius: float | None = None
    ) -> None:
        """Paint a brush stroke through (row, col) points (gaps filled), movable or fixed; radius in pixels."""
        self._require_idle()
        if self.G is None:
            raise RuntimeError("no network loaded")
        rc = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if not len(rc) or not np.isfinite(rc).all():
            raise ValueError("a stroke needs at least one finite (row, col) point")
        for row, col in rc:
            self._check_inside(float(row), float(col))
        if radius is not None:
            if not 0 < float(radius) <= self.resolution:
                raise ValueError(f"brush radius must be in (0, {self.resolution}], got {radius}")
            self.view.mask_radius = float(radius)
        spacing = max(self.view.mask_radius / 2, 0.5)
        dense = [rc[:1]]
        for a, b in itertools.pairwise(rc):
            n = int(np.ceil(np.linalg.norm(b - a) / spacing))
            dense.append(a + (b - a) * (np.arange(1, n + 1)[:, None] / max(n, 1)))
        for row, col in np.concatenate(dense):
            self._paint(float(row), float(col), movable=bool(movable))
        self.log.append(("action", f"painted {'movable' if movable else 'fixed'} stroke ({len(rc)} points)"))

    @_user_action
    def save_mp4(self, fps: float = 12.5) -> Path:
        """Save the frames of the last drag as an MP4 (beside the GIF)."""
        from autodrag.images import save_mp4

        if len(self.last_frames) < 2:
            raise RuntimeError("no drag to save yet")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = save_mp4(self.capture_dir / f"drag-{stamp}.mp4", self.last_frames, fps=fps)
        self._record(f"saved {path}")
        return path

    # ------------------------------------------------------------------ photos (autodrag.photos)
    @_user_action
    def open_photo(
        self,
        path: str | Path,
        backend: str = "auto",
        face: int = 0,
        config=None,
        project_dir: str | Path | None = None,
    ) -> None:
        """Invert a photo's face in the worker thread (progress in the status line; a finished project in
        `project_dir`, default <capture dir>/projects/<photo stem>, is reused), then drag on the tuned
        generator at the pivot: the Drag, Mask and Face Adjustments panels work on the photo's face."""
        import queue
        import threading

        from autodrag.photos.pipeline import prepare_photo, resolve_backend, resolve_framing

        self._require_idle()
        if self.G is None:
            self.load_network(None)
        base = getattr(self, "_photo", None)
        G = base["G_base"] if base is not None and self.G is base["project"].G_tuned else self.G
        path = Path(path)
        bundled = self.ckpt is None
        # bad input fails here, at once, in the status line (nothing written)
        prep = prepare_photo(
            path,
            int(G.img_resolution),
            resolve_backend(backend, bundled),
            int(face),
            resolve_framing("auto", bundled),
        )
        directory = Path(project_dir) if project_dir else self.capture_dir / "projects" / path.stem
        messages: queue.Queue = queue.Queue()
        stop = threading.Event()

        def run() -> None:
            from autodrag.photos.pipeline import invert_photo

            try:
                project = invert_photo(
                    path,
                    G,
                    directory,
                    backend,
                    int(face),
                    config,
                    progress=lambda stage, step, total, loss: messages.put(
                        ("progress", f"inverting {path.name}: {stage} {step}/{total}")
                    ),
                    should_stop=stop.is_set,
                    generator_path=self.ckpt,
                    bundled=bundled,
                    prepared=prep,
                )
                messages.put(("done", project))
            except Exception as exc:  # reported in the status line
                messages.put(("error", f"{type(exc).__name__}: {exc}"))

        thread = threading.Thread(target=run, name="photo-inversion", daemon=True)
        self._photo_job = {"thread": thread, "messages": messages, "stop": stop, "path": path, "G_base": G}
        thread.start()
        self._record(f"inverting {path.name} ({len(prep.faces)} face(s), editing face {face})...")

    def stop_photo(self) -> None:
        """Ask a running photo inversion to end its stage (what it has is kept in the project folder)."""
        job = getattr(self, "_photo_job", None)
        if job is not None:
            job["stop"].set()

    def _poll_photo(self) -> bool:
        job = self._photo_job
        changed = False
        while not job["messages"].empty():
            kind, payload = job["messages"].get_nowait()
            changed = True
            if kind == "progress":
                self.status = payload
            elif kind == "error":
                self._photo_job = None
                self.status = f"open photo: {payload}"
                self.log.append(("error", self.status))
            else:
                self._photo_job = None
                project = payload
                self._photo = {"project": project, "path": job["path"], "G_base": job["G_base"]}
                self.G = project.G_tuned
                self._new_session(torch.from_numpy(project.ws_pivot).to(self.device))
                self._photo["reconstruction"] = self.image.copy()
                self._record(
                    f"opened {job['path'].name}: {project.note}; "
                    f"PSNR {project.metrics.get('psnr_tune', project.metrics.get('psnr_w_plus', 0.0)):.1f} dB"
                )
        return changed

    @_user_action
    def save_photo_capture(self) -> Path:
        """Paste the current crop back into the opened photo and write the full photo (lossless) into the
        capture folder; only pixels the edit changed (inside the face) differ from the input."""
        from autodrag.photos.io import compose_output, default_output_suffix, load_photo, save_photo
        from autodrag.photos.pipeline import paste_edit

        self._require_idle()
        info = getattr(self, "_photo", None)
        if info is None or self.G is not info["project"].G_tuned:
            raise RuntimeError("open a photo first")
        project = info["project"]
        photo = load_photo(info["path"])
        landmarks = np.asarray(project.layout.get("landmarks_crop"), dtype=np.float64)
        pasted = paste_edit(
            photo.rgb,
            self.image,
            info["reconstruction"],
            project.transform,
            landmarks,
            movable_crop=self.mask,
        )
        stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{self.image_version:04d}"
        out = save_photo(
            self.capture_dir / f"photo-{info['path'].stem}-{stamp}{default_output_suffix(photo)}",
            compose_output(photo, pasted.rgb, pasted.mask),
        )
        self.last_photo_paste = pasted
        self._record(f"saved {out} ({int(pasted.mask.sum())} pixels pasted)")
        return out
