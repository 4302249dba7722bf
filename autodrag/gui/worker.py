"""Runs a drag in a background thread so the window stays responsive; results come back stamped."""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass

import numpy as np

from autodrag.drag import DragSession, DragSummary
from autodrag.drag.session import ImageGuide, PointTracker
from autodrag.images import to_uint8

__all__ = ["DragWorker", "Progress"]


@dataclass(frozen=True)
class Progress:
    """One message from the worker: a step, and sometimes a fresh image; `summary` on the last one."""

    drag_id: int  # which drag this belongs to (stale messages are dropped)
    step: int
    points: np.ndarray  # [N, 2] (row, col) tracked handles
    distances: np.ndarray  # [N]
    loss: float | None
    image: np.ndarray | None  # uint8 [H, W, 3] rendered at most every `render_every_s`
    summary: DragSummary | None = None  # set on the final message
    error: str | None = None  # set if the drag raised


class DragWorker:
    """Owns one thread that starts the drag and runs `session.run()`; the GUI reads `Progress` from `messages`."""

    def __init__(
        self,
        session: DragSession,
        drag_id: int,
        handles: np.ndarray,
        targets: np.ndarray,
        mask: np.ndarray | None,
        max_steps: int,
        render_every_s: float = 0.25,
        tracker: PointTracker | None = None,
        anchors: np.ndarray | None = None,
        guide: ImageGuide | None = None,
    ) -> None:
        self.messages: queue.Queue[Progress] = queue.Queue()
        self._session, self._id = session, drag_id
        self._drag_args = (handles, targets, mask, tracker, anchors, guide)
        self._max_steps, self._render_every_s = max_steps, render_every_s
        self._thread = threading.Thread(target=self._run, name=f"drag-{drag_id}", daemon=True)
        self._stop_requested = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the drag to end after the current step (or before its first, if it has not started)."""
        self._stop_requested.set()
        self._session.stop()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        last_render = time.monotonic()
        try:
            self._session.start_drag(*self._drag_args)  # reference features: off the GUI thread
            if self._stop_requested.is_set():  # Stop came while the drag was starting (start_drag clears it)
                self._session.stop()
            for result in self._session.run(self._max_steps):
                image = None
                if time.monotonic() - last_render >= self._render_every_s:
                    image = to_uint8(self._session.render())
                    last_render = time.monotonic()
                self.messages.put(
                    Progress(self._id, result.step, result.points, result.distances, result.loss, image)
                )
            summary = self._session.last_summary
            final = to_uint8(self._session.render())
            self.messages.put(
                Progress(
                    self._id, summary.steps, summary.points, summary.distances, None, final, summary=summary
                )
            )
        except Exception as exc:  # reported in the status line; the window must not crash
            self.messages.put(
                Progress(
                    self._id,
                    0,
                    np.zeros((0, 2)),
                    np.zeros(0),
                    None,
                    None,
                    error=f"{type(exc).__name__}: {exc}",
                )
            )
