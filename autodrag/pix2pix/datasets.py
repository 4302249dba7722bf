"""Paired datasets (A|B side-by-side images or A/ and B/ folders) and the epoch sampler.

Every problem found while scanning a dataset (unpaired names, size mismatches, unreadable files,
A|B images of the wrong shape) is collected and raised as one :class:`DatasetError` naming the
files, instead of pairs being silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from autodrag.pix2pix.errors import DatasetError, ImageReadError, format_paths
from autodrag.pix2pix.images import (
    JitterConfig,
    Size,
    apply_jitter,
    list_images,
    load_image,
    read_image_size,
    sample_jitter,
    to_tensor,
)

__all__ = [
    "DataConfig",
    "EpochSampler",
    "PairRef",
    "PairedDataset",
    "SampleKey",
    "open_dataset",
    "resolve_split",
    "scan_aligned",
    "scan_paired",
]

SampleKey = tuple[int, int, int]  # (index, seed, epoch): the sample and the draw of its jitter


@dataclass
class DataConfig:
    """Where the pairs are and how to read them."""

    dataroot: str = (
        ""  # folder holding A/ + B/, or A|B images; train/ val/ test/ subfolders are used if present
    )
    direction: str = "AtoB"  # AtoB translates the left/A image into the right/B one; BtoA the reverse
    any_aspect: bool = False  # A|B images: accept halves that are not square (width != 2 * height)
    jitter: JitterConfig = field(default_factory=JitterConfig)  # shared augmentation in training
    num_workers: int = 0  # DataLoader worker processes


@dataclass(frozen=True)
class PairRef:
    """One training pair on disk."""

    name: str  # file stem, used to name outputs
    source: Path  # image holding the source (for aligned pairs, the A|B file)
    target: Path | None  # image holding the target; None for aligned pairs
    size: Size  # (width, height) of each image of the pair before jitter
    swap: bool = False  # aligned pairs: take the source from the right half (BtoA)


def scan_aligned(folder: Path, direction: str = "AtoB", any_aspect: bool = False) -> list[PairRef]:
    """Check and list A|B side-by-side images in ``folder``.

    Raises:
        DatasetError: No images, or files that are unreadable or not two halves side by side.
    """
    files = list_images(folder)
    if not files:
        raise DatasetError(f"no images in {folder}: expected A|B images or A/ and B/ subfolders")
    pairs, unreadable, bad_shape = [], [], []
    for path in files:
        try:
            width, height = read_image_size(path)
        except ImageReadError:
            unreadable.append(path.name)
            continue
        if width % 2 or (not any_aspect and width != 2 * height):
            bad_shape.append(f"{path.name} ({width}x{height})")
            continue
        pairs.append(PairRef(path.stem, path, None, (width // 2, height), swap=direction == "BtoA"))
    problems = []
    if unreadable:
        problems.append(f"unreadable images: {format_paths(unreadable)}")
    if bad_shape:
        rule = (
            "an even width"
            if any_aspect
            else "width = 2 x height (two square halves; --any-aspect allows others)"
        )
        problems.append(f"A|B images need {rule}: {format_paths(bad_shape)}")
    if problems:
        raise DatasetError(f"in {folder}: " + "; ".join(problems))
    return pairs


def _index_by_stem(folder: Path) -> tuple[dict[str, Path], list[str]]:
    by_stem: dict[str, Path] = {}
    duplicates = []
    for path in list_images(folder):
        if path.stem in by_stem:
            duplicates.append(f"{by_stem[path.stem].name}/{path.name}")
        by_stem[path.stem] = path
    return by_stem, duplicates


def scan_paired(dir_a: Path, dir_b: Path, direction: str = "AtoB") -> list[PairRef]:
    """Match images of ``dir_a`` and ``dir_b`` by file stem and check each pair.

    Raises:
        DatasetError: Empty folders, names present on one side only, duplicate stems,
            unreadable images or pairs whose two images differ in size.
    """
    files_a, dup_a = _index_by_stem(dir_a)
    files_b, dup_b = _index_by_stem(dir_b)
    if not files_a and not files_b:
        raise DatasetError(f"no images in {dir_a} or {dir_b}")
    only_a = sorted(files_a.keys() - files_b.keys())
    only_b = sorted(files_b.keys() - files_a.keys())
    problems = []
    if only_a:
        problems.append(f"only in {dir_a}: {format_paths([files_a[s].name for s in only_a])}")
    if only_b:
        problems.append(f"only in {dir_b}: {format_paths([files_b[s].name for s in only_b])}")
    if dup_a or dup_b:
        problems.append(f"same name with two extensions: {format_paths(dup_a + dup_b)}")
    pairs, unreadable, mismatched = [], [], []
    for stem in sorted(files_a.keys() & files_b.keys()):
        sizes = []
        for path in (files_a[stem], files_b[stem]):
            try:
                sizes.append(read_image_size(path))
            except ImageReadError:
                unreadable.append(str(path))
        if len(sizes) < 2:
            continue
        if sizes[0] != sizes[1]:
            mismatched.append(f"{stem} ({sizes[0][0]}x{sizes[0][1]} vs {sizes[1][0]}x{sizes[1][1]})")
            continue
        a, b = files_a[stem], files_b[stem]
        source, target = (a, b) if direction == "AtoB" else (b, a)
        pairs.append(PairRef(stem, source, target, sizes[0]))
    if unreadable:
        problems.append(f"unreadable images: {format_paths(unreadable)}")
    if mismatched:
        problems.append(f"pairs of different sizes: {format_paths(mismatched)}")
    if problems:
        raise DatasetError("; ".join(problems))
    return pairs


def resolve_split(root: str | Path, phase: str) -> Path | None:
    """The folder holding ``phase`` ("train", "val", "test"): ``root/phase`` if present.

    For ``train`` (and ``test``) a root without such a subfolder is itself the split; ``val``
    has no fallback and returns None when absent.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"dataset folder {root} does not exist")
    if (root / phase).is_dir():
        return root / phase
    return None if phase == "val" else root


