"""Build A|B side-by-side training images from paired folders, reporting every file left out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from autodrag.atomic import write_atomic
from autodrag.pix2pix.errors import DatasetError, ImageReadError
from autodrag.pix2pix.images import Size, list_images, load_image

__all__ = ["CombineReport", "combine_folders"]


@dataclass
class CombineReport:
    """What :func:`combine_folders` did with every file it saw."""

    written: list[Path] = field(default_factory=list)  # A|B images created
    only_in_a: list[str] = field(default_factory=list)  # file names with no partner in B
    only_in_b: list[str] = field(default_factory=list)  # file names with no partner in A
    size_mismatch: list[str] = field(default_factory=list)  # "name (WxH vs WxH)" pairs skipped
    unreadable: list[str] = field(default_factory=list)  # "path: reason" of files that did not decode
    non_square: int = 0  # pairs written whose halves are not square (train them with --any-aspect)

    @property
    def clean(self) -> bool:
        """True when every file found a partner and was written."""
        return not (self.only_in_a or self.only_in_b or self.size_mismatch or self.unreadable)

    def lines(self) -> list[str]:
        """A human-readable report, one finding per line."""
        out = [f"wrote {len(self.written)} A|B images"]
        for label, items in (
            ("unpaired, only in A", self.only_in_a),
            ("unpaired, only in B", self.only_in_b),
            ("skipped, sizes differ (use --resize WxH)", self.size_mismatch),
            ("skipped, unreadable", self.unreadable),
        ):
            out += [f"{label}: {item}" for item in items]
        if self.non_square:
            out.append(f"{self.non_square} pairs have non-square halves: train with --any-aspect")
        return out


def combine_folders(
    dir_a: str | Path, dir_b: str | Path, out_dir: str | Path, resize: Size | None = None
) -> CombineReport:
    """Write ``out_dir/<stem>.png`` = A beside B for every stem present in both folders.

    Args:
        dir_a: Source images.
        dir_b: Target images, matched to ``dir_a`` by file stem.
        out_dir: Created if needed.
        resize: Resize both halves to this (width, height); otherwise pairs must match in size.

    Returns:
        The report; unpaired, mismatched and unreadable files are listed there, not raised.

    Raises:
        DatasetError: A folder does not exist or neither holds an image.
    """
    dir_a, dir_b, out_dir = Path(dir_a), Path(dir_b), Path(out_dir)
    for folder in (dir_a, dir_b):
        if not folder.is_dir():
            raise DatasetError(f"folder {folder} does not exist")
    files_a = {p.stem: p for p in list_images(dir_a)}
    files_b = {p.stem: p for p in list_images(dir_b)}
    if not files_a and not files_b:
        raise DatasetError(f"no images in {dir_a} or {dir_b}")
    report = CombineReport(
        only_in_a=sorted(files_a[s].name for s in files_a.keys() - files_b.keys()),
        only_in_b=sorted(files_b[s].name for s in files_b.keys() - files_a.keys()),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    for stem in sorted(files_a.keys() & files_b.keys()):
        halves = []
        for path in (files_a[stem], files_b[stem]):
            try:
                halves.append(load_image(path, 3))
            except ImageReadError as exc:
                report.unreadable.append(str(exc).removeprefix("cannot read image "))
        if len(halves) < 2:
            continue
        left, right = halves
        if resize is not None:
            left, right = (img.resize(resize, Image.Resampling.BICUBIC) for img in (left, right))
        elif left.size != right.size:
            report.size_mismatch.append(
                f"{stem} ({left.size[0]}x{left.size[1]} vs {right.size[0]}x{right.size[1]})"
            )
            continue
        width, height = left.size
        report.non_square += width != height
        both = Image.new("RGB", (2 * width, height))
        both.paste(left, (0, 0))
        both.paste(right, (width, 0))
        target = out_dir / f"{stem}.png"
        write_atomic(target, lambda tmp, image=both: image.save(tmp, format="PNG"))
        report.written.append(target)
    return report
