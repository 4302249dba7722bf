"""Latent panel: seed, truncation psi, W/W+, step size, reset, load/save latent."""

from __future__ import annotations

import imgui

from autodrag.gui import ui
from autodrag.gui.controller import Controller
from autodrag.gui.panels.common import TextFields


def draw(ctrl: Controller, fields: TextFields) -> None:
    if not imgui.collapsing_header("Latent", flags=imgui.TREE_NODE_DEFAULT_OPEN)[0] or ctrl.G is None:
        return
    changed, seed = imgui.input_int("seed", ctrl.seed)
    ui.record("seed")
    if changed and not ctrl.busy:
        ctrl.set_latent(seed=max(0, seed))
    changed, psi = imgui.slider_float("psi", ctrl.psi, 0.0, 1.0, "%.2f")
    if changed and not ctrl.busy:
        ctrl.set_latent(psi=psi)
    changed, w_plus = ui.checkbox("W+ (else W)", ctrl.drag_config.w_plus)
    if changed:
        ctrl.set_drag_options(w_plus=w_plus)
    changed, lr = imgui.input_float("lr (0 = auto)", ctrl.drag_config.lr or 0.0, 5e-4, 1e-3, "%.4f")
    if changed and lr >= 0:
        ctrl.set_drag_options(lr=lr)
    if ui.button("Reset latent", enabled=not ctrl.busy):
        ctrl.reset_latent()
    _, fields.latent_path = imgui.input_text("latent file", fields.latent_path, 512)
    if ui.button("Load latent", enabled=not ctrl.busy):
        ctrl.load_latent(fields.latent_path)
    imgui.same_line()
    if ui.button("Save latent"):
        ctrl.save_latent(fields.latent_path)
