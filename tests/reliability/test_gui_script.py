"""GUI --script files: checked before any window opens; a click on a widget that never appears is an error."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

app = pytest.importorskip(
    "autodrag.gui.app", reason="the GUI packages (glfw, imgui, PyOpenGL) are not installed"
)


def test_valid_script_loads(tmp_path):
    events = [{"click": "Start", "frame": 3}, {"image": [10, 12.5]}, {"wait_idle": True}]
    (tmp_path / "s.json").write_text(json.dumps(events))
    assert app.load_script(tmp_path / "s.json") == events


@pytest.mark.parametrize(
    "events,message",
    [
        ([{"click": "Start", "image": [1, 2]}], "exactly one of"),
        ([{"click": 3}], "click must be a widget label"),
        ([{"click": "Start", "frame": -1}], "frame must be a whole number"),
        ([{"click": "Start", "frame": True}], "frame must be a whole number"),
        ([{"wait_idle": "yes"}], "wait_idle must be true"),
        (["Start"], "event 0 is str"),
    ],
)
def test_bad_events_are_refused(tmp_path, events, message):
    (tmp_path / "s.json").write_text(json.dumps(events))
    with pytest.raises(app.ScriptError, match=message):
        app.load_script(tmp_path / "s.json")


def test_unknown_widget_fails_instead_of_hanging(monkeypatch):
    monkeypatch.setattr(app.ui.REGISTRY, "rects", {"Start": (0.0, 0.0, 10.0, 10.0)})
    player = app.ScriptPlayer([{"click": "Strat"}])
    io = SimpleNamespace(mouse_pos=(0, 0), mouse_down=[False] * 5)
    ctrl = SimpleNamespace(busy=False)
    with pytest.raises(app.ScriptError, match="no widget 'Strat'.*Start"):
        for frame in range(app.MAX_WAIT_FRAMES + 2):
            player.inject(frame, io, ctrl, (0.0, 0.0, 1.0))
    known = app.ScriptPlayer([{"click": "Start"}])
    known.inject(0, io, ctrl, (0.0, 0.0, 1.0))
    assert io.mouse_down[0] and known.index == 1
