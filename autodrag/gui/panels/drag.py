"""Drag panel: Start/Stop, step counter, max steps, reset points, undo/redo."""

from __future__ import annotations

import imgui

from autodrag.gui import ui
from autodrag.gui.controller import Controller
from autodrag.gui.panels.common import TextFields


def draw(ctrl: Controller, fields: TextFields) -> None:
    if not imgui.collapsing_header("Drag", flags=imgui.TREE_NODE_DEFAULT_OPEN)[0] or ctrl.G is None:
        return
    imgui.text(f"{len(ctrl.view.handles)} handles (red), {len(ctrl.view.targets)} targets (blue)")
    imgui.text("click the image: handle, then its target")
    if ctrl.busy:
        if ui.button("Stop"):
            ctrl.stop()
    elif ui.button("Start"):
        ctrl.start()
    imgui.same_line()
    imgui.text(f"step {ctrl.step}")
    changed, steps = imgui.input_int("max steps", ctrl.drag_config.max_steps)
    if changed and steps >= 1:
        ctrl.set_drag_options(max_steps=steps)
    if ui.button("Reset points", enabled=not ctrl.busy):
        ctrl.reset_points()
    imgui.same_line()
    can_undo = ctrl.session is not None and ctrl.session.can_undo and not ctrl.busy
    can_redo = ctrl.session is not None and ctrl.session.can_redo and not ctrl.busy
    if ui.button("Undo", enabled=can_undo):
        ctrl.undo()
    imgui.same_line()
    if ui.button("Redo", enabled=can_redo):
        ctrl.redo()
