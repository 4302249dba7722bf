"""The reliability corpus (issue #18): every bad input a user can give is one `Error:` line, the right exit
code (2 usage, 1 run failure), no traceback, and the output folder as it was (or one complete new run)."""

from __future__ import annotations

import errno
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from autodrag.cli import main
from tests.presets.test_edit import FixedLandmarks
from tests.reliability.conftest import leftovers, snapshot


@dataclass
class Env:
    tmp: Path
    tiny: Path
    nan: Path

    @property
    def out(self) -> Path:
        return self.tmp / "out"

    def file(self, name: str = "a_file", text: str = "x") -> Path:
        path = self.tmp / name
        path.write_text(text)
        return path

    def npz(self, name: str, ws) -> Path:
        np.savez(self.tmp / name, ws=ws)
        return self.tmp / name


def _tiny(env: Env) -> list[str]:
    return ["--ckpt", str(env.tiny), "--device", "cpu"]


def _edit(env: Env, *args: str) -> list[str]:
    return ["edit", "--preset", "close_eyes", "--steps", "2", *_tiny(env), *args]


def _batch(env: Env, *args: str) -> list[str]:
    return ["batch", "--seeds", "0-1", "--presets", "close_eyes", "--steps", "2", *_tiny(env), *args]


def _drag(env: Env, *args: str) -> list[str]:
    return ["drag", "--point", "30,30:30,34", "--steps", "2", *_tiny(env), *args]


def _generate(env: Env, *args: str) -> list[str]:
    return ["generate", "--seeds", "0", *_tiny(env), *args]


def _script(env: Env, text: str) -> list[str]:
    return ["gui", "--script", str(env.file("events.json", text))]


# id -> (argv(env), exit code, text of the one Error: line)
CASES = {
    "generate-out-is-file": (
        lambda e: _generate(e, "--outdir", str(e.file())),
        2,
        "exists and is not a folder",
    ),
    "generate-out-under-file": (
        lambda e: _generate(e, "--outdir", str(e.file() / "sub")),
        2,
        "is a file, not a folder",
    ),
    "drag-out-is-file": (lambda e: _drag(e, "--out", str(e.file())), 2, "is a file"),
    "drag-out-under-file": (lambda e: _drag(e, "--out", str(e.file() / "sub")), 2, "is a file, not a folder"),
    "edit-out-is-file": (lambda e: _edit(e, "--out", str(e.file())), 2, "exists and is not a folder"),
    "edit-out-under-file": (lambda e: _edit(e, "--out", str(e.file() / "sub")), 2, "is a file, not a folder"),
    "batch-out-is-file": (lambda e: _batch(e, "--out", str(e.file())), 2, "exists and is not a folder"),
    "batch-out-under-file": (lambda e: _batch(e, "--out", str(e.file() / "x")), 2, "is a file, not a folder"),
    "generate-nan-weights": (
        lambda e: ["generate", "--ckpt", str(e.nan), "--outdir", str(e.out)],
        1,
        "nan_torgb.safetensors: weight synthesis.",
    ),
    "drag-nan-weights": (
        lambda e: ["drag", "--ckpt", str(e.nan), "--point", "1,1:2,2", "--out", str(e.out)],
        1,
        "nan_torgb.safetensors: weight synthesis.",
    ),
    "edit-nan-weights": (
        lambda e: ["edit", "--preset", "smile", "--ckpt", str(e.nan), "--out", str(e.out)],
        1,
        "contains NaN or inf",
    ),
    "info-missing": (lambda e: ["info", str(e.tmp / "nope.pkl")], 1, "nope.pkl: no such file"),
    "info-not-a-checkpoint": (lambda e: ["info", str(e.file("junk.pkl", "not a pickle"))], 1, "junk.pkl"),
    "edit-seed-negative": (lambda e: _edit(e, "--seed", "-1", "--out", str(e.out)), 2, "'--seed'"),
    "edit-seed-too-large": (lambda e: _edit(e, "--seed", str(2**32), "--out", str(e.out)), 2, "'--seed'"),
    "edit-strength-zero": (lambda e: _edit(e, "--strength", "0", "--out", str(e.out)), 2, "'--strength'"),
    "batch-strength-zero": (lambda e: _batch(e, "--strength", "0", "--out", str(e.out)), 2, "'--strength'"),
    "edit-latent-strings": (
        lambda e: _edit(e, "--latent", str(e.npz("s.npz", np.array(["a", "b"]))), "--out", str(e.out)),
        2,
        "s.npz: ws holds <U1 values, not numbers",
    ),
    "drag-latent-strings": (
        lambda e: _drag(e, "--latent", str(e.npz("s.npz", np.array(["a"]))), "--out", str(e.out)),
        2,
        "s.npz: ws holds <U1 values",
    ),
    "edit-latent-nan": (
        lambda e: _edit(
            e, "--latent", str(e.npz("n.npz", np.full(64, np.nan, np.float32))), "--out", str(e.out)
        ),
        2,
        "n.npz: ws contains NaN",
    ),
    "drag-latent-missing": (
        lambda e: _drag(e, "--latent", str(e.tmp / "no.npz"), "--out", str(e.out)),
        2,
        "no.npz: no such latent file",
    ),
    "edit-latent-not-npz": (
        lambda e: _edit(e, "--latent", str(e.file("w.npz", "text")), "--out", str(e.out)),
        2,
        "w.npz: not a readable",
    ),
    "drag-no-point": (lambda e: ["drag", *_tiny(e), "--out", str(e.out)], 2, "give at least one --point"),
    "drag-bad-point": (
        lambda e: ["drag", *_tiny(e), "--point", "1,2", "--out", str(e.out)],
        2,
        "ROW,COL:ROW,COL",
    ),
    "drag-mask-missing": (
        lambda e: _drag(e, "--mask", str(e.tmp / "m.png"), "--out", str(e.out)),
        2,
        "m.png",
    ),
    "edit-unknown-preset": (
        lambda e: ["edit", "--preset", "frown", "--out", str(e.out)],
        2,
        "unknown preset",
    ),
    "batch-bad-shard": (lambda e: _batch(e, "--shard", "3/2", "--out", str(e.out)), 2, "expected i/N"),
    "batch-bad-seeds": (
        lambda e: ["batch", "--seeds", "5-1", "--presets", "smile", "--out", str(e.out)],
        2,
        "range end is below its start",
    ),
    "landmarks-noise": (lambda e: ["landmarks", str(_noise_png(e.tmp / "noise.png"))], 1, "no face found"),
    "landmarks-not-image": (lambda e: ["landmarks", str(e.file("x.png", "text"))], 1, "x.png: cannot read"),
    "gui-script-missing": (
        lambda e: ["gui", "--script", str(e.tmp / "none.json")],
        2,
        "none.json: cannot read",
    ),
    "gui-script-malformed": (lambda e: _script(e, "[{"), 2, "not valid JSON"),
    "gui-script-not-list": (lambda e: _script(e, '{"click": "Start"}'), 2, "must be a JSON list"),
    "gui-script-frame-string": (
        lambda e: _script(e, '[{"click": "Start", "frame": "ten"}]'),
        2,
        "frame must be a whole number",
    ),
    "gui-script-unknown-key": (lambda e: _script(e, '[{"klick": "Start"}]'), 2, "unknown key 'klick'"),
    "gui-script-image-words": (lambda e: _script(e, '[{"image": ["a", 2]}]'), 2, "image must be [row, col]"),
}


