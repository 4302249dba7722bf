"""Experimental presets: out of the demo and the default list, still selectable by name."""

from __future__ import annotations

from pathlib import Path

from autodrag.presets import DEFAULT_PRESETS, PRESETS, get_preset, parse_presets
from autodrag.presets import cli as presets_cli


def test_raise_brows_is_experimental_and_left_out_of_the_defaults():
    assert PRESETS["raise_brows"].experimental
    assert "raise_brows" not in DEFAULT_PRESETS
    assert set(DEFAULT_PRESETS) == {name for name, p in PRESETS.items() if not p.experimental}
    assert {"close_eyes", "widen_eyes", "open_mouth", "close_mouth", "slim_face", "smile"} <= set(
        DEFAULT_PRESETS
    )
    assert get_preset("raise_brows").name == "raise_brows"
    assert [p.name for p in parse_presets("raise_brows,smile")] == ["raise_brows", "smile"]


def test_the_demo_runs_only_the_default_presets(monkeypatch):
    seen = {}
    monkeypatch.setattr(presets_cli, "_batch", lambda *args, **kwargs: seen.setdefault("presets", args[1]))
    presets_cli.run_preset_demo([0], Path("unused"), "cpu")
    assert seen["presets"] == DEFAULT_PRESETS


def test_the_buttons_mark_experimental_presets():
    """The GUI's Face Adjustments panel and the web page's buttons (tests/web: hello) show `button_label`."""
    assert PRESETS["raise_brows"].button_label == "Raise brows (experimental)"
    assert PRESETS["close_eyes"].button_label == "Close eyes"
