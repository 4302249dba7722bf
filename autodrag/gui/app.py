"""The visualizer window: glfw + imgui + OpenGL, a side bar of panels and the image view.

The frame loop only draws and forwards input to the `Controller`; drags run in its worker
thread. Test hooks: `frames` + `screenshot` (render, save the framebuffer, exit), `script`
(scripted clicks through imgui's real mouse path), `print_widgets` (widget rectangles as JSON
on stdout), `log` (the controller's action log as JSON lines), `stats` (frame times).
"""

from __future__ import annotations

import json
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import glfw
import imgui
import numpy as np
import OpenGL.GL as gl
from imgui.integrations.glfw import GlfwRenderer

from autodrag.gui import ui
from autodrag.gui.controller import Controller
from autodrag.gui.panels import PANELS, TextFields
from autodrag.images import save_png

__all__ = ["AppOptions", "ScriptError", "load_script", "run_app"]

MAX_WAIT_FRAMES = 120  # a scripted click whose widget is not drawn within this many frames is an error

SIDEBAR_WIDTH = 420
HANDLE_COLOR = (0.95, 0.15, 0.15, 1.0)
TARGET_COLOR = (0.2, 0.45, 1.0, 1.0)
LANDMARK_COLOR = (0.2, 0.9, 0.4, 1.0)


@dataclass
class AppOptions:
    """How to run the window (the test hooks are off by default)."""

    ckpt: Path | None = None  # checkpoint to open (None = bundled model)
    width: int = 1280
    height: int = 800
    device: str = "cpu"
    capture_dir: Path = Path("out/captures")
    frames: int | None = None  # exit after this many frames (counted once the script has finished)
    screenshot: Path | None = None  # save the framebuffer here at exit
    script: Path | None = None  # JSON list of events (see ScriptPlayer)
    print_widgets: bool = False  # print widget rectangles as JSON (one line) every 30 frames
    log: Path | None = None  # write the controller's actions/errors as JSON lines at exit
    stats: Path | None = None  # write frame-time statistics as JSON at exit
    max_fps: float = 60.0


class ScriptError(ValueError):
    """A --script file that is missing, not JSON, or not a list of valid events."""


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_event(i: int, event) -> str | None:
    if not isinstance(event, dict):
        return f'event {i} is {type(event).__name__}, not an object like {{"click": "Start"}}'
    kinds = [k for k in ("click", "image", "wait_idle") if k in event]
    unknown = sorted(set(event) - {"click", "image", "wait_idle", "frame"})
    if unknown:
        return f"event {i}: unknown key {unknown[0]!r} (keys: click, image, wait_idle, frame)"
    if len(kinds) != 1:
        return f"event {i}: needs exactly one of click, image, wait_idle"
    if "frame" in event and not (
        isinstance(event["frame"], int) and not isinstance(event["frame"], bool) and event["frame"] >= 0
    ):
        return f"event {i}: frame must be a whole number >= 0, got {event['frame']!r}"
    if "click" in event and not (isinstance(event["click"], str) and event["click"]):
        return f"event {i}: click must be a widget label (a string), got {event['click']!r}"
    if "image" in event and not (
        isinstance(event["image"], list)
        and len(event["image"]) == 2
        and all(_number(v) for v in event["image"])
    ):
        return f"event {i}: image must be [row, col] numbers, got {event['image']!r}"
    if "wait_idle" in event and event["wait_idle"] is not True:
        return f"event {i}: wait_idle must be true"
    return None


def load_script(path: Path) -> list[dict]:
    """The events of a --script file, checked against the schema before any window opens.

    Raises:
        ScriptError: the file is missing or unreadable, not JSON, not a list, or an event is malformed.
    """
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ScriptError(f"--script {path}: cannot read it ({exc.strerror or exc})") from None
    try:
        events = json.loads(text)
    except ValueError as exc:
        raise ScriptError(f"--script {path}: not valid JSON ({exc})") from None
    if not isinstance(events, list):
        raise ScriptError(f"--script {path}: must be a JSON list of events, got {type(events).__name__}")
    for i, event in enumerate(events):
        problem = _check_event(i, event)
        if problem:
            raise ScriptError(f"--script {path}: {problem}")
    return events


