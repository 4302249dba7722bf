"""`autodrag gui [ckpt] [--frames N --screenshot out.png ...]`: the same window as visualizer_drag_auto.py."""

from __future__ import annotations

import click

__all__ = ["gui"]


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}
)
@click.pass_context
def gui(ctx: click.Context) -> None:
    """Open the desktop visualizer (arguments as visualizer_drag_auto.py; --help lists them)."""
    from autodrag.gui.app import main as app_main  # glfw/imgui load only when the window is wanted

    ctx.exit(app_main(list(ctx.args)))
