"""Datasets: A|B and paired folders, shared jitter, channels, sampler; bad input named clearly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from autodrag.pix2pix.combine import combine_folders
from autodrag.pix2pix.datasets import (
    DataConfig,
    EpochSampler,
    PairedDataset,
    open_dataset,
    scan_aligned,
    scan_paired,
)
from autodrag.pix2pix.errors import DatasetError, ImageReadError
from autodrag.pix2pix.images import JitterConfig, load_image, parse_size, to_pil, to_tensor


def _noise(path: Path, size: tuple[int, int], seed: int, mode: str = "RGB") -> Image.Image:
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    img = Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return img


def _ab(path: Path, left: Image.Image, right: Image.Image) -> None:
    both = Image.new("RGB", (left.size[0] * 2, left.size[1]))
    both.paste(left, (0, 0))
    both.paste(right, (left.size[0], 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    both.save(path)


def test_aligned_split_and_direction(tmp_path: Path) -> None:
    left, right = _noise(tmp_path / "l.png", (16, 16), 0), _noise(tmp_path / "r.png", (16, 16), 1)
    _ab(tmp_path / "ab" / "x.png", left, right)
    for direction, (src, tgt) in (("AtoB", (left, right)), ("BtoA", (right, left))):
        ds = open_dataset(
            DataConfig(dataroot=str(tmp_path / "ab"), direction=direction), "train", 3, 3, train=False
        )
        sample = ds[0]
        assert torch.equal(sample["A"], to_tensor(src)) and torch.equal(sample["B"], to_tensor(tgt))
        assert sample["name"] == "x"


def test_paired_folders_match_by_stem_and_use_splits(tmp_path: Path) -> None:
    for split, names in (("train", ["a", "b"]), ("val", ["c"])):
        for n in names:
            _noise(tmp_path / split / "A" / f"{n}.png", (12, 8), 0)
            _noise(tmp_path / split / "B" / f"{n}.jpg", (12, 8), 1)
    cfg = DataConfig(dataroot=str(tmp_path))
    train = open_dataset(cfg, "train", 3, 3, train=True)
    val = open_dataset(cfg, "val", 3, 3, train=False)
    assert [p.name for p in train.pairs] == ["a", "b"] and [p.name for p in val.pairs] == ["c"]
    assert open_dataset(DataConfig(dataroot=str(tmp_path / "train")), "val", 3, 3, train=False) is None


def test_shared_jitter_is_identical_for_a_and_b(tmp_path: Path) -> None:
    img = _noise(tmp_path / "A" / "p.png", (40, 30), 3)
    (tmp_path / "B").mkdir()
    img.save(tmp_path / "B" / "p.png")
    jitter = JitterConfig(load_size=(48, 36), crop_size=(32, 24), flip=True)
    ds = PairedDataset(scan_paired(tmp_path / "A", tmp_path / "B"), 3, 3, jitter)
    crops = set()
    for epoch in range(12):
        sample = ds[(0, 7, epoch)]
        assert sample["A"].shape == (3, 24, 32)
        assert torch.equal(sample["A"], sample["B"])  # same crop and flip on both sides
        crops.add(sample["A"].sum().item())
        assert torch.equal(ds[(0, 7, epoch)]["A"], sample["A"])  # the key fixes the draw
    assert len(crops) > 3  # and different epochs draw differently
    centred = ds[0]["A"]
    assert centred.shape == (3, 24, 32)


def test_one_and_three_channels_and_alpha(tmp_path: Path) -> None:
    rgba = Image.new("RGBA", (8, 4), (255, 0, 0, 0))  # fully transparent red
    rgba.save(tmp_path / "t.png")
    assert load_image(tmp_path / "t.png", 3).getpixel((0, 0)) == (255, 255, 255)  # composited on white
    assert load_image(tmp_path / "t.png", 1).mode == "L"
    grey = load_image(tmp_path / "t.png", 1)
    assert to_tensor(grey).shape == (1, 4, 8)
    assert to_pil(to_tensor(grey)).mode == "L"


def test_sampler_is_deterministic_resumable_and_sharded() -> None:
    s = EpochSampler(10, seed=3)
    s.set_epoch(2)
    full = list(s)
    s.set_epoch(2, skip=4)
    assert list(s) == full[4:]
    s.set_epoch(3)
    assert [k[0] for k in s] != [k[0] for k in full]
    ranks = [EpochSampler(10, seed=3, rank=r, world_size=3) for r in range(3)]
    for r in ranks:
        r.set_epoch(2)
    shards = [[k[0] for k in r] for r in ranks]
    assert all(len(sh) == 4 for sh in shards)  # padded to 12 so every rank takes as many steps
    assert {index for shard in shards for index in shard} == set(range(10))


def test_parse_size() -> None:
    assert parse_size("500x200") == (500, 200) and parse_size("64") == (64, 64)
    with pytest.raises(ValueError):
        parse_size("big")


# --------------------------------------------------------------------------------- bad input
def test_unpaired_names_are_all_named(tmp_path: Path) -> None:
    for n in ("a", "b", "only_a"):
        _noise(tmp_path / "A" / f"{n}.png", (8, 8), 0)
    for n in ("a", "b", "only_b"):
        _noise(tmp_path / "B" / f"{n}.png", (8, 8), 0)
    with pytest.raises(DatasetError, match=r"only in .*A: only_a\.png; only in .*B: only_b\.png"):
        scan_paired(tmp_path / "A", tmp_path / "B")


def test_pairs_of_different_sizes(tmp_path: Path) -> None:
    _noise(tmp_path / "A" / "x.png", (8, 8), 0)
    _noise(tmp_path / "B" / "x.png", (8, 9), 0)
    with pytest.raises(DatasetError, match=r"different sizes: x \(8x8 vs 8x9\)"):
        scan_paired(tmp_path / "A", tmp_path / "B")


def test_corrupt_image_named(tmp_path: Path) -> None:
    _noise(tmp_path / "A" / "x.png", (8, 8), 0)
    (tmp_path / "B").mkdir()
    (tmp_path / "B" / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(DatasetError, match=r"unreadable images: .*B/x\.png"):
        scan_paired(tmp_path / "A", tmp_path / "B")
    with pytest.raises(ImageReadError, match="x.png"):
        load_image(tmp_path / "B" / "x.png", 3)


def test_ab_width_not_twice_height(tmp_path: Path) -> None:
    _noise(tmp_path / "wide.png", (50, 20), 0)
    _noise(tmp_path / "ok.png", (40, 20), 0)
    with pytest.raises(DatasetError, match=r"width = 2 x height.*wide\.png \(50x20\)"):
        scan_aligned(tmp_path)
    assert len(scan_aligned(tmp_path, any_aspect=True)) == 2
    _noise(tmp_path / "odd.png", (41, 20), 0)
    with pytest.raises(DatasetError, match=r"even width: odd\.png"):
        scan_aligned(tmp_path, any_aspect=True)


def test_empty_dataset(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no images in .*empty"):
        open_dataset(DataConfig(dataroot=str(tmp_path / "empty")), "train", 3, 3, train=True)
    with pytest.raises(DatasetError, match="does not exist"):
        open_dataset(DataConfig(dataroot=str(tmp_path / "missing")), "train", 3, 3, train=True)


def test_mixed_sizes_need_batch_size_one(tmp_path: Path) -> None:
    for n, size in (("a", (8, 8)), ("b", (16, 8))):
        _noise(tmp_path / "A" / f"{n}.png", size, 0)
        _noise(tmp_path / "B" / f"{n}.png", size, 0)
    ds = PairedDataset(scan_paired(tmp_path / "A", tmp_path / "B"))
    ds.check_batchable(1)
    with pytest.raises(DatasetError, match="batch size 4 needs images of one size"):
        ds.check_batchable(4)


# ------------------------------------------------------------------------------------ combine
def test_combine_writes_pairs_and_reports_the_rest(tmp_path: Path) -> None:
    left = _noise(tmp_path / "A" / "good.png", (10, 10), 0)
    right = _noise(tmp_path / "B" / "good.png", (10, 10), 1)
    _noise(tmp_path / "A" / "lonely.png", (10, 10), 2)
    _noise(tmp_path / "B" / "stray.png", (10, 10), 2)
    _noise(tmp_path / "A" / "size.png", (10, 10), 2)
    _noise(tmp_path / "B" / "size.png", (12, 10), 2)
    _noise(tmp_path / "A" / "broken.png", (10, 10), 2)
    (tmp_path / "B" / "broken.png").write_bytes(b"garbage")
    report = combine_folders(tmp_path / "A", tmp_path / "B", tmp_path / "out")
    assert [p.name for p in report.written] == ["good.png"]
    assert report.only_in_a == ["lonely.png"] and report.only_in_b == ["stray.png"]
    assert report.size_mismatch == ["size (10x10 vs 12x10)"]
    assert len(report.unreadable) == 1 and "broken.png" in report.unreadable[0]
    assert not report.clean
    text = "\n".join(report.lines())
    for name in ("lonely.png", "stray.png", "size (10x10", "broken.png"):
        assert name in text
    ds = open_dataset(DataConfig(dataroot=str(tmp_path / "out")), "train", 3, 3, train=False)
    assert torch.equal(ds[0]["A"], to_tensor(left)) and torch.equal(ds[0]["B"], to_tensor(right))
    resized = combine_folders(tmp_path / "A", tmp_path / "B", tmp_path / "out2", resize=(8, 8))
    assert len(resized.written) == 2 and not resized.size_mismatch
