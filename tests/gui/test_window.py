"""The visualizer in a real window under Xvfb: scripted clicks, a real xdotool click, screenshots."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from autodrag.networks import save_generator
from autodrag.networks.default import random_generator

REPO = Path(__file__).resolve().parents[2]
APP = [sys.executable, str(REPO / "visualizer_drag_auto.py")]
pytestmark = pytest.mark.gui


def _env(display: str) -> dict:
    return {**os.environ, "DISPLAY": display, "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="module")
def small_ckpt(tmp_path_factory) -> Path:
    return save_generator(random_generator(64), tmp_path_factory.mktemp("ckpt") / "g.safetensors")


def test_scripted_drag_and_capture(tmp_path, x_display, small_ckpt):
    script = [
        {"image": [20, 20], "frame": 3},
        {"image": [20, 34]},
        {"click": "Start"},
        {"wait_idle": True},
        {"click": "Save PNG + latent"},
        {"click": "Save GIF"},
    ]
    (tmp_path / "events.json").write_text(json.dumps(script))
    run = subprocess.run(
        [
            *APP,
            str(small_ckpt),
            "--script",
            str(tmp_path / "events.json"),
            "--frames",
            "3",
            "--screenshot",
            str(tmp_path / "shot.png"),
            "--log",
            str(tmp_path / "log.jsonl"),
            "--capture-dir",
            str(tmp_path / "captures"),
        ],
        env=_env(x_display),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    log = [json.loads(line)["text"] for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert any(t.startswith("handle 1 at (20.0, 20.0)") for t in log), log
    assert any(t.startswith("target 1 at (20.0, 3") for t in log), log  # (20, 34) up to screen rounding
    assert any(t.startswith("drag ") and "steps" in t for t in log), log
    assert len(list((tmp_path / "captures").glob("capture-*.png"))) == 1
    assert len(list((tmp_path / "captures").glob("drag-*.gif"))) == 1
    shot = np.asarray(Image.open(tmp_path / "shot.png"))
    assert shot.shape == (800, 1280, 3) and shot.std() > 10  # a drawn window, not a blank buffer


@pytest.mark.skipif(shutil.which("xdotool") is None, reason="xdotool not installed (.ci/run installs it)")
def test_real_xdotool_click_registers(tmp_path, x_display, small_ckpt):
    proc = subprocess.Popen(
        [
            *APP,
            str(small_ckpt),
            "--print-widgets",
            "--frames",
            "100000",
            "--log",
            str(tmp_path / "log.jsonl"),
        ],
        env=_env(x_display),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        rects = None
        deadline = time.monotonic() + 120
        while rects is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith("WIDGETS "):
                rects = json.loads(line[len("WIDGETS ") :])
        assert rects and "Reset latent" in rects, "the window never printed its widgets"
        x0, y0, x1, y1 = rects["Reset latent"]
        window = subprocess.run(
            ["xdotool", "search", "--sync", "--name", "AutoDrag visualizer"],
            env=_env(x_display),
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.split()[0]
        subprocess.run(
            [
                "xdotool",
                "mousemove",
                "--window",
                window,
                str(int((x0 + x1) / 2)),
                str(int((y0 + y1) / 2)),
                "click",
                "1",
            ],
            env=_env(x_display),
            check=True,
            timeout=30,
        )
        time.sleep(1.5)
    finally:
        proc.terminate()  # the app closes its window on SIGTERM and writes its log
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    log = (tmp_path / "log.jsonl").read_text()
    assert "latent reset" in log


def test_close_eyes_button_closes_the_eyes(tmp_path, x_display):
    from autodrag.landmarks.measures import eye_aspect_ratio
    from autodrag.landmarks.toy import ToyLandmarkDetector

    script = [
        {"click": "Close eyes", "frame": 3},
        {"click": "Apply"},
        {"wait_idle": True},
        {"click": "Save PNG + latent"},
    ]
    (tmp_path / "events.json").write_text(json.dumps(script))
    run = subprocess.run(
        [
            *APP,
            "--script",
            str(tmp_path / "events.json"),
            "--frames",
            "3",
            "--capture-dir",
            str(tmp_path / "captures"),
        ],
        env=_env(x_display),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    saved = np.asarray(Image.open(next((tmp_path / "captures").glob("capture-*.png"))).convert("RGB"))
    landmarks = ToyLandmarkDetector().detect(saved)
    assert eye_aspect_ratio(landmarks, "left") < 0.08 and eye_aspect_ratio(landmarks, "right") < 0.08
