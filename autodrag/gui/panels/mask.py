"""Mask panel: paint movable or fixed regions with a radius, show, reset, lambda."""

from __future__ import annotations

import imgui

from autodrag.gui import ui
from autodrag.gui.controller import Controller
from autodrag.gui.panels.common import TextFields

MODES = ["off", "movable", "fixed"]


def draw(ctrl: Controller, fields: TextFields) -> None:
    if not imgui.collapsing_header("Mask")[0] or ctrl.G is None:
        return
    for mode in MODES:
        if imgui.radio_button(f"paint {mode}" if mode != "off" else "points", ctrl.view.mask_mode == mode):
            ctrl.view.mask_mode = mode
        ui.record(f"mask {mode}")
        imgui.same_line()
    imgui.new_line()
    _, ctrl.view.mask_radius = imgui.slider_float(
        "radius", ctrl.view.mask_radius, 1.0, ctrl.resolution / 4, "%.0f px"
    )
    _, ctrl.view.show_mask = ui.checkbox("Show mask", ctrl.view.show_mask)
    changed, weight = imgui.input_float("lambda", ctrl.drag_config.mask_weight, 1.0, 5.0, "%.1f")
    if changed and weight >= 0:
        ctrl.set_drag_options(mask_weight=weight)
    if ui.button("Reset mask"):
        ctrl.reset_mask()
    imgui.text("everything movable" if ctrl.mask is None else f"{ctrl.mask.mean():.0%} movable")