@dataclass
class ScriptPlayer:
    """Plays scripted events: {"click": label, "frame": f} presses on frame f (or later) and releases on
    the next; {"image": [row, col]} clicks an image pixel; {"wait_idle": true} holds the rest until the
    drag has ended."""

    events: list[dict]
    index: int = 0
    release_next: bool = False
    position: tuple[float, float] = (
        0.0,
        0.0,
    )  # where the pending press happened (the release goes there too)
    waited: int = 0  # frames the current click has waited for its widget

    @property
    def done(self) -> bool:
        return self.index >= len(self.events) and not self.release_next

    def inject(self, frame: int, io, ctrl: Controller, image_rect) -> None:
        """Called after the backend processed real input and before `imgui.new_frame()`."""
        if self.release_next:
            io.mouse_pos = self.position
            io.mouse_down[0] = False
            self.release_next = False
            return
        if self.index >= len(self.events):
            return
        event = self.events[self.index]
        if frame < event.get("frame", 0):
            return
        if event.get("wait_idle"):
            if not ctrl.busy:
                self.index += 1
            return
        if "click" in event:
            if event["click"] not in ui.REGISTRY.rects:
                self.waited += 1
                if self.waited > MAX_WAIT_FRAMES:
                    known = ", ".join(sorted(ui.REGISTRY.rects)[:12])
                    raise ScriptError(
                        f"--script event {self.index}: no widget {event['click']!r} after "
                        f"{MAX_WAIT_FRAMES} frames (widgets: {known}, ...)"
                    )
                return  # not drawn yet (e.g. a panel still opening): try next frame
            self.waited = 0
            io.mouse_pos = ui.REGISTRY.centre(event["click"])
        elif "image" in event:
            row, col = event["image"]
            x0, y0, scale = image_rect
            io.mouse_pos = (x0 + (col + 0.5) * scale, y0 + (row + 0.5) * scale)
        self.position = io.mouse_pos
        io.mouse_down[0] = True
        self.release_next = True
        self.index += 1


class ImageView:
    """The generator image as a GL texture, with points, landmarks and the mask drawn over it."""

    def __init__(self) -> None:
        self.texture = gl.glGenTextures(1)
        self.shown_key = None
        self.rect = (0.0, 0.0, 1.0)  # x0, y0, scale of the last draw

    def _upload(self, image: np.ndarray) -> None:
        gl.glBindTexture(gl.GL_TEXTURE_2D, self.texture)
        gl.glTexParameteri(gl.GL_TEXTURE_2D, gl.GL_TEXTURE_MIN_FILTER, gl.GL_LINEAR)
        gl.glTexParameteri(gl.GL_TEXTURE_2D, gl.GL_TEXTURE_MAG_FILTER, gl.GL_NEAREST)
        gl.glPixelStorei(gl.GL_UNPACK_ALIGNMENT, 1)
        h, w = image.shape[:2]
        gl.glTexImage2D(
            gl.GL_TEXTURE_2D,
            0,
            gl.GL_RGB,
            w,
            h,
            0,
            gl.GL_RGB,
            gl.GL_UNSIGNED_BYTE,
            np.ascontiguousarray(image),
        )

    def draw(self, ctrl: Controller, size: float) -> None:
        if ctrl.image is None:
            imgui.text("no image")
            return
        show_mask = ctrl.view.show_mask and ctrl.mask is not None
        key = (ctrl.image_version, id(ctrl.mask), None if not show_mask else int(ctrl.mask.sum()))
        if key != self.shown_key:
            image = ctrl.image
            if show_mask:  # dim the fixed region
                image = np.where(ctrl.mask[..., None], image, (image * 0.45).astype(np.uint8))
            self._upload(image)
            self.shown_key = key
        res = ctrl.image.shape[0]
        scale = size / res
        x0, y0 = imgui.get_cursor_screen_pos()
        imgui.image(self.texture, size, size)
        ui.record("image")
        self.rect = (float(x0), float(y0), float(scale))
        if imgui.is_item_hovered() and imgui.is_mouse_clicked(0):
            mx, my = imgui.get_mouse_pos()
            ctrl.click_image((my - y0) / scale - 0.5, (mx - x0) / scale - 0.5)
        draw_list = imgui.get_window_draw_list()

        def screen(p):
            return x0 + (p[1] + 0.5) * scale, y0 + (p[0] + 0.5) * scale

        if ctrl.view.show_landmarks and ctrl.view.landmarks_rc is not None:
            colour = imgui.get_color_u32_rgba(*LANDMARK_COLOR)
            for p in ctrl.view.landmarks_rc:
                draw_list.add_circle_filled(*screen(p), 2.5, colour)
        for handle, target in zip(ctrl.view.handles, ctrl.view.targets):
            draw_list.add_line(*screen(handle), *screen(target), imgui.get_color_u32_rgba(1, 1, 1, 0.9), 2.0)
        for p in ctrl.view.targets:
            draw_list.add_circle_filled(*screen(p), 5, imgui.get_color_u32_rgba(*TARGET_COLOR))
        for p in ctrl.view.handles:
            draw_list.add_circle_filled(*screen(p), 5, imgui.get_color_u32_rgba(*HANDLE_COLOR))