def _noise_png(path: Path) -> Path:
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8)).save(path)
    return path


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("Error:")]


@pytest.fixture()
def env(tmp_path, tiny_ckpt, nan_ckpt, monkeypatch) -> Env:
    monkeypatch.setattr("autodrag.presets.cli.detector_for", lambda *a, **k: FixedLandmarks(64))
    return Env(tmp_path, tiny_ckpt, nan_ckpt)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line(env, case):
    argv, code, text = CASES[case]
    args = argv(env)
    before = snapshot(env.tmp)
    result = CliRunner().invoke(main, args)
    assert "Traceback" not in result.output, result.output
    lines = error_lines(result)
    assert len(lines) == 1 and text in lines[0], result.output
    assert result.exit_code == code, result.output
    assert snapshot(env.tmp) == before  # nothing written, nothing removed
    assert leftovers(env.tmp) == []


def test_debug_shows_the_traceback(env):
    args = _edit(env, "--latent", str(env.tmp / "no.npz"), "--out", str(env.out))
    assert "Traceback" not in CliRunner().invoke(main, args).stderr
    result = CliRunner().invoke(main, ["--debug", *args])
    assert result.exit_code == 2 and "Traceback" in result.stderr and len(error_lines(result)) == 1
    result = CliRunner(env={"AUTODRAG_DEBUG": "1"}).invoke(main, args)
    assert "Traceback" in result.stderr


def test_a_bug_is_one_line_too(env, monkeypatch):
    def broken(*args, **kwargs):
        raise TypeError("an unexpected bug")

    monkeypatch.setattr("autodrag.presets.cli.run_edit", broken)
    result = CliRunner().invoke(main, _edit(env, "--out", str(env.out)))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (
        "internal error: TypeError: an unexpected bug" in error_lines(result)[0]
        and "--debug" in result.stderr
    )


