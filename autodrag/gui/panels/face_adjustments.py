"""Face Adjustments panel: one button per expression preset, strength, landmarks, Apply."""

from __future__ import annotations

import imgui

from autodrag.gui import ui
from autodrag.gui.controller import Controller
from autodrag.gui.panels.common import TextFields
from autodrag.presets import PRESETS, STRENGTH_RANGE


def draw(ctrl: Controller, fields: TextFields) -> None:
    expanded, _ = imgui.collapsing_header("Face Adjustments", flags=imgui.TREE_NODE_DEFAULT_OPEN)
    ui.record("Face Adjustments")
    if not expanded or ctrl.G is None:
        return
    presets = list(PRESETS.values())
    for i, preset in enumerate(presets):
        if ui.button(preset.button_label, enabled=not ctrl.busy):
            ctrl.prepare_preset(preset.name)
        if i % 2 == 0 and i + 1 < len(presets):
            imgui.same_line()
    _, ctrl.view.strength = imgui.slider_float("strength", ctrl.view.strength, *STRENGTH_RANGE, "%.2f")
    changed, show = ui.checkbox("Show landmarks", ctrl.view.show_landmarks)
    if changed:
        ctrl.set_show_landmarks(show)
    pending = ctrl.view.pending_preset
    if ui.button("Apply", enabled=pending is not None and not ctrl.busy):
        ctrl.start()
    if pending:
        imgui.same_line()
        imgui.text(f"{PRESETS[pending].label}: press Apply (or Start)")
