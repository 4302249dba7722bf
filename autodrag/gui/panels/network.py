"""Network panel: checkpoint path, recent files, load; shows family and resolution."""

from __future__ import annotations

import imgui

from autodrag.gui import ui
from autodrag.gui.controller import Controller
from autodrag.gui.panels.common import TextFields


def draw(ctrl: Controller, fields: TextFields) -> None:
    if not imgui.collapsing_header("Network", flags=imgui.TREE_NODE_DEFAULT_OPEN)[0]:
        return
    _, fields.checkpoint = imgui.input_text("checkpoint", fields.checkpoint, 512)
    ui.record("checkpoint")
    if ui.button("Load##network", enabled=not ctrl.busy):
        ctrl.load_network(fields.checkpoint.strip() or None)
    imgui.same_line()
    if ui.button("Bundled", enabled=not ctrl.busy):
        fields.checkpoint = ""
        ctrl.load_network(None)
    if ctrl.recent:
        clicked, index = imgui.combo("recent", 0, ctrl.recent)
        if clicked and index > 0:
            fields.checkpoint = ctrl.recent[index]
            ctrl.load_network(ctrl.recent[index])
    _, fields.photo_path = imgui.input_text("photo", fields.photo_path, 512)
    ui.record("photo")
    if ui.button("Open photo", enabled=not ctrl.busy and bool(fields.photo_path.strip())):
        ctrl.open_photo(
            fields.photo_path.strip()
        )  # the inversion runs in the worker; progress in the status line
    if getattr(ctrl, "_photo_job", None) is not None:
        imgui.same_line()
        if ui.button("Stop inversion"):
            ctrl.stop_photo()
    if ctrl.G is not None:
        imgui.text(f"{ctrl.G.family}, {ctrl.G.img_resolution}x{ctrl.G.img_resolution}, {ctrl.G.num_ws} ws")
