"""Capture panel: save the image and its latent, a GIF or MP4 of the last drag, the opened photo pasted back."""

from __future__ import annotations

import imgui

from autodrag.gui import ui
from autodrag.gui.controller import Controller
from autodrag.gui.panels.common import TextFields


def draw(ctrl: Controller, fields: TextFields) -> None:
    if not imgui.collapsing_header("Capture", flags=imgui.TREE_NODE_DEFAULT_OPEN)[0] or ctrl.G is None:
        return
    if ui.button("Save PNG + latent", enabled=ctrl.image is not None):
        ctrl.save_capture()
    imgui.same_line()
    if ui.button("Save GIF", enabled=len(ctrl.last_frames) > 1 and not ctrl.busy):
        ctrl.save_gif()
    imgui.same_line()
    if ui.button("Save MP4", enabled=len(ctrl.last_frames) > 1 and not ctrl.busy):
        ctrl.save_mp4()
    if getattr(ctrl, "_photo", None) is not None and ui.button(
        "Save photo (pasted back)", enabled=not ctrl.busy
    ):
        ctrl.save_photo_capture()
    imgui.text(f"into {ctrl.capture_dir}")
