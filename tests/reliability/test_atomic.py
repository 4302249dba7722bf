"""The output rule's building blocks: owner-named temp files, the stale-temp sweep, staged outputs."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from autodrag.atomic import commit_files, staged_outputs, sweep_stale, temp_name, write_atomic


def _dead_pid() -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(proc.stdout)


def test_temp_names_carry_pid_thread_and_randomness():
    a, b = temp_name("x.png"), temp_name("x.png")
    assert a != b and re.fullmatch(rf"\.x\.png\.{os.getpid()}\.\d+\.[0-9a-f]{{8}}\.tmp", a)


def test_sweep_removes_only_dead_owners_temp_files(tmp_path):
    dead = _dead_pid()
    (tmp_path / "sub").mkdir()
    stale = [
        tmp_path / f".a.png.{dead}.1.abcd0123.tmp",
        tmp_path / f".latest.pt.{dead}.tmp",
        tmp_path / "sub" / f".b.npz.{dead}.7.00ff00ff.tmp",
    ]
    for p in stale:
        p.write_text("half")
    (tmp_path / f".stage.{dead}.3.deadbeef.tmp").mkdir()  # a killed run's staging folder
    live = tmp_path / f".c.png.{os.getppid()}.1.abcd0123.tmp"  # the parent process is alive
    mine = tmp_path / temp_name("d.png")
    keep = tmp_path / "result.json"
    for p in (live, mine, keep):
        p.write_text("x")
    removed = sweep_stale(tmp_path)
    assert sorted(removed) == sorted([*stale, tmp_path / f".stage.{dead}.3.deadbeef.tmp"])
    assert live.exists() and mine.exists() and keep.exists()


def test_write_atomic_removes_its_temp_on_failure(tmp_path):
    def fail(tmp):
        tmp.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "a.json", fail)
    assert list(tmp_path.iterdir()) == []


def test_commit_files_replaces_owned_files_and_keeps_others(tmp_path):
    target, stage = tmp_path / "out", tmp_path / "stage"
    target.mkdir()
    stage.mkdir()
    for name in ("result.json", "edit.gif", "edited.png", "notes.txt"):
        (target / name).write_text("old")
    (stage / "edited.png").write_text("new")
    (stage / "result.json").write_text("new")
    commit_files(stage, target, owned=("result.json", "edit.gif", "edited.png"), marker="result.json")
    assert {p.name: p.read_text() for p in target.iterdir()} == {
        "result.json": "new",
        "edited.png": "new",
        "notes.txt": "old",
    }  # the old run's GIF is gone
    assert not stage.exists()


def test_staged_outputs_leave_the_target_untouched_on_failure(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "result.json").write_text("previous")
    with (
        pytest.raises(OSError),
        staged_outputs(target, ("result.json", "a.png"), marker="result.json") as stage,
    ):
        (stage / "a.png").write_text("half")
        raise OSError(28, "No space left on device")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert [p.name for p in target.iterdir()] == ["result.json"] and (
        target / "result.json"
    ).read_text() == "previous"
    with staged_outputs(target) as stage:  # no marker: the whole folder is replaced
        (stage / "b.png").write_text("new")
    assert [p.name for p in target.iterdir()] == ["b.png"] and [p.name for p in tmp_path.iterdir()] == ["out"]