def _create_window(options: AppOptions):
    if not glfw.init():
        raise RuntimeError("could not initialise GLFW (is there a display? try xvfb-run)")
    glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, 3)
    glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, 3)
    glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
    glfw.window_hint(glfw.OPENGL_FORWARD_COMPAT, gl.GL_TRUE)
    window = glfw.create_window(options.width, options.height, "AutoDrag visualizer", None, None)
    if not window:
        glfw.terminate()
        raise RuntimeError("could not open an OpenGL 3.3 window")
    glfw.make_context_current(window)
    glfw.swap_interval(0)
    glfw.set_input_mode(window, glfw.STICKY_MOUSE_BUTTONS, glfw.TRUE)  # real (xdotool) clicks register
    return window


def _screenshot(path: Path, width: int, height: int) -> None:
    gl.glPixelStorei(gl.GL_PACK_ALIGNMENT, 1)
    data = gl.glReadPixels(0, 0, width, height, gl.GL_RGB, gl.GL_UNSIGNED_BYTE)
    image = np.frombuffer(data, dtype=np.uint8).reshape(height, width, 3)[::-1]
    save_png(path, image)


def _draw_frame(ctrl: Controller, fields: TextFields, view: ImageView, width: int, height: int) -> None:
    imgui.set_next_window_position(0, 0)
    imgui.set_next_window_size(SIDEBAR_WIDTH, height)
    imgui.begin("Controls", flags=imgui.WINDOW_NO_MOVE | imgui.WINDOW_NO_RESIZE | imgui.WINDOW_NO_COLLAPSE)
    for panel in PANELS:
        panel.draw(ctrl, fields)
    imgui.separator()
    imgui.text_wrapped(ctrl.status)
    imgui.end()
    imgui.set_next_window_position(SIDEBAR_WIDTH, 0)
    imgui.set_next_window_size(width - SIDEBAR_WIDTH, height)
    imgui.begin(
        "Image",
        flags=imgui.WINDOW_NO_MOVE
        | imgui.WINDOW_NO_RESIZE
        | imgui.WINDOW_NO_COLLAPSE
        | imgui.WINDOW_NO_SCROLLBAR,
    )
    view.draw(ctrl, min(width - SIDEBAR_WIDTH, height) - 40)
    imgui.end()


def _frame_stats(frame_ms: list[tuple[float, bool]]) -> dict:
    """Frame-time statistics over all frames and over the frames drawn while a drag was running."""
    out = {}
    for name, values in (
        ("all", [ms for ms, _ in frame_ms]),
        ("dragging", [ms for ms, busy in frame_ms if busy]),
    ):
        if values:
            ms = np.array(values)
            out[name] = {
                "frames": len(ms),
                "median_ms": float(np.median(ms)),
                "p95_ms": float(np.percentile(ms, 95)),
                "max_ms": float(ms.max()),
            }
    return out


