"""The `autodrag` command line: one click group; each subsystem registers its own commands."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="autodrag")
def main() -> None:
    """AutoDrag: point-drag editing of StyleGAN faces, expression presets and pix2pix."""


def _register_subcommands() -> None:
    """Attach the commands each subsystem defines (kept in their own modules)."""
    from autodrag.networks.cli import convert, generate, info

    from autodrag.demo import demo

    for command in (generate, info, convert, demo):
        main.add_command(command)
    try:
        from autodrag.pix2pix.cli import pix2pix
    except ImportError as exc:  # the pix2pix module is optional until it lands
        if "autodrag.pix2pix" not in str(exc):
            raise
    else:
        main.add_command(pix2pix)


_register_subcommands()
