"""The layouts of the standard pix2pix datasets, and a check that a folder matches one.

facades, cityscapes, night2day, edges2shoes and edges2handbags (as distributed by the pix2pix
authors, ``datasets/download_pix2pix_dataset.sh`` in junyanz/pytorch-CycleGAN-and-pix2pix) are
folders of A|B images: each file holds two 256x256 pictures side by side. Which half is the input
differs: facades and cityscapes are stored photo|labels, so the usual labels -> photo model trains
with ``--direction BtoA``. These sets cannot be downloaded here; :func:`check_layout` tells a user
who has one whether the folder is what training expects, in one line naming what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autodrag.pix2pix.errors import DatasetError, ImageReadError
from autodrag.pix2pix.images import list_images, read_image_size

__all__ = ["KNOWN_DATASETS", "DatasetLayout", "LayoutReport", "check_layout", "describe_layout", "get_layout"]


@dataclass(frozen=True)
class DatasetLayout:
    """How one standard pix2pix dataset is stored."""

    name: str
    left: str  # what the left half (A) of each file shows
    right: str  # what the right half (B) shows
    direction: str  # --direction for the usual task
    task: str  # the usual translation, input -> output
    splits: tuple[str, ...]  # split folders the distributed archive has
    counts: tuple[int, ...]  # images per split, as distributed
    half: int = 256  # side of each half in pixels

    @property
    def required(self) -> tuple[str, ...]:
        """Split folders training and testing need: train, and val (the only held-out split of some)."""
        return ("train", "val")


KNOWN_DATASETS: dict[str, DatasetLayout] = {
    d.name: d
    for d in (
        DatasetLayout("facades", "photo", "label map", "BtoA", "labels -> photo", ("train", "val", "test"), (400, 100, 106)),
        DatasetLayout("cityscapes", "photo", "label map", "BtoA", "labels -> photo", ("train", "val"), (2975, 500)),
        DatasetLayout("night2day", "night", "day", "AtoB", "night -> day", ("train", "val", "test"), (17823, 10, 2287)),
        DatasetLayout("edges2shoes", "edges", "photo", "AtoB", "edges -> photo", ("train", "val"), (49825, 200)),
        DatasetLayout("edges2handbags", "edges", "photo", "AtoB", "edges -> photo", ("train", "val"), (138567, 200)),
    )
}  # fmt: skip


@dataclass(frozen=True)
class LayoutReport:
    """What :func:`check_layout` found."""

    layout: DatasetLayout
    root: Path
    counts: dict[str, int]  # images per split folder present
    notes: tuple[str, ...]  # harmless differences (fewer images than distributed, resized halves)


def get_layout(name: str) -> DatasetLayout:
    """The layout called ``name``; ValueError naming the known ones otherwise."""
    if name not in KNOWN_DATASETS:
        raise ValueError(f"--dataset {name!r} is not one of {', '.join(KNOWN_DATASETS)}")
    return KNOWN_DATASETS[name]


def describe_layout(name: str) -> str:
    """A few lines explaining the folder structure ``name`` is expected to have."""
    d = get_layout(name)
    splits = ", ".join(f"{s}/ ({n} images)" for s, n in zip(d.splits, d.counts))
    return (
        f"{d.name}: DATAROOT/{{{','.join(d.splits)}}}/*.jpg; {splits}\n"
        f"  each file is A|B, {2 * d.half}x{d.half}: left half A = {d.left}, right half B = {d.right}\n"
        f"  {d.task} trains with --direction {d.direction}"
        + (" (the input is the RIGHT half)" if d.direction == "BtoA" else "")
        + f"\n  e.g. autodrag pix2pix train --dataset {d.name} --dataroot DATAROOT --out runs/{d.name}"
    )


def _fail(layout: DatasetLayout, root: Path, what: str) -> DatasetError:
    return DatasetError(
        f"--dataset {layout.name} at {root}: {what} (see `autodrag pix2pix datasets {layout.name}`)"
    )


def check_layout(root: str | Path, name: str, sample: int = 16) -> LayoutReport:
    """Check that ``root`` holds dataset ``name`` as distributed (A|B files in split folders).

    Reads the header of up to ``sample`` files per split (the sets have up to 138k images).

    Raises:
        ValueError: Unknown ``name``.
        DatasetError: One line naming what is wrong: a missing folder, an unmerged A/ + B/ or
            CycleGAN trainA/ layout, one folder level too many, an empty split, or files that
            are not two halves side by side.
    """
    layout, root = get_layout(name), Path(root)
    if not root.is_dir():
        raise _fail(layout, root, "the folder does not exist")
    if (root / "A").is_dir() and (root / "B").is_dir():
        raise _fail(
            layout,
            root,
            "found A/ and B/ folders; merge them into A|B images with `autodrag pix2pix combine`",
        )
    if (root / "trainA").is_dir() or (root / "trainB").is_dir():
        raise _fail(
            layout, root, "found trainA/ (the CycleGAN layout); pix2pix needs paired A|B images in train/"
        )
    if (root / layout.name / "train").is_dir():
        raise _fail(layout, root, f"train/ is one level down: use --dataroot {root / layout.name}")
    missing = [s for s in layout.required if not (root / s).is_dir()]
    if missing:
        raise _fail(
            layout,
            root,
            f"no {'/, '.join(missing)}/ folder (expected {', '.join(s + '/' for s in layout.splits)})",
        )
    counts: dict[str, int] = {}
    notes: list[str] = []
    for split, expected in zip(layout.splits, layout.counts):
        folder = root / split
        if not folder.is_dir():
            continue
        files = list_images(folder)
        if not files:
            raise _fail(layout, root, f"{split}/ has no images")
        counts[split] = len(files)
        if len(files) != expected:
            notes.append(f"{split}/ has {len(files)} images (the distributed set has {expected})")
        for path in files[:sample]:
            try:
                width, height = read_image_size(path)
            except ImageReadError as exc:
                raise _fail(layout, root, f"unreadable image {path.name} in {split}/: {exc}") from exc
            if width != 2 * height:
                raise _fail(
                    layout, root,
                    f"{split}/{path.name} is {width}x{height}, not two square halves side by side "
                    f"({2 * layout.half}x{layout.half} as distributed, left {layout.left} | right {layout.right})",
                )  # fmt: skip
            if height != layout.half and not any(n.startswith("halves") for n in notes):
                notes.append(f"halves are {height}x{height}, not {layout.half}x{layout.half} as distributed")
    return LayoutReport(layout, root, counts, tuple(notes))
