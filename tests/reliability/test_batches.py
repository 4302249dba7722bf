"""Batches (issues #18 and #20): options recorded and checked, corrupt records redone, claims, exit codes,
and many writers (processes and shards, some SIGKILLed) on one --out."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from autodrag.cli import main
from autodrag.presets.batch import _lock, _unlock, build_report, item_state, plan_items, run_items
from tests.presets.test_edit import FixedLandmarks
from tests.reliability import writer
from tests.reliability.conftest import leftovers


def _fake_edit(item, item_dir: Path) -> dict:
    item_dir.mkdir(parents=True, exist_ok=True)
    record = {
        "seed": item.seed,
        "preset": item.preset,
        "md_px": 0.5,
        "steps": 3,
        "seconds": 0.1,
        "stop_reason": "converged",
        "success": {item.preset: True},
    }
    (item_dir / "result.json").write_text(json.dumps(record))
    return record


@pytest.fixture()
def batch_args(tmp_path, tiny_ckpt, monkeypatch):
    monkeypatch.setattr("autodrag.presets.cli.detector_for", lambda *a, **k: FixedLandmarks(64))
    out = tmp_path / "b"
    return out, [
        "batch",
        "--seeds",
        "0-1",
        "--presets",
        "close_eyes",
        "--steps",
        "2",
        "--ckpt",
        str(tiny_ckpt),
        "--device",
        "cpu",
        "--out",
        str(out),
    ]


def test_other_options_are_refused_then_forced(batch_args):
    out, args = batch_args
    assert CliRunner().invoke(main, args).exit_code == 0
    made = {p: p.stat().st_mtime_ns for p in out.glob("items/*/result.json")}
    result = CliRunner().invoke(main, [*args, "--strength", "0.5"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (
        "2 item(s)" in result.stderr and "strength 1.0 -> 0.5" in result.stderr and "--force" in result.stderr
    )
    assert {p: p.stat().st_mtime_ns for p in out.glob("items/*/result.json")} == made  # untouched
    result = CliRunner().invoke(main, [*args, "--strength", "0.5", "--force"])
    assert result.exit_code == 0, result.output
    records = [json.loads(p.read_text()) for p in out.glob("items/*/result.json")]
    assert len(records) == 2 and all(
        r["strength"] == 0.5 and r["batch_options"]["strength"] == 0.5 for r in records
    )
    assert "0 edited, 2 already done" in CliRunner().invoke(main, [*args, "--strength", "0.5"]).output


def test_corrupt_record_is_redone(batch_args):
    out, args = batch_args
    assert CliRunner().invoke(main, args).exit_code == 0
    (out / "items/seed0001_close_eyes/result.json").write_text('{"seed": 1, "pres')
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0 and "1 edited, 1 already done, 0 failed" in result.output
    assert json.loads((out / "items/seed0001_close_eyes/result.json").read_text())["seed"] == 1
    assert len((out / "summary.csv").read_text().splitlines()) == 3


def test_all_failed_is_a_failure(batch_args, monkeypatch):
    out, args = batch_args

    def no_face(*a, **k):
        raise ValueError("no face found")

    monkeypatch.setattr("autodrag.presets.cli.run_edit", no_face)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "2 of 2 item(s) failed" in result.stderr
    assert sorted(p.name for p in out.glob("items/*/*")) == ["failed.json", "failed.json"]
    assert "failed" in (out / "summary.csv").read_text() and leftovers(out) == []


def test_ctrl_c_leaves_a_summary_and_no_temp_files(batch_args, monkeypatch):
    out, args = batch_args
    import autodrag.presets.cli as pcli

    real, calls = pcli.run_edit, []

    def interrupted(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr("autodrag.presets.cli.run_edit", interrupted)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 130 and "interrupted" in result.stderr
    assert (out / "summary.csv").read_text().count("\n") == 2  # header + the one finished item
    assert leftovers(out) == [] and not (out / "items/seed0001_close_eyes").exists()


def test_result_xor_failed(tmp_path):
    items = plan_items([0], ["smile"])
    run_items(tmp_path, items, lambda item, d: (_ for _ in ()).throw(RuntimeError("boom")))
    assert item_state(tmp_path / "items/seed0000_smile") == "failed"
    run_items(tmp_path, items, _fake_edit)
    assert sorted(p.name for p in (tmp_path / "items/seed0000_smile").iterdir()) == ["result.json"]


def test_a_live_claim_is_respected_and_a_dead_one_taken_over(tmp_path):
    items = plan_items([0, 1], ["smile"])
    (tmp_path / "items").mkdir(parents=True)
    claim = tmp_path / "items/.seed0000_smile.claim"
    fd = _lock(claim, blocking=False)  # held (as by a live process): the item is someone else's
    assert json.loads(claim.read_text())["pid"] == os.getpid()
    counts = run_items(tmp_path, items, _fake_edit, wait=False)
    assert counts["busy"] == 1 and counts["done"] == 1
    assert not (tmp_path / "items/seed0000_smile").exists()
    _unlock(claim, fd)
    claim.write_text(json.dumps({"pid": 999999, "host": "x"}))  # a dead owner's claim: nobody holds the lock
    counts = run_items(tmp_path, items, _fake_edit)
    assert counts["done"] == 1 and counts["skipped"] == 1 and leftovers(tmp_path) == []


def test_summary_is_what_is_on_disk(tmp_path):
    run_items(tmp_path, plan_items([0, 1, 2], ["smile"]), _fake_edit)
    (tmp_path / "items/.seed0009_smile.123.456.abcd1234.tmp").mkdir()  # a staging folder: not an item
    build_report(tmp_path)
    rows = (tmp_path / "summary.csv").read_text().splitlines()[1:]
    assert sorted(r.split(",")[0] for r in rows) == ["0", "1", "2"]


class _Writer:
    """A writer process (tests/reliability/writer.py), forked from this one: no second torch import."""

    def __init__(self, out: Path, *args: str) -> None:
        self.process = multiprocessing.get_context("fork").Process(
            target=_writer_main, args=([str(out), *args],)
        )
        self.process.start()
        self.pid = self.process.pid

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout: float) -> int:
        self.process.join(timeout)
        return self.process.exitcode


def _writer_main(argv: list[str]) -> None:
    sys.exit(writer.main(argv))


_writer = _Writer


def check_batch_folder(out: Path, n_items: int) -> None:
    """Every item exactly once with complete files, no temp files or claims, no stale failed.json, summary ==
    the items on disk."""
    dirs = sorted(p.name for p in (out / "items").iterdir())
    assert dirs == [f"seed{s:04d}_smile" for s in range(n_items)], dirs
    for name in dirs:
        files = sorted(p.name for p in (out / "items" / name).iterdir())
        assert files == ["before_after.png", "latent.npz", "result.json"], (name, files)
        assert os.path.getsize(out / "items" / name / "before_after.png") == 2048
        assert json.loads((out / "items" / name / "result.json").read_text())["batch_options"] == {
            "strength": 1.0
        }
    assert leftovers(out) == []
    rows = (out / "summary.csv").read_text().splitlines()[1:]
    assert sorted(int(r.split(",")[0]) for r in rows) == list(range(n_items))


def many_writers_round(
    root: Path, rng: random.Random, n_items: int = 12, sharded: bool = False, sleep: float = 0.05
) -> dict:
    """2-4 writers on one folder, some SIGKILLed at random moments, then one re-run; returns what happened."""
    out = root / "batch"
    n = rng.randint(2, 4)
    procs = [
        _writer(
            out,
            "--items",
            str(n_items),
            "--sleep",
            str(sleep),
            *(["--shard", f"{i % 2}/2"] if sharded else []),
        )
        for i in range(n)
    ]
    killed = set(rng.sample(range(n), rng.randint(0, n - 1)))
    time.sleep(rng.uniform(0.3, 1.5))
    for i in killed:
        procs[i].kill()
    codes = [p.wait(timeout=120) for p in procs]
    for i, code in enumerate(codes):
        assert code == (-9 if i in killed and code != 0 else 0), (i, code)
    journal = [line.split() for line in (root / "journal.log").read_text().splitlines()]
    survivors = {str(p.pid) for i, p in enumerate(procs) if i not in killed}
    by_survivors = [name for name, pid in journal if pid in survivors]
    assert len(by_survivors) == len(set(by_survivors)), "two live processes computed one item"
    rerun = _writer(out, "--items", str(n_items))
    assert rerun.wait(timeout=120) == 0
    check_batch_folder(out, n_items)
    return {
        "writers": n,
        "killed": len(killed),
        "killed_mid_run": sum(c == -9 for c in codes),
        "computed_before_rerun": len(journal),
        "computed_by_rerun": len((root / "journal.log").read_text().splitlines()) - len(journal),
    }


@pytest.mark.parametrize("sharded", [False, True])
def test_many_writers_one_folder(tmp_path, sharded):
    rng = random.Random(20 + sharded)
    for round_ in range(3):
        many_writers_round(tmp_path / f"r{round_}", rng, sharded=sharded)


def test_concurrent_writers_compute_each_item_once(tmp_path):
    out = tmp_path / "batch"
    procs = [_writer(out, "--items", "10", "--sleep", "0.1") for _ in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    names = [line.split()[0] for line in (tmp_path / "journal.log").read_text().splitlines()]
    assert sorted(names) == sorted(set(names)) and len(names) == 10
    check_batch_folder(out, 10)


def test_a_failing_item_fails_its_process(tmp_path):
    out = tmp_path / "batch"
    p = _writer(out, "--items", "4", "--fail", "2")
    assert p.wait(timeout=60) == 1
    assert (out / "items/seed0002_smile/failed.json").exists()
    assert not (out / "items/seed0002_smile/result.json").exists()
