"""Batches: resumable, shardable, failures recorded without stopping the rest; the edit/batch commands."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from autodrag.cli import main
from autodrag.networks import save_generator
from autodrag.networks.default import random_generator
from autodrag.presets.batch import BatchItem, build_report, plan_items, run_items, shard_of
from tests.presets.test_edit import FixedLandmarks


def test_items_and_shards_cover_everything_once():
    items = plan_items([0, 1, 2], ["close_eyes", "smile"])
    assert [i.name for i in items[:2]] == ["seed0000_close_eyes", "seed0000_smile"]
    shards = [shard_of(items, i, 4) for i in range(4)]
    assert sorted(i.name for s in shards for i in s) == sorted(i.name for i in items)
    with pytest.raises(ValueError, match="shard must be i/N"):
        shard_of(items, 4, 4)


def test_run_items_resumes_and_records_failures(tmp_path):
    calls = []

    def edit_one(item: BatchItem, item_dir):
        calls.append(item.name)
        if item.seed == 1:
            raise RuntimeError("no face found")
        item_dir.mkdir(parents=True, exist_ok=True)
        (item_dir / "result.json").write_text(
            json.dumps(
                {
                    "seed": item.seed,
                    "preset": item.preset,
                    "md_px": 0.5,
                    "steps": 3,
                    "seconds": 0.1,
                    "stop_reason": "converged",
                    "success": {item.preset: True},
                }
            )
        )

    items = plan_items([0, 1, 2], ["close_eyes"])
    counts = run_items(tmp_path, items, edit_one)
    assert counts == {"done": 2, "skipped": 0, "failed": 1, "busy": 0, "conflict": 0}
    failed = json.loads((tmp_path / "items" / "seed0001_close_eyes" / "failed.json").read_text())
    assert "no face found" in failed["error"]
    calls.clear()
    counts = run_items(tmp_path, items, edit_one)  # re-run: finished items skipped, the failure retried
    assert calls == ["seed0001_close_eyes"] and counts == {
        "done": 0,
        "skipped": 2,
        "failed": 1,
        "busy": 0,
        "conflict": 0,
    }
    stats = build_report(tmp_path)
    assert stats["close_eyes"]["ok"] == 2 and stats["close_eyes"]["failed"] == 1
    csv = (tmp_path / "summary.csv").read_text().splitlines()
    assert csv[0].startswith("seed,preset,status") and len(csv) == 4
    assert "no face found" in (tmp_path / "index.html").read_text()


@pytest.fixture()
def small_ckpt(tmp_path, monkeypatch):
    G = random_generator(64)
    path = save_generator(G, tmp_path / "g.safetensors")
    monkeypatch.setattr("autodrag.presets.cli.detector_for", lambda *a, **k: FixedLandmarks(64))
    return path


def test_edit_command_writes_every_output(tmp_path, small_ckpt):
    out = tmp_path / "edit"
    result = CliRunner().invoke(
        main,
        [
            "edit",
            "--preset",
            "close_eyes,smile",
            "--seed",
            "3",
            "--ckpt",
            str(small_ckpt),
            "--steps",
            "4",
            "--out",
            str(out),
            "--device",
            "cpu",
        ],
    )
    assert result.exit_code == 0, result.output
    for name in (
        "result.json",
        "before_after.png",
        "edited.png",
        "latent.npz",
        "edit.gif",
        "edit_overlay.gif",
    ):
        assert (out / name).exists(), name
    record = json.loads((out / "result.json").read_text())
    for key in (
        "preset",
        "strength",
        "seed",
        "checkpoint",
        "steps",
        "seconds",
        "md_px",
        "landmarks_before",
        "landmarks_after",
        "handles",
        "targets",
        "measures_before",
        "measures_after",
    ):
        assert key in record, key
    assert record["preset"] == "close_eyes,smile" and record["seed"] == 3
    assert len(record["landmarks_after"]) == 68 and len(record["handles"]) == 10


@pytest.mark.parametrize(
    "args,message",
    [
        (["--preset", "frown"], "unknown preset 'frown'"),
        (["--preset", "close_eyes", "--strength", "2"], "2.0 is not in the range"),
    ],
)
def test_edit_bad_input(tmp_path, small_ckpt, args, message):
    result = CliRunner().invoke(main, ["edit", *args, "--ckpt", str(small_ckpt), "--out", str(tmp_path)])
    assert result.exit_code == 2 and message in result.output


def test_edit_latent_of_wrong_shape(tmp_path, small_ckpt):
    import numpy as np

    np.savez(tmp_path / "w.npz", ws=np.zeros((3, 7), np.float32))
    result = CliRunner().invoke(
        main,
        [
            "edit",
            "--preset",
            "close_eyes",
            "--latent",
            str(tmp_path / "w.npz"),
            "--ckpt",
            str(small_ckpt),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 2 and "ws has shape (3, 7)" in result.output


def test_batch_command_resumes_and_shards(tmp_path, small_ckpt, monkeypatch):
    out = tmp_path / "batch"
    args = [
        "batch",
        "--seeds",
        "0-1",
        "--presets",
        "close_eyes,open_mouth",
        "--ckpt",
        str(small_ckpt),
        "--steps",
        "2",
        "--out",
        str(out),
        "--device",
        "cpu",
    ]
    result = CliRunner().invoke(main, [*args, "--shard", "0/2"])
    assert result.exit_code == 0, result.output
    assert len(list((out / "items").glob("*/result.json"))) == 2
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert len(list((out / "items").glob("*/result.json"))) == 4
    monkeypatch.delenv("RANK")
    monkeypatch.delenv("WORLD_SIZE")
    result = CliRunner().invoke(main, args)
    assert "0 edited, 4 already done, 0 failed" in result.output
    assert (out / "index.html").exists() and (out / "summary.csv").exists()
    bad = CliRunner().invoke(main, [*args, "--shard", "2/2"])
    assert bad.exit_code == 2 and "expected i/N" in bad.output
