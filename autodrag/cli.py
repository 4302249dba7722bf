"""The `autodrag` command line: one click group; each subsystem registers its own commands."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="autodrag")
def main() -> None:
    """AutoDrag: point-drag editing of StyleGAN faces, expression presets and pix2pix."""


def _register_subcommands() -> None:
    """Attach the commands each subsystem defines (kept in their own modules)."""
    from autodrag.demo import demo
    from autodrag.drag.cli import drag
    from autodrag.gui.cli import gui
    from autodrag.networks.cli import convert, generate, info
    from autodrag.pix2pix.cli import pix2pix
    from autodrag.presets.cli import batch, edit
    from autodrag.landmarks.cli import landmarks_command as landmarks
    from autodrag.toyfaces.cli import toyfaces
    from autodrag.web.cli import web
    from autodrag.photos.cli import invert

    for command in (generate, info, convert, drag, edit, batch, demo, gui, landmarks, toyfaces, pix2pix, web, invert):
        main.add_command(command)


_register_subcommands()

if __name__ == "__main__":  # `python -m autodrag.cli` (e.g. under torchrun)
    main()
