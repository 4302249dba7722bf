"""Click parameter types and shared options for the `autodrag` commands."""

from __future__ import annotations

import re
from typing import Any

import click
import torch

__all__ = ["SEED_RANGE", "SeedRange", "device_option", "resolve_device"]


_SEED_PART = re.compile(r"^(\d+)(?:-(\d+))?$")


class SeedRange(click.ParamType):
    """Seeds as '0-7,12,20-22' -> [0, 1, ..., 7, 12, 20, 21, 22] (order kept, duplicates dropped)."""

    name = "seeds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> list[int]:
        if isinstance(value, list):
            return value
        seeds: list[int] = []
        for part in str(value).split(","):
            match = _SEED_PART.match(part.strip())
            if match is None:
                self.fail(f"{part.strip()!r} is not a seed or a range like 0-7 (in {value!r})", param, ctx)
            lo = int(match[1])
            hi = int(match[2]) if match[2] is not None else lo
            if hi < lo:
                self.fail(f"{part.strip()!r}: range end is below its start", param, ctx)
            seeds.extend(range(lo, hi + 1))
        if any(s >= 2**32 for s in seeds):
            self.fail(f"seeds must be in [0, 2**32), got {value!r}", param, ctx)
        return list(dict.fromkeys(seeds))


SEED_RANGE = SeedRange()


def resolve_device(name: str | torch.device, local_rank: int | None = None) -> torch.device:
    """The one device resolver: 'auto' -> cuda when available, else cpu; 'cuda' without a GPU is an error.

    Args:
        name: 'auto', 'cpu', 'cuda', 'cuda:N', ... or a `torch.device` (returned as it is).
        local_rank: with 'auto'/'cuda', the GPU index (`cuda:<local_rank>`, data-parallel training under
            torchrun); None = plain 'cuda' (the current GPU).
    Raises:
        click.BadParameter: 'cuda' asked for without a CUDA device (names `--device`).
    """
    if isinstance(name, torch.device):
        return name
    cuda = "cuda" if local_rank is None else f"cuda:{local_rank}"
    if name == "auto":
        return torch.device(cuda if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise click.BadParameter(
            f"{name} was asked for but no CUDA device is available", param_hint="--device"
        )
    return torch.device(cuda if name == "cuda" else name)


device_option = click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    default="auto",
    show_default=True,
    help="Where to run the generator.",
)
