"""Fault injection for the reliability figures (docs/RELIABILITY.md): kills and full disks.

    .venv/bin/python scripts/fault_inject.py [--rounds 20] [--cli-rounds 4] [--no-disk] [--json out.json]

1. many writers: 2-4 batch processes (`run_items` with a quick fake edit, forked) on one folder, plain or
   --shard, SIGKILL some at random moments, re-run; check every item exactly once, complete files, no temp
   files or claims, no stale failed.json, summary == items on disk, exit codes.
2. the real `autodrag batch` (bundled model, 3 steps): 2-3 processes on one --out, SIGKILL or SIGINT at random
   moments, re-run; the same checks plus: no traceback, one `Error:` line when an exit is non-zero.
3. full disk: a small tmpfs (when root and mounting works; else the part is skipped and says so) filled to
   a few hundred KB, then `generate`, `drag`, `edit`, `batch` into it: exit 1, one line, no temp files, the
   previous run untouched; then room is made and the batch re-run completes.
Prints one JSON line of counts: cases, tracebacks, unclear, leftovers, data_lost.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.reliability.test_batches import many_writers_round

AUTODRAG = [sys.executable, "-m", "autodrag.cli"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
COUNTS = {"cases": 0, "tracebacks": 0, "unclear": 0, "leftovers": 0, "data_lost": 0}
NOTES: list[str] = []


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith((".tmp", ".claim", ".lock"))]


def _snapshot(folder: Path) -> dict[str, str]:
    return (
        {
            str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }
        if folder.exists()
        else {}
    )


def _judge(
    name: str,
    proc: subprocess.CompletedProcess | None,
    stderr: str,
    code: int | None,
    expect_codes: tuple[int, ...],
    folder: Path | None,
) -> None:
    COUNTS["cases"] += 1
    if "Traceback" in stderr:
        COUNTS["tracebacks"] += 1
        NOTES.append(f"{name}: traceback")
    errors = [line for line in stderr.splitlines() if line.startswith("Error:")]
    if code not in expect_codes or (code not in (0, -9) and len(errors) != 1):
        COUNTS["unclear"] += 1
        NOTES.append(f"{name}: exit {code}, error lines {errors[-2:]}")
    if folder is not None and _leftovers(folder):
        COUNTS["leftovers"] += 1
        NOTES.append(f"{name}: leftovers {[str(p) for p in _leftovers(folder)][:3]}")


def _run(args: list[str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*AUTODRAG, *args], cwd=REPO, env=ENV, capture_output=True, text=True, timeout=timeout
    )


def part_many_writers(rounds: int, rng: random.Random, root: Path) -> None:
    for r in range(rounds):
        try:
            info = many_writers_round(root / f"w{r}", rng, sharded=bool(r % 2), sleep=0.15)
            COUNTS["cases"] += 1
            NOTES.append(f"writers round {r}: {info}")
        except AssertionError as exc:
            COUNTS["cases"] += 1
            COUNTS["data_lost"] += 1
            NOTES.append(f"writers round {r}: FAILED {exc}")


BATCH = ["batch", "--seeds", "0-3", "--presets", "open_mouth", "--steps", "3", "--device", "cpu"]


def _check_cli_batch(out: Path, n: int) -> list[str]:
    problems = []
    for d in sorted((out / "items").iterdir()):
        names = {p.name for p in d.iterdir()}
        if ("result.json" in names) == ("failed.json" in names):
            problems.append(f"{d.name}: result xor failed broken: {sorted(names)}")
        if (
            "result.json" in names
            and not {"before_after.png", "edited.png", "before.png", "latent.npz"} <= names
        ):
            problems.append(f"{d.name}: incomplete {sorted(names)}")
    done = len(list(out.glob("items/*/result.json")))
    if done != n:
        problems.append(f"{done} of {n} items done")
    rows = (out / "summary.csv").read_text().splitlines()[1:]
    if len(rows) != len(list((out / "items").iterdir())):
        problems.append("summary differs from the items on disk")
    return problems


def part_cli_batches(rounds: int, rng: random.Random, root: Path) -> None:
    for r in range(rounds):
        out = root / f"cli{r}" / "b"
        procs = [
            subprocess.Popen(
                [*AUTODRAG, *BATCH, "--out", str(out), *(["--shard", f"{i}/2"] if r % 2 else [])],
                cwd=REPO,
                env=ENV,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(rng.randint(2, 3))
        ]
        victim = rng.randrange(len(procs))
        sig = rng.choice([signal.SIGKILL, signal.SIGINT])
        time.sleep(rng.uniform(4, 16))
        procs[victim].send_signal(sig)
        codes = []
        for i, p in enumerate(procs):
            _, err = p.communicate(timeout=600)
            codes.append(p.returncode)
            expect = (0, -9, 130) if i == victim else (0,)
            _judge(
                f"cli round {r} proc {i} ({'killed ' + sig.name if i == victim else 'plain'})",
                None,
                err,
                p.returncode,
                expect,
                None,
            )
        again = _run([*BATCH, "--out", str(out)])
        _judge(f"cli round {r} re-run", again, again.stderr, again.returncode, (0,), out)
        NOTES.append(
            f"cli round {r}: {len(procs)} processes{' (shards)' if r % 2 else ''}, {sig.name} to one, "
            f"exit codes {codes}; re-run: {again.stdout.strip().splitlines()[0]}"
        )
        problems = _check_cli_batch(out, 4)
        if problems:
            COUNTS["data_lost"] += 1
            NOTES.append(f"cli round {r}: {problems}")


def _mount_tmpfs(path: Path, size_kb: int) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    return (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path)], capture_output=True
        ).returncode
        == 0
    )


def _fill(path: Path, leave_kb: int) -> Path:
    free = shutil.disk_usage(path).free
    filler = path / "filler.bin"
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - leave_kb * 1024))
    return filler


def part_full_disk(root: Path) -> None:
    mnt = root / "disk"
    if not _mount_tmpfs(mnt, 4096):
        NOTES.append("full disk: skipped (needs root and tmpfs mounts)")
        return
    NOTES.append("full disk: a 4 MiB tmpfs mount")
    try:
        ok = {
            "edit": _run(
                [
                    "edit",
                    "--preset",
                    "smile",
                    "--seed",
                    "1",
                    "--steps",
                    "3",
                    "--device",
                    "cpu",
                    "--out",
                    str(mnt / "edit"),
                ]
            ),
            "drag": _run(
                [
                    "drag",
                    "--point",
                    "60,50:60,56",
                    "--steps",
                    "3",
                    "--device",
                    "cpu",
                    "--out",
                    str(mnt / "drag"),
                ]
            ),
        }
        for proc in ok.values():
            assert proc.returncode == 0, proc.stderr
        before = {name: _snapshot(mnt / name) for name in ok}
        filler = _fill(mnt, 60)
        cases = {
            "generate": ["generate", "--seeds", "0-20", "--device", "cpu", "--outdir", str(mnt / "gen")],
            "edit": [
                "edit",
                "--preset",
                "smile",
                "--seed",
                "2",
                "--steps",
                "3",
                "--device",
                "cpu",
                "--out",
                str(mnt / "edit"),
            ],
            "drag": [
                "drag",
                "--seed",
                "2",
                "--point",
                "60,50:60,56",
                "--steps",
                "3",
                "--device",
                "cpu",
                "--out",
                str(mnt / "drag"),
            ],
            "batch": [*BATCH, "--out", str(mnt / "batch")],
        }
        for name, args in cases.items():
            proc = _run(args)
            _judge(f"full disk {name}", proc, proc.stderr, proc.returncode, (1,), mnt)
            NOTES.append(
                f"full disk {name}: exit {proc.returncode}, "
                f"{[ln for ln in proc.stderr.splitlines() if ln.startswith('Error:')][-1:]}"
            )
            if name in before and _snapshot(mnt / name) != before[name]:
                COUNTS["data_lost"] += 1
                NOTES.append(f"full disk {name}: the previous run changed")
        filler.unlink()
        again = _run([*BATCH, "--out", str(mnt / "batch")])
        _judge("full disk batch re-run with room", again, again.stderr, again.returncode, (0,), mnt)
        problems = _check_cli_batch(mnt / "batch", 4)
        if problems:
            COUNTS["data_lost"] += 1
            NOTES.append(f"full disk batch re-run: {problems}")
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="many-writers rounds (fake edits)")
    parser.add_argument("--cli-rounds", type=int, default=4, help="rounds with the real `autodrag batch`")
    parser.add_argument("--no-disk", action="store_true", help="skip the full-disk part")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write the counts and notes here")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fault_inject_") as tmp:
        root = Path(tmp)
        part_many_writers(args.rounds, rng, root)
        part_cli_batches(args.cli_rounds, rng, root)
        if not args.no_disk:
            part_full_disk(root)
    report = {**COUNTS, "seconds": round(time.perf_counter() - started), "notes": NOTES}
    for note in NOTES:
        print(note)
    print(json.dumps(COUNTS))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return (
        0 if COUNTS["tracebacks"] + COUNTS["unclear"] + COUNTS["leftovers"] + COUNTS["data_lost"] == 0 else 1
    )


if __name__ == "__main__":
    sys.exit(main())
