"""The page in a real headless Chromium (Debian's `chromium`, driven by Playwright through executable_path)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="browser tests need playwright (pip install playwright)"
)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no system chromium (apt-get install chromium; .ci/run does)"
)

from autodrag.web.app import WebConfig  # noqa: E402
from autodrag.web.background import BackgroundServer  # noqa: E402

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "web.png"
SCALE = 4  # the canvas is 512 px, the bundled model 128 px


@pytest.fixture(scope="module")
def server():
    with BackgroundServer(WebConfig(port=0, idle_timeout_s=600)) as s:
        yield s


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def _page(browser, server):
    page = browser.new_page(viewport={"width": 880, "height": 1000})
    page.goto(server.url)
    page.wait_for_function("window.autodrag && window.autodrag.session")
    page.select_option("#model", "bundled")
    page.click("#load-model")
    page.wait_for_function(
        "window.autodrag.state && window.autodrag.state.loaded && window.autodrag.framesDrawn > 0"
    )
    return page


def _state(page) -> dict:
    return page.evaluate("window.autodrag.state")


def _click_image(page, row: float, col: float) -> None:
    page.click("#canvas", position={"x": (col + 0.5) * SCALE, "y": (row + 0.5) * SCALE})


def _set(page, selector: str, value) -> None:
    page.fill(selector, str(value))
    page.dispatch_event(selector, "change")


def _wait_drag_done(page, timeout_ms: int = 120_000) -> dict:
    page.wait_for_function("window.autodrag.state.busy", timeout=10_000)
    page.wait_for_function(
        "!window.autodrag.state.busy && window.autodrag.state.step > 0", timeout=timeout_ms
    )
    return _state(page)


def test_click_two_points_start_and_the_distance_falls(browser, server):
    page = _page(browser, server)
    _set(page, "#max-steps", 15)
    _set(page, "#lr", 0.01)  # a larger step size than the default, so 15 steps move the point clearly
    page.wait_for_function("window.autodrag.state.max_steps === 15 && window.autodrag.state.lr === 0.01")
    _click_image(page, 70, 48)
    _click_image(page, 70, 58)
    page.wait_for_function("window.autodrag.state.targets.length === 1")
    before = _state(page)["distances"][0]
    assert before == pytest.approx(10, abs=0.6)
    frames = page.evaluate("window.autodrag.framesDrawn")
    page.click("#start")
    after = _wait_drag_done(page)
    assert after["distances"][0] < before - 2, after["status"]
    assert page.evaluate("window.autodrag.framesDrawn") >= frames + 2  # live frames, not just the last one
    assert "max distance" in page.text_content("#distance") and page.is_enabled("#undo")
    if os.environ.get("AUTODRAG_UPDATE_SCREENSHOTS") == "1":
        page.click("#preset-close_eyes")
        page.check("#show-landmarks")
        page.wait_for_function(
            "window.autodrag.state.pending_preset === 'close_eyes' && window.autodrag.state.landmarks"
        )
        page.screenshot(path=str(SCREENSHOT))
    page.close()


@pytest.mark.slow
def test_close_eyes_apply_and_download_the_png(browser, server, tmp_path):
    from autodrag.landmarks.toy import ToyLandmarkDetector
    from autodrag.presets.measures import face_measures
    from autodrag.presets.registry import get_preset

    page = _page(browser, server)
    _set(page, "#seed", 18)
    page.wait_for_function("window.autodrag.state.seed === 18")
    detector = ToyLandmarkDetector()
    before = face_measures(detector.detect(_download_png(page, tmp_path / "before.png")))
    page.click("#preset-close_eyes")
    page.wait_for_function("window.autodrag.state.pending_preset === 'close_eyes'")
    assert len(_state(page)["handles"]) == 8 and page.is_enabled("#apply")
    page.click("#apply")
    done = _wait_drag_done(page, timeout_ms=240_000)
    assert "after" in done["status"] and done["pending_preset"] is None
    after = face_measures(detector.detect(_download_png(page, tmp_path / "after.png")))
    assert before["ear_left"] > 0.15 and before["ear_right"] > 0.15  # open before
    assert get_preset("close_eyes").success(before, after), (
        after["ear_left"],
        after["ear_right"],
    )  # EAR < 0.08
    page.close()


def test_mask_stroke_reaches_the_server_and_two_pages_keep_separate_state(browser, server):
    a, b = _page(browser, server), _page(browser, server)
    sid_a, sid_b = (p.evaluate("window.autodrag.session") for p in (a, b))
    assert sid_a != sid_b
    a.check("input[name=mode][value=movable]")
    _set(a, "#radius", 4)
    a.mouse.move(*_canvas_xy(a, 64, 20))
    a.mouse.down()
    for col in range(24, 101, 8):
        a.mouse.move(*_canvas_xy(a, 64, col))
    a.mouse.up()
    a.wait_for_function("window.autodrag.state.mask_movable !== null")
    mask = server.app.state.server.store.sessions[sid_a].controller.mask
    assert mask[64, 20] and mask[64, 60] and mask[64, 100] and not mask[20, 60]
    _click_image(b, 30, 30)
    b.wait_for_function("window.autodrag.state.handles.length === 1")
    _set(b, "#seed", 7)
    b.wait_for_function("window.autodrag.state.seed === 7")
    store = server.app.state.server.store
    assert (
        store.sessions[sid_b].controller.mask is None and store.sessions[sid_a].controller.view.handles == []
    )
    assert _state(a)["seed"] == 0 and _state(a)["mask_movable"] < 0.2
    a.close()
    b.close()


def _download_png(page, path: Path) -> np.ndarray:
    """Press the PNG download button and read the file the browser saved."""
    with page.expect_download() as info:
        page.click("#dl-png")
    info.value.save_as(path)
    image = np.asarray(Image.open(path).convert("RGB"))
    assert image.shape == (128, 128, 3)
    return image


def _canvas_xy(page, row: float, col: float) -> tuple[float, float]:
    box = page.locator("#canvas").bounding_box()
    return box["x"] + (col + 0.5) * SCALE, box["y"] + (row + 0.5) * SCALE
