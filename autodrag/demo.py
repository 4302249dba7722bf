"""`autodrag demo` (what `make demo` runs): every expression preset on a few faces of the bundled model."""

from __future__ import annotations

from pathlib import Path

import click

from autodrag.cli_types import SEED_RANGE, device_option
from autodrag.presets.cli import run_preset_demo

__all__ = ["demo"]


@click.command()
@click.option("--seeds", type=SEED_RANGE, default="0-1", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("out/demo"), show_default=True)
@device_option
def demo(seeds: list[int], out: Path, device: str) -> None:
    """Every preset on a few seeds of the bundled model; writes out/demo/index.html."""
    run_preset_demo(seeds, out, device)
