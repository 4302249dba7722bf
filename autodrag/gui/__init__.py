"""The desktop visualizer: `Controller` (all actions, no window) and the imgui/glfw app."""

from autodrag.gui.controller import Controller

__all__ = ["Controller"]