def _scan(folder: Path, cfg: DataConfig) -> list[PairRef]:
    if cfg.direction not in ("AtoB", "BtoA"):
        raise ValueError(f"direction must be AtoB or BtoA, got {cfg.direction!r}")
    if (folder / "A").is_dir() and (folder / "B").is_dir():
        return scan_paired(folder / "A", folder / "B", cfg.direction)
    return scan_aligned(folder, cfg.direction, cfg.any_aspect)


class PairedDataset(Dataset):
    """Pairs as tensors: ``{"A": [Ca,H,W], "B": [Cb,H,W], "name": str}`` in [-1, 1].

    Indexed by an int (no jitter: the centred view) or by a :data:`SampleKey` whose seed and
    epoch fix the jitter draw, so a resumed run sees exactly the augmentation it would have seen.
    """

    def __init__(
        self,
        pairs: list[PairRef],
        source_channels: int = 3,
        target_channels: int = 3,
        jitter: JitterConfig | None = None,
    ) -> None:
        if not pairs:
            raise DatasetError("the dataset is empty")
        self.pairs = pairs
        self.source_channels, self.target_channels = source_channels, target_channels
        self.jitter = jitter or JitterConfig()

    def __len__(self) -> int:
        return len(self.pairs)

    def output_sizes(self) -> set[Size]:
        """The distinct (width, height) of the tensors this dataset returns."""
        if self.jitter.crop_size is not None:
            return {tuple(self.jitter.crop_size)}
        if self.jitter.load_size is not None:
            return {tuple(self.jitter.load_size)}
        return {ref.size for ref in self.pairs}

    def check_batchable(self, batch_size: int) -> None:
        """Raise :class:`DatasetError` if pairs of different sizes would meet in one batch."""
        sizes = self.output_sizes()
        if batch_size > 1 and len(sizes) > 1:
            examples = {}
            for ref in self.pairs:
                examples.setdefault(ref.size, f"{ref.name} ({ref.size[0]}x{ref.size[1]})")
            raise DatasetError(
                f"batch size {batch_size} needs images of one size, found {len(sizes)}: "
                f"{format_paths(list(examples.values()))}; use --load-size or --batch-size 1"
            )

    def _read_pair(self, ref: PairRef):
        if ref.target is not None:
            return load_image(ref.source, self.source_channels), load_image(ref.target, self.target_channels)
        width, height = ref.size
        left_box, right_box = (0, 0, width, height), (width, 0, 2 * width, height)
        src_box, tgt_box = (right_box, left_box) if ref.swap else (left_box, right_box)
        src = load_image(ref.source, self.source_channels).crop(src_box)
        tgt = load_image(ref.source, self.target_channels).crop(tgt_box)
        return src, tgt

    def __getitem__(self, key: int | SampleKey) -> dict:
        if isinstance(key, (tuple, list)):
            index, seed, epoch = (int(k) for k in key)
            rng = np.random.default_rng([seed, epoch, index])
        else:
            index, rng = int(key), None
        ref = self.pairs[index]
        source, target = self._read_pair(ref)
        params = sample_jitter(self.jitter, source.size, rng)
        return {
            "A": to_tensor(apply_jitter(source, self.jitter, params)),
            "B": to_tensor(apply_jitter(target, self.jitter, params)),
            "name": ref.name,
        }


def open_dataset(
    cfg: DataConfig,
    phase: str,
    source_channels: int,
    target_channels: int,
    train: bool,
) -> PairedDataset | None:
    """Open the ``phase`` split of ``cfg.dataroot``; None if ``phase == "val"`` and there is none.

    Args:
        cfg: Data options.
        phase: "train", "val" or "test".
        source_channels: Channels to read the source image as.
        target_channels: Channels to read the target image as.
        train: Apply the training jitter (else only the deterministic resize / centre crop).
    """
    folder = resolve_split(cfg.dataroot, phase)
    if folder is None:
        return None
    jitter = cfg.jitter if train else JitterConfig(cfg.jitter.load_size, cfg.jitter.crop_size, False)
    return PairedDataset(_scan(folder, cfg), source_channels, target_channels, jitter)


class EpochSampler(Sampler):
    """Yields :data:`SampleKey` for one epoch: a permutation fixed by (seed, epoch), split by rank.

    Nothing depends on global random state, so the order (and jitter) of epoch ``e`` is the same
    in a fresh run, a resumed run, and across worker processes. ``set_epoch(e, skip)`` resumes in
    the middle of an epoch by skipping the samples this rank has already consumed.
    """

    def __init__(
        self, size: int, seed: int, shuffle: bool = True, rank: int = 0, world_size: int = 1
    ) -> None:
        self.size, self.seed, self.shuffle = size, seed, shuffle
        self.rank, self.world_size = rank, world_size
        self.epoch, self.skip = 0, 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        self.epoch, self.skip = epoch, skip

    def per_rank(self) -> int:
        return -(-self.size // self.world_size)

    def __len__(self) -> int:
        return self.per_rank() - self.skip

    def __iter__(self) -> Iterator[SampleKey]:
        if self.shuffle:
            gen = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
            order = torch.randperm(self.size, generator=gen).tolist()
        else:
            order = list(range(self.size))
        total = self.per_rank() * self.world_size
        order = (order * (total // max(len(order), 1) + 1))[:total]  # pad so every rank gets as many
        mine = order[self.rank :: self.world_size][self.skip :]
        return iter([(index, self.seed, self.epoch) for index in mine])