def _edit_ok(env: Env, out: Path, seed: int = 1):
    result = CliRunner().invoke(main, _edit(env, "--seed", str(seed), "--out", str(out)))
    assert result.exit_code == 0, result.output
    return snapshot(out)


@pytest.mark.parametrize("fault", ["enospc", "ctrl-c"])
@pytest.mark.parametrize("command", ["edit", "drag"])
def test_fault_mid_write_keeps_the_previous_run(env, monkeypatch, command, fault):
    """A full disk or Ctrl-C while the outputs are written: the folder keeps the previous run, whole."""
    out = env.out
    out.mkdir()
    (out / "mine.txt").write_text("not ours")  # a file the user keeps in the folder: never touched
    argv = (
        _edit(env, "--seed", "2", "--out", str(out)) if command == "edit" else _drag(env, "--out", str(out))
    )
    assert CliRunner().invoke(main, argv).exit_code == 0
    before = snapshot(out)
    calls = {"n": 0}
    import autodrag.images as images

    real = images.save_gif

    def failing(path, *a, **k):
        calls["n"] += 1
        Path(path).write_bytes(b"half")  # a partial file in the staging folder
        if fault == "enospc":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        raise KeyboardInterrupt

    target = "autodrag.presets.outputs.save_gif" if command == "edit" else "autodrag.drag.cli.save_gif"
    monkeypatch.setattr(target, failing)
    argv2 = (
        [*argv[:-2], "--seed", "5", *argv[-2:]]
        if command == "drag"
        else _edit(env, "--seed", "5", "--out", str(out))
    )
    result = CliRunner().invoke(main, argv2)
    assert calls["n"] == 1 and real is images.save_gif
    assert "Traceback" not in result.output
    if fault == "enospc":
        assert result.exit_code == 1 and "no space left on the device" in error_lines(result)[0]
        assert (
            f"{out}/" in error_lines(result)[0] and ".tmp" not in error_lines(result)[0]
        )  # names the real file
    else:
        assert result.exit_code == 130 and "interrupted" in error_lines(result)[0]
    assert snapshot(out) == before and leftovers(env.tmp) == []
    assert (out / "mine.txt").read_text() == "not ours"


def test_new_run_replaces_every_file_of_the_old(env):
    """A run without GIFs after one with them: no GIF of the old run stays beside the new result."""
    out = env.out
    assert CliRunner().invoke(main, _edit(env, "--seed", "1", "--out", str(out))).exit_code == 0
    assert (out / "edit.gif").exists()
    rec1 = json.loads((out / "result.json").read_text())
    first = snapshot(out)
    result = CliRunner().invoke(
        main,
        ["edit", "--preset", "close_eyes", "--steps", "1", *_tiny(env), "--seed", "4", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    rec2 = json.loads((out / "result.json").read_text())
    assert rec1["seed"] == 1 and rec2["seed"] == 4 and rec2["steps"] == 1
    second = snapshot(out)
    assert set(second) <= set(first) and all(
        second[k] != first[k] for k in second
    )  # each file is the new run's
    assert leftovers(env.tmp) == []


def test_ctrl_c_while_starting_is_one_line():
    """SIGINT during the seconds of imports (torch) before the command runs: exit 130, one line, no traceback."""
    import signal
    import subprocess
    import sys
    import time

    def default_sigint() -> None:  # a backgrounded run (`cmd &`) would hand its ignored SIGINT down
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    command = [sys.executable, "-m", "autodrag.cli", "info", "x.pkl"]
    start = time.perf_counter()
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint) as probe:
        probe.stderr.readline()  # the command's one-line error: the end of the start-up window
        window = time.perf_counter() - start  # on this machine, now
        probe.communicate(timeout=120)
    outcomes = []
    for fraction in (0.15, 0.3, 0.45, 0.6, 0.75):  # several moments inside the start-up window
        proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
        delay = fraction * window
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        if err.strip() == "Error: x.pkl: no such file":
            continue  # the command had run (and maybe was exiting: -SIGINT) when the signal arrived
        if "KeyboardInterrupt" in err and "autodrag/cli.py" not in err:
            continue  # the signal came during Python's start-up, before autodrag/cli.py began
        outcomes.append((delay, proc.returncode, err))
        assert proc.returncode == 130 and err.strip() == "Error: interrupted", (
            delay,
            proc.returncode,
            err[-800:],
        )
    why = f"every signal landed outside the start-up window ({window:.1f} s here)"
    if not outcomes:
        pytest.skip(reason=why)
