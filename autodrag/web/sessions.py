"""One `Controller` per browser tab, its private files, its state snapshot, and idle expiry."""

from __future__ import annotations

import asyncio
import base64
import gc
import io
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from autodrag.gui.controller import Controller

__all__ = ["SessionStore", "WebSession", "encode_image"]


def encode_image(array: np.ndarray, fmt: str = "PNG") -> str:
    """uint8 [H, W, C] -> a data: URL (PNG, or JPEG for large images during a drag)."""
    buffer = io.BytesIO()
    image = Image.fromarray(array)
    if fmt == "JPEG":
        image.convert("RGB").save(buffer, format="JPEG", quality=90)
    else:
        image.save(buffer, format="PNG", compress_level=1)
    return f"data:image/{fmt.lower()};base64,{base64.b64encode(buffer.getvalue()).decode()}"


def _mask_overlay(mask: np.ndarray) -> str:
    """The fixed region as a translucent dark RGBA layer (movable pixels transparent)."""
    rgba = np.zeros((*mask.shape, 4), np.uint8)
    rgba[..., 3] = np.where(mask, 0, 140)
    return encode_image(rgba)


@dataclass
class WebSession:
    """A tab's state: its Controller (latent, points, mask, history) and the folder of its downloads."""

    id: str
    controller: Controller
    folder: Path
    lock: threading.Lock = field(default_factory=threading.Lock)  # one controller call at a time
    last_seen: float = field(default_factory=time.monotonic)
    files: dict[str, Path] = field(default_factory=dict)  # download kind -> the file this session wrote
    sent_image_version: int = -1
    sent_mask_key: object = None
    log_index: int = 0
    wake: asyncio.Event | None = None  # set when the page should get a fresh state (the open WebSocket's)
    outbox: asyncio.Queue | None = None  # error messages waiting for that WebSocket

    def touch(self) -> None:
        self.last_seen = time.monotonic()

    def snapshot(self, force_image: bool = False) -> dict:
        """Take the worker's progress and describe what the page shows (image only when it changed).

        Call with `lock` held (it runs controller code).
        """
        c = self.controller
        c.poll()
        view = c.view
        state: dict = {
            "type": "state",
            "status": c.status,
            "busy": c.busy,
            "step": c.step,
            "loaded": c.G is not None,
            "model": (c.ckpt.name if c.ckpt else "bundled") if c.G is not None else None,
            "resolution": c.resolution,
            "seed": c.seed,
            "psi": c.psi,
            "w_plus": c.drag_config.w_plus,
            "lr": c.drag_config.lr,
            "max_steps": c.drag_config.max_steps,
            "mask_weight": c.drag_config.mask_weight,
            "handles": [list(map(float, p)) for p in view.handles],
            "targets": [list(map(float, p)) for p in view.targets],
            "pending_preset": view.pending_preset,
            "strength": view.strength,
            "show_landmarks": view.show_landmarks,
            "mask_radius": view.mask_radius,
            "landmarks": (
                view.landmarks_rc.tolist() if view.show_landmarks and view.landmarks_rc is not None else None
            ),
            "can_undo": bool(c.session is not None and c.session.can_undo and not c.busy),
            "can_redo": bool(c.session is not None and c.session.can_redo and not c.busy),
            "frames": len(c.last_frames),
            "mask_movable": None if c.mask is None else float(c.mask.mean()),
        }
        n = min(len(view.handles), len(view.targets))
        state["distances"] = [
            float(np.hypot(h[0] - t[0], h[1] - t[1])) for h, t in zip(view.handles[:n], view.targets[:n])
        ]
        if c.image is not None and (force_image or c.image_version != self.sent_image_version):
            fmt = "JPEG" if c.busy and c.image.shape[0] > 256 else "PNG"
            state["image"] = encode_image(c.image, fmt)
            state["image_version"] = self.sent_image_version = c.image_version
        mask_key = None if c.mask is None else (c.mask.shape, hash(c.mask.tobytes()))
        if force_image or mask_key != self.sent_mask_key:
            state["mask"] = None if c.mask is None else _mask_overlay(c.mask)
            self.sent_mask_key = mask_key
        errors = [text for kind, text in c.log[self.log_index :] if kind == "error"]
        self.log_index = len(c.log)
        if errors:
            state["errors"] = errors
        return state

    def close(self) -> None:
        """Stop a running drag and free the session's memory and files."""
        with self.lock:
            c = self.controller
            c.stop()
            c.wait_idle(30)
            c.session = c.G = c.image = c.mask = None
            c.last_frames = []
            c._detector = None
        shutil.rmtree(self.folder, ignore_errors=True)


class SessionStore:
    """All live sessions; `expire` drops those idle longer than `idle_timeout_s`."""

    def __init__(
        self,
        idle_timeout_s: float = 1800.0,
        root: Path | None = None,
        device: str = "cpu",
        render_every_s: float = 0.1,
        max_sessions: int = 32,
    ) -> None:
        self.idle_timeout_s, self.device, self.render_every_s = idle_timeout_s, device, render_every_s
        self.max_sessions = max_sessions
        self.root = Path(tempfile.mkdtemp(prefix="autodrag-web-", dir=root))
        self.sessions: dict[str, WebSession] = {}
        self._lock = threading.Lock()

    def create(self) -> WebSession:
        """A new session with its own Controller and folder.

        Raises:
            RuntimeError: `max_sessions` are open already.
        """
        with self._lock:
            if len(self.sessions) >= self.max_sessions:
                raise RuntimeError(
                    f"the server has {self.max_sessions} open sessions: close a tab or try later"
                )
            sid = secrets.token_urlsafe(16)
            folder = self.root / sid
            folder.mkdir(parents=True)
            controller = Controller(device=self.device, capture_dir=folder)
            controller.render_every_s = self.render_every_s
            session = self.sessions[sid] = WebSession(sid, controller, folder)
        return session

    def get(self, sid: object) -> WebSession | None:
        session = self.sessions.get(sid) if isinstance(sid, str) else None
        if session is not None:
            session.touch()
        return session

    def drop(self, sid: str) -> bool:
        with self._lock:
            session = self.sessions.pop(sid, None)
        if session is None:
            return False
        session.close()
        gc.collect()
        return True

    def expire(self, now: float | None = None) -> list[str]:
        """Drop the sessions idle for longer than the timeout (a running drag is not idle)."""
        now = time.monotonic() if now is None else now
        idle = [
            sid
            for sid, s in list(self.sessions.items())
            if now - s.last_seen > self.idle_timeout_s and not s.controller.busy
        ]
        for sid in idle:
            self.drop(sid)
        return idle

    def close(self) -> None:
        for sid in list(self.sessions):
            self.drop(sid)
        shutil.rmtree(self.root, ignore_errors=True)