def run_app(options: AppOptions) -> int:
    """Open the window and run until it is closed (or the test hooks end it). Returns an exit code."""
    script = ScriptPlayer(load_script(options.script) if options.script else [])  # before any window or model
    ctrl = Controller(device=options.device, capture_dir=options.capture_dir)
    fields = TextFields(checkpoint=str(options.ckpt) if options.ckpt else "")
    ctrl.load_network(options.ckpt)
    window = _create_window(options)
    signal.signal(signal.SIGTERM, lambda *_: glfw.set_window_should_close(window, True))  # graceful kill
    imgui.create_context()
    io = imgui.get_io()
    io.ini_file_name = None  # deterministic layout: never read or write imgui.ini
    renderer = GlfwRenderer(window)
    view = ImageView()
    frame, done_frames, frame_ms = 0, 0, []
    try:
        while not glfw.window_should_close(window):
            started = time.perf_counter()
            glfw.poll_events()
            renderer.process_inputs()
            script.inject(frame, io, ctrl, view.rect)
            ctrl.poll()
            width, height = glfw.get_framebuffer_size(window)
            imgui.new_frame()
            _draw_frame(ctrl, fields, view, width, height)
            gl.glClearColor(0.1, 0.1, 0.12, 1)
            gl.glClear(gl.GL_COLOR_BUFFER_BIT)
            imgui.render()
            renderer.render(imgui.get_draw_data())
            if options.print_widgets and frame % 30 == 2:
                print("WIDGETS " + json.dumps(ui.REGISTRY.rects), flush=True)
            frame += 1
            if script.done:
                done_frames += 1
            if options.frames is not None and done_frames >= options.frames:
                if options.screenshot:
                    _screenshot(options.screenshot, width, height)
                glfw.swap_buffers(window)
                break
            glfw.swap_buffers(window)
            frame_ms.append(((time.perf_counter() - started) * 1000, ctrl.busy))
            spare = 1 / options.max_fps - (time.perf_counter() - started)
            if spare > 0:
                time.sleep(spare)
    finally:
        if ctrl.busy:
            ctrl.stop()
            ctrl.wait_idle(30)
        if options.log:
            options.log.write_text("".join(json.dumps({"kind": k, "text": t}) + "\n" for k, t in ctrl.log))
        if options.stats and frame_ms:
            options.stats.write_text(json.dumps(_frame_stats(frame_ms)))
        renderer.shutdown()
        glfw.terminate()
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python visualizer_drag_auto.py [ckpt.pkl] [--frames N --screenshot out.png --script events.json ...]`."""
    import argparse

    parser = argparse.ArgumentParser(
        description="AutoDrag visualizer: DragGAN with Face Adjustments presets."
    )
    parser.add_argument(
        "ckpt", nargs="?", type=Path, default=None, help="generator .pkl/.safetensors (default: bundled)"
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--capture-dir", type=Path, default=Path("out/captures"))
    parser.add_argument("--frames", type=int, default=None, help="exit after N frames (after the script)")
    parser.add_argument("--screenshot", type=Path, default=None, help="save the framebuffer at exit")
    parser.add_argument("--script", type=Path, default=None, help="JSON list of scripted clicks")
    parser.add_argument("--print-widgets", action="store_true", help="print widget rectangles as JSON lines")
    parser.add_argument("--log", type=Path, default=None, help="write the action log (JSON lines) at exit")
    parser.add_argument("--stats", type=Path, default=None, help="write frame-time statistics at exit")
    parser.add_argument("--size", default="1280x800", help="window size WxH")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    options = AppOptions(
        ckpt=args.ckpt,
        width=width,
        height=height,
        device=args.device,
        capture_dir=args.capture_dir,
        frames=args.frames,
        screenshot=args.screenshot,
        script=args.script,
        print_widgets=args.print_widgets,
        log=args.log,
        stats=args.stats,
    )
    try:
        return run_app(options)
    except ScriptError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
