"""Thin wrappers over imgui widgets that record where each widget is on screen.

The recorded rectangles serve the test hooks: `--print-widgets` prints them, and scripted events
(`--script`) click a widget by its label through imgui's real mouse path.
"""

from __future__ import annotations

import imgui

__all__ = ["WidgetRegistry", "button", "checkbox", "record"]


class WidgetRegistry:
    """label -> (x0, y0, x1, y1) screen rectangle of the last frame's widget with that label."""

    def __init__(self) -> None:
        self.rects: dict[str, tuple[float, float, float, float]] = {}

    def centre(self, label: str) -> tuple[float, float]:
        if label not in self.rects:
            raise KeyError(f"no widget labelled {label!r} on screen (known: {sorted(self.rects)})")
        x0, y0, x1, y1 = self.rects[label]
        return (x0 + x1) / 2, (y0 + y1) / 2


REGISTRY = WidgetRegistry()


def record(label: str) -> None:
    """Remember the rectangle of the item just drawn under `label`."""
    (x0, y0), (x1, y1) = imgui.get_item_rect_min(), imgui.get_item_rect_max()
    REGISTRY.rects[label] = (float(x0), float(y0), float(x1), float(y1))


def button(label: str, enabled: bool = True) -> bool:
    """A button; returns True on click (never when disabled, which shows it greyed)."""
    if not enabled:
        imgui.push_style_var(imgui.STYLE_ALPHA, 0.4)
    clicked = imgui.button(label)
    if not enabled:
        imgui.pop_style_var()
    record(label.split("##")[0])
    return clicked and enabled


def checkbox(label: str, value: bool) -> tuple[bool, bool]:
    changed, value = imgui.checkbox(label, value)
    record(label.split("##")[0])
    return changed, value
