"""The ASGI app: the page, one WebSocket per tab driving that tab's `Controller`, uploads and downloads.

Protocol (JSON text frames). The page sends `{"action": NAME, ...arguments}` (see `ACTIONS`); the server
sends `hello` once (session id, models, presets), then `state` messages (status, points, distances,
step, and the image / mask only when they changed) and `error` messages. A running drag is polled
~20 times a second and only the newest state is sent, so a slow page skips frames instead of queueing
them. Controller calls run in a thread pool, one at a time per session, so one tab never blocks another.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from autodrag.atomic import write_bytes_atomic
from autodrag.presets import PRESETS, STRENGTH_RANGE
from autodrag.web import auth
from autodrag.web.models import ModelNameError, list_models, resolve_model
from autodrag.web.sessions import SessionStore, WebSession
from autodrag.web.uploads import UploadError, UploadLimits, UploadTooLarge, decode_image

__all__ = ["ACTIONS", "WebConfig", "create_app"]

log = logging.getLogger("autodrag.web")
STATIC = Path(__file__).parent / "static"
MAX_MESSAGE_CHARS = 1_000_000


@dataclass
class WebConfig:
    """What `autodrag web` was started with."""

    host: str = "127.0.0.1"
    port: int = 7860
    ckpt: Path | None = None  # loaded into every new session; its name is listed with the models
    models_dir: Path | None = None
    token: str | None = None  # required on every request when set (always set for a non-loopback host)
    idle_timeout_s: float = 1800.0
    device: str = "cpu"
    upload: UploadLimits = field(default_factory=UploadLimits)
    max_sessions: int = 32
    render_every_s: float = 0.1  # a running drag renders an image this often (frames for the page)
    workers: int = 4  # thread pool for controller calls
    allowed_hosts: tuple[str, ...] = ()  # Host header names accepted besides loopback when no token is set
    photo_inversion: Any = None  # photos.invert.InversionConfig for uploaded photos; None = its defaults


class _BadMessage(ValueError):
    """A WebSocket message the server cannot act on (one line for the page)."""


def _number(
    msg: dict,
    key: str,
    kind: type = float,
    required: bool = True,
    lo: float = -math.inf,
    hi: float = math.inf,
):
    value = msg.get(key)
    if value is None:
        if required:
            raise _BadMessage(f"action {msg['action']!r}: {key!r} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _BadMessage(f"action {msg['action']!r}: {key!r} must be a number, got {value!r}")
    if kind is int and value != int(value):
        raise _BadMessage(f"action {msg['action']!r}: {key!r} must be a whole number, got {value!r}")
    if not lo <= value <= hi:
        raise _BadMessage(f"action {msg['action']!r}: {key!r} must be in [{lo:g}, {hi:g}], got {value!r}")
    return kind(value)


def _flag(msg: dict, key: str, required: bool = False) -> bool | None:
    value = msg.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, bool):
        raise _BadMessage(f"action {msg['action']!r}: {key!r} must be true or false, got {value!r}")
    return value


def _points(msg: dict) -> list[tuple[float, float]]:
    points = msg.get("points")
    if not isinstance(points, list) or not 0 < len(points) <= 10_000:
        raise _BadMessage(f"action {msg['action']!r}: 'points' must be a list of 1..10000 [row, col] pairs")
    for p in points:
        if (
            not isinstance(p, list)
            or len(p) != 2
            or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in p
            )
        ):
            raise _BadMessage(f"action {msg['action']!r}: each point must be [row, col] numbers, got {p!r}")
    return [(float(r), float(c)) for r, c in points]


def _strength(ctrl, value: float) -> None:
    ctrl.view.strength = value


# action -> function(config, controller, message) run in the pool with the session lock held
ACTIONS: dict[str, Callable] = {
    "load_model": lambda cfg, c, m: c.load_network(resolve_model(m.get("name"), cfg.models_dir, cfg.ckpt)),
    "set_latent": lambda cfg, c, m: c.set_latent(
        seed=_number(m, "seed", int, False, 0, 2**32 - 1), psi=_number(m, "psi", float, False, -2, 2)
    ),
    "set_options": lambda cfg, c, m: c.set_drag_options(
        w_plus=_flag(m, "w_plus"),
        lr=_number(m, "lr", float, False, 0, 1.0),  # 0 = automatic
        max_steps=_number(m, "max_steps", int, False, 1, 100_000),
        mask_weight=_number(m, "mask_weight", float, False, 0, 1e4),
    ),
    "reset_latent": lambda cfg, c, m: c.reset_latent(),
    "click": lambda cfg, c, m: c.click_image(_number(m, "row"), _number(m, "col")),
    "paint": lambda cfg, c, m: c.paint_stroke(
        _points(m), movable=_mode(m) == "movable", radius=_number(m, "radius", float, False, 0.5, 4096)
    ),
    "reset_points": lambda cfg, c, m: c.reset_points(),
    "reset_mask": lambda cfg, c, m: c.reset_mask(),
    "start": lambda cfg, c, m: c.start(),
    "stop": lambda cfg, c, m: c.stop(),
    "undo": lambda cfg, c, m: c.undo(),
    "redo": lambda cfg, c, m: c.redo(),
    "preset": lambda cfg, c, m: c.prepare_preset(_preset(m)),
    "apply": lambda cfg, c, m: _apply(c),
    "strength": lambda cfg, c, m: _strength(c, _number(m, "value", float, True, *STRENGTH_RANGE)),
    "show_landmarks": lambda cfg, c, m: c.set_show_landmarks(_flag(m, "show", required=True)),
    "state": lambda cfg, c, m: None,
}


def _apply(ctrl) -> None:
    if ctrl.view.pending_preset is None:
        raise _BadMessage("Apply: press a Face Adjustments button first")
    ctrl.start()


def _mode(msg: dict) -> str:
    if msg.get("mode") not in ("movable", "fixed"):
        raise _BadMessage(f"action 'paint': 'mode' must be 'movable' or 'fixed', got {msg.get('mode')!r}")
    return msg["mode"]


def _preset(msg: dict) -> str:
    if msg.get("name") not in PRESETS:
        raise _BadMessage(
            f"action 'preset': unknown preset {msg.get('name')!r} (one of {', '.join(PRESETS)})"
        )
    return msg["name"]


def parse_message(text: str) -> dict:
    """A WebSocket text frame -> the action message (raises `_BadMessage` with a one-line reason)."""
    if len(text) > MAX_MESSAGE_CHARS:
        raise _BadMessage(f"message of {len(text)} characters is over the {MAX_MESSAGE_CHARS} limit")
    try:
        msg = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise _BadMessage(f"malformed message (not JSON: {exc})") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("action"), str):
        raise _BadMessage('malformed message: expected an object like {"action": "start"}')
    if msg["action"] not in ACTIONS:
        raise _BadMessage(f"unknown action {msg['action']!r} (known: {', '.join(sorted(ACTIONS))})")
    return msg


class _Server:
    """The app's shared state: config, sessions, the pool, the open WebSockets."""

    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self.store = SessionStore(
            config.idle_timeout_s,
            device=config.device,
            render_every_s=config.render_every_s,
            max_sessions=config.max_sessions,
        )
        self.pool = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="autodrag-web")
        self.sockets: dict[str, WebSocket] = {}
        local = auth.is_local(config.host) and config.token is None
        self.allowed_hosts = (*auth.LOCAL_HOSTS, *config.allowed_hosts) if local else ()

    async def call(self, session: WebSession, fn: Callable, *args):
        """Run `fn(*args)` in the pool with the session's lock held."""

        def locked():
            with session.lock:
                return fn(*args)

        return await asyncio.get_running_loop().run_in_executor(self.pool, locked)

    # ------------------------------------------------------------------ checks
    def authorized(self, conn: Request | WebSocket) -> bool:
        return auth.token_ok(self.config.token, conn.query_params, conn.cookies, conn.headers)

    def denied(self, conn: Request | WebSocket) -> str | None:
        """Why a request is refused (None = allowed)."""
        if not auth.host_ok(conn.headers.get("host"), self.allowed_hosts):
            return f"Host {conn.headers.get('host')!r} is not allowed (this server answers on loopback only)"
        if not self.authorized(conn):
            return (
                "this AutoDrag server needs its access token: open the URL printed where `autodrag web` "
                "started (http://HOST:PORT/?token=...)"
            )
        return None

    def session_for(self, sid: str) -> WebSession:
        session = self.store.get(sid)
        if session is None:
            raise LookupError("no such session (it may have expired: reload the page)")
        return session

    # ------------------------------------------------------------------ HTTP routes
    async def index(self, request: Request) -> Response:
        if reason := self.denied(request):
            return PlainTextResponse(reason, status_code=403)
        if "token" in request.query_params:  # remember the token, then drop it from the address bar
            response: Response = RedirectResponse("/", status_code=303)
            response.set_cookie(auth.COOKIE, request.query_params["token"], httponly=True, samesite="strict")
            return response
        return HTMLResponse((STATIC / "index.html").read_text())

    async def models(self, request: Request) -> Response:
        if reason := self.denied(request):
            return JSONResponse({"error": reason}, status_code=403)
        return JSONResponse({"models": list_models(self.config.models_dir, self.config.ckpt)})

    async def upload(self, request: Request) -> Response:
        if reason := self.denied(request):
            return JSONResponse({"error": reason}, status_code=403)
        try:
            session = self.session_for(request.path_params["sid"])
        except LookupError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        kind, name = request.path_params["kind"], request.query_params.get("name", "upload")[:200]
        if kind not in ("latent", "photo"):
            return JSONResponse({"error": f"unknown upload kind {kind!r} (latent or photo)"}, status_code=404)
        try:
            data = await _read_body(request, self.config.upload.max_bytes, name)
            if kind == "latent":
                text = await self.call(session, self._load_latent, session, data, name)
            else:
                await asyncio.get_running_loop().run_in_executor(
                    self.pool, functools.partial(decode_image, data, name, self.config.upload)
                )  # safe to open?
                text = await self.call(session, self._open_photo, session, data, name)
        except UploadError as exc:
            return JSONResponse(
                {"error": str(exc)}, status_code=413 if isinstance(exc, UploadTooLarge) else 400
            )
        self._wake(session)
        return JSONResponse({"status": text})

    @staticmethod
    def _load_latent(session: WebSession, data: bytes, name: str) -> str:
        c = session.controller
        if c.G is None:
            raise UploadError(f"{name}: load a model before a latent")
        path = write_bytes_atomic(session.folder / "upload-latent.npz", data)
        n_errors = sum(kind == "error" for kind, _ in c.log)
        c.load_latent(path)
        if sum(kind == "error" for kind, _ in c.log) > n_errors:
            raise UploadError(f"{name}: {c.status}")
        return c.status

    def _open_photo(self, session: WebSession, data: bytes, name: str) -> str:
        """Keep the upload's bytes (EXIF, mode) in the session folder and invert it in the controller's
        worker, exactly as the desktop's "Open photo" does; the page shows the progress as status."""
        c = session.controller
        suffix = Path(name).suffix.lower()
        suffix = suffix if suffix in (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp") else ".img"
        path = write_bytes_atomic(session.folder / f"photo{suffix}", data)
        n_errors = sum(kind == "error" for kind, _ in c.log)
        c.open_photo(path, config=self.config.photo_inversion, project_dir=session.folder / "project")
        if sum(kind == "error" for kind, _ in c.log) > n_errors:
            raise UploadError(f"{name}: {c.status}")
        return f"{name}: inverting the face (progress below); then edit it and download the photo"

    async def download(self, request: Request) -> Response:
        if reason := self.denied(request):
            return PlainTextResponse(reason, status_code=403)
        try:
            session = self.session_for(request.path_params["sid"])
        except LookupError as exc:
            return PlainTextResponse(str(exc), status_code=404)
        kind = request.path_params["kind"]
        makers = {
            "png": ("save_capture", ".png"),
            "latent": ("save_capture", ".npz"),
            "gif": ("save_gif", ".gif"),
            "mp4": ("save_mp4", ".mp4"),
            "photo": ("save_photo_capture", None),
        }  # the pasted-back photo keeps its own format
        if kind not in makers:
            return PlainTextResponse(
                f"unknown download {kind!r} (png, latent, gif, mp4 or photo)", status_code=404
            )
        method, suffix = makers[kind]

        def make() -> tuple[Path | None, str]:
            c = session.controller
            if c.G is None:
                return None, "load a model first"
            if c.busy:
                return None, "a drag is running: stop it or wait for it to end"
            old = session.files.pop(kind, None)
            path = getattr(c, method)()
            if old is not None and old != path:
                old.unlink(missing_ok=True)
                if kind in ("png", "latent"):
                    old.with_suffix(".npz" if kind == "png" else ".png").unlink(missing_ok=True)
            if path is None:
                return None, c.status
            path = path.with_suffix(suffix) if suffix else path
            session.files[kind] = path
            return path, c.status

        path, status = await self.call(session, make)
        self._wake(session)
        if path is None:
            return PlainTextResponse(status, status_code=409)
        if not path.resolve().is_relative_to(session.folder.resolve()) or not path.is_file():
            return PlainTextResponse("that file is not this session's", status_code=403)
        return FileResponse(path, filename=f"autodrag-{kind}{suffix or path.suffix}")

    # ------------------------------------------------------------------ WebSocket
    def _wake(self, session: WebSession) -> None:
        if session.wake is not None:
            session.wake.set()

    async def websocket(self, ws: WebSocket) -> None:
        if reason := self.denied(ws):
            await ws.close(code=4403, reason=reason[:120])
            return
        await ws.accept()
        sid = ws.query_params.get("session")
        session = self.store.get(sid) if sid not in self.sockets else None
        try:
            if session is None:
                session = await asyncio.get_running_loop().run_in_executor(self.pool, self.store.create)
                if self.config.ckpt is not None:
                    await self.call(session, session.controller.load_network, self.config.ckpt)
        except Exception as exc:  # too many sessions, or the command line's checkpoint failed
            await ws.send_json({"type": "error", "message": str(exc)})
            await ws.close(code=4429)
            return
        self.sockets[session.id] = ws
        session.wake = asyncio.Event()
        session.outbox = asyncio.Queue()
        await ws.send_json(
            {
                "type": "hello",
                "session": session.id,
                "models": list_models(self.config.models_dir, self.config.ckpt),
                "presets": [{"name": p.name, "label": p.button_label} for p in PRESETS.values()],
                "strength_range": list(STRENGTH_RANGE),
                "idle_timeout_s": self.config.idle_timeout_s,
            }
        )
        sender = asyncio.create_task(self._send_loop(ws, session))
        try:
            while True:
                text = await ws.receive_text()
                session.touch()
                try:
                    msg = parse_message(text)
                    await self.call(session, ACTIONS[msg["action"]], self.config, session.controller, msg)
                except (_BadMessage, ModelNameError) as exc:
                    session.outbox.put_nowait({"type": "error", "message": str(exc)})
                except Exception as exc:  # a bug must not end the tab's connection
                    log.exception("action failed")
                    session.outbox.put_nowait({"type": "error", "message": f"internal error: {exc}"})
                session.wake.set()
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
            if self.sockets.get(session.id) is ws:
                del self.sockets[session.id]

    async def _send_loop(self, ws: WebSocket, session: WebSession) -> None:
        """Send errors as they come and the newest state whenever something changed (frames are never queued)."""
        last, force = None, True
        while True:
            busy = session.controller.busy
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(session.wake.wait(), timeout=0.05 if busy else 1.0)
            woken = session.wake.is_set()  # an action or upload: always answer with a state
            session.wake.clear()
            if session.id not in self.store.sessions:
                return
            while not session.outbox.empty():
                await ws.send_json(session.outbox.get_nowait())
            state = await self.call(session, session.snapshot, force)
            force = False
            key = {k: v for k, v in state.items() if k not in ("image", "image_version", "mask", "errors")}
            if woken or key != last or len(state) > len(key):
                for text in state.pop("errors", []):
                    await ws.send_json({"type": "error", "message": text})
                await ws.send_json(state)
                last = key

    async def reap(self) -> None:
        """Drop idle sessions now and then; tell their pages."""
        period = max(0.2, min(30.0, self.config.idle_timeout_s / 4))
        while True:
            await asyncio.sleep(period)
            dropped = await asyncio.get_running_loop().run_in_executor(self.pool, self.store.expire)
            for sid in dropped:
                ws = self.sockets.pop(sid, None)
                log.info("session %s expired", sid)
                if ws is not None:
                    with contextlib.suppress(Exception):
                        await ws.send_json(
                            {
                                "type": "error",
                                "message": "session expired after "
                                f"{self.config.idle_timeout_s:g} s idle: reload the page",
                            }
                        )
                        await ws.close(code=4000)


async def _read_body(request: Request, limit: int, name: str) -> bytes:
    """The request body, refused as soon as it passes `limit` bytes."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise UploadTooLarge(f"{name}: {int(length) / 2**20:.1f} MB is over the {limit / 2**20:.0f} MB limit")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise UploadTooLarge(f"{name}: the upload is over the {limit / 2**20:.0f} MB limit")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(config: WebConfig | None = None) -> Starlette:
    """The Starlette app for `config` (its `_Server` is `app.state.server`)."""
    config = config or WebConfig()
    if not auth.is_local(config.host) and config.token is None:
        raise ValueError(f"--host {config.host}: a non-loopback server needs an access token")
    server = _Server(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        reaper = asyncio.create_task(server.reap())
        try:
            yield
        finally:
            reaper.cancel()
            server.store.close()
            server.pool.shutdown(wait=False, cancel_futures=True)

    routes = [
        Route("/", server.index),
        Route("/api/models", server.models),
        Route("/api/upload/{sid}/{kind}", server.upload, methods=["POST"]),
        Route("/api/download/{sid}/{kind}", server.download),
        WebSocketRoute("/ws", server.websocket),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.server = server
    return app
