"""`--dataset NAME`: the layouts of facades, cityscapes, night2day, edges2shoes, edges2handbags."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from autodrag.cli import main
from autodrag.pix2pix.errors import DatasetError
from autodrag.pix2pix.known_datasets import KNOWN_DATASETS, check_layout, describe_layout


def _fake(root: Path, splits=("train", "val"), size=(64, 32), n=2) -> Path:
    for split in splits:
        (root / split).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            Image.new("RGB", size, (i * 40, 90, 200)).save(root / split / f"{i}.jpg")
    return root


def test_every_set_is_described_with_its_input_side() -> None:
    assert set(KNOWN_DATASETS) == {"facades", "cityscapes", "night2day", "edges2shoes", "edges2handbags"}
    facades = describe_layout("facades")
    assert "left half A = photo" in facades and "--direction BtoA" in facades and "RIGHT half" in facades
    assert "--direction AtoB" in describe_layout("edges2shoes")
    assert (
        KNOWN_DATASETS["cityscapes"].direction == "BtoA" and KNOWN_DATASETS["night2day"].direction == "AtoB"
    )


def test_a_good_small_layout_passes_with_notes(tmp_path: Path) -> None:
    report = check_layout(_fake(tmp_path / "facades", ("train", "val", "test")), "facades")
    assert report.counts == {"train": 2, "val": 2, "test": 2}
    assert report.layout.direction == "BtoA"
    assert any("400" in note for note in report.notes) and any("32x32" in note for note in report.notes)


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda r: r.mkdir(), "no train/, val/ folder"),
        (lambda r: _fake(r, ("train",)), "no val/ folder"),
        (lambda r: (_fake(r / "A", ("train",)), _fake(r / "B", ("train",))), "autodrag pix2pix combine"),
        (lambda r: _fake(r, ("trainA", "trainB")), "CycleGAN layout"),
        (lambda r: _fake(r / "edges2shoes"), "one level down: use --dataroot"),
        (lambda r: _fake(r, size=(32, 32)), "not two square halves side by side"),
        (lambda r: (_fake(r, ("train",)), (r / "val").mkdir()), "val/ has no images"),
        (lambda r: None, "does not exist"),
    ],
)
def test_bad_layouts_fail_in_one_line_naming_the_problem(tmp_path: Path, make, expected: str) -> None:
    root = tmp_path / "data"
    make(root)
    with pytest.raises(DatasetError) as info:
        check_layout(root, "edges2shoes")
    message = str(info.value)
    assert expected in message and "\n" not in message and "edges2shoes" in message


def test_unknown_name_is_rejected() -> None:
    with pytest.raises(ValueError, match="not one of facades"):
        check_layout(".", "maps")


def test_cli_datasets_and_train_check(tmp_path: Path) -> None:
    runner = CliRunner()
    good = _fake(tmp_path / "cityscapes")
    result = runner.invoke(main, ["pix2pix", "datasets", "cityscapes", "--dataroot", str(good)])
    assert result.exit_code == 0, result.output
    assert "ok:" in result.output and "--direction BtoA" in result.output
    listing = runner.invoke(main, ["pix2pix", "datasets"])
    assert all(name in listing.output for name in KNOWN_DATASETS)
    bad = _fake(tmp_path / "bad", ("train",))
    out = tmp_path / "run"
    result = runner.invoke(
        main, ["pix2pix", "train", "--dataset", "facades", "--dataroot", str(bad), "--out", str(out)]
    )
    assert result.exit_code == 1 and "no val/ folder" in result.output
    assert not (out / "latest.pt").exists()  # nothing trained


def test_train_dataset_sets_the_usual_direction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    import autodrag.pix2pix.train as train_module

    seen = []
    fake_result = types.SimpleNamespace(stopped_early=False, val_l1=[], epochs_completed=0, steps=0)
    monkeypatch.setattr(train_module, "train", lambda run_dir, cfg, **kw: seen.append(cfg) or fake_result)
    root = _fake(tmp_path / "facades", ("train", "val", "test"))
    base = ["pix2pix", "train", "--dataset", "facades", "--dataroot", str(root), "--out", str(tmp_path / "r")]
    runner = CliRunner()
    assert runner.invoke(main, base).exit_code == 0
    result = runner.invoke(main, [*base, "--direction", "AtoB"])
    assert result.exit_code == 0 and "warning: facades is stored photo|label map" in result.output
    assert [cfg.data.direction for cfg in seen] == ["BtoA", "AtoB"]  # the usual one, then the explicit one
