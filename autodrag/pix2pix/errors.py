"""Exception types raised by the pix2pix package for bad user input.

Every message names the offending files so that the command line can print it as one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "CheckpointError",
    "DatasetError",
    "FontError",
    "ImageReadError",
    "Pix2PixError",
    "format_paths",
]


def format_paths(paths: Sequence[str | Path], limit: int = 5) -> str:
    """Join file names for an error message, eliding the tail of a long list.

    Args:
        paths: The files to name.
        limit: How many to name before summarising the rest as a count.

    Returns:
        For example ``"a.png, b.png (and 3 more)"``.
    """
    names = [str(p) for p in paths]
    shown = ", ".join(names[:limit])
    if len(names) > limit:
        shown += f" (and {len(names) - limit} more)"
    return shown


class Pix2PixError(Exception):
    """Base class of every user-facing pix2pix error."""


class DatasetError(Pix2PixError):
    """A dataset cannot be used: empty, unpaired names, size mismatches, bad A|B layout."""


class ImageReadError(DatasetError):
    """An image file exists but cannot be decoded."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        super().__init__(f"cannot read image {path}: {reason}")


class FontError(Pix2PixError):
    """A font cannot be found or the file is not a font."""


class CheckpointError(Pix2PixError):
    """A checkpoint or run directory is missing, incomplete or of the wrong kind."""
