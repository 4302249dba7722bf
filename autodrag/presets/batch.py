"""Batches of preset edits over seeds: resumable, shardable, safe with many writers on one folder.

Layout of a batch folder:
    items/seed0003_close_eyes/result.json   (the item finished; it records the options that made it)
    items/seed0003_close_eyes/failed.json   (or: the reason it failed; retried on re-runs; never both)
    items/.seed0003_close_eyes.claim        (while a process computes the item: its pid and host, locked)
    summary.csv, index.html                 (rebuilt from the item folders by each process as it finishes)

An item is claimed (an exclusive lock on its claim file, which the kernel drops when the owner dies, so a
dead owner's claim is taken over) before it is computed; it is computed into a staging folder that then
replaces the item folder, so an item folder always holds one complete outcome.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import html
import io
import json
import os
import shutil
import socket
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autodrag.atomic import replace_dir, staging_dir, sweep_stale, write_json_atomic, write_text_atomic
from autodrag.presets.registry import PRESETS

__all__ = [
    "BatchItem",
    "BatchRun",
    "batch_problem",
    "build_report",
    "item_state",
    "plan_items",
    "run_batch",
    "run_items",
    "shard_from_env",
    "shard_of",
]

STATUSES = ("done", "skipped", "failed", "busy", "conflict")


@dataclass(frozen=True)
class BatchItem:
    seed: int
    preset: str  # one preset name, or several joined by '+'

    @property
    def name(self) -> str:
        return f"seed{self.seed:04d}_{self.preset}"


def plan_items(seeds: list[int], presets: list[str]) -> list[BatchItem]:
    """Every (seed, preset) pair, seed-major."""
    return [BatchItem(s, p) for s in seeds for p in presets]


def shard_of(items: list[BatchItem], index: int, count: int) -> list[BatchItem]:
    """Items of shard `index` (0-based) out of `count`: every count-th item."""
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"shard must be i/N with 0 <= i < N, got {index}/{count}")
    return items[index::count]


def shard_from_env() -> tuple[int, int] | None:
    """(RANK, WORLD_SIZE) when running under torchrun, else None."""
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:
        return int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    return None


# -- claims and locks ---------------------------------------------------------------------------------------


def _lock(path: Path, blocking: bool) -> int | None:
    """An exclusive lock on `path` (created if needed) as an open fd, or None when another process holds it.

    Checks after locking that `path` still names the locked file (a releasing owner unlinks it), else retries.
    """
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(
                fd,
                json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}).encode(),
            )
            return fd
        os.close(fd)


def _unlock(path: Path, fd: int) -> None:
    path.unlink(missing_ok=True)  # while still locked: a waiter then sees a new inode and retries
    os.close(fd)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = _lock(path, blocking=True)
    try:
        yield
    finally:
        _unlock(path, fd)


def _sweep(items_dir: Path) -> None:
    """Remove what killed processes left: owner-named temp folders/files and claims nobody holds."""
    sweep_stale(items_dir, max_depth=1)
    for claim in items_dir.glob(".*.claim"):
        fd = _lock(claim, blocking=False)
        if fd is not None:
            _unlock(claim, fd)


# -- item records -------------------------------------------------------------------------------------------


def _json_normal(options: dict | None) -> dict | None:
    return None if options is None else json.loads(json.dumps(options, sort_keys=True, default=str))


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def item_state(item_dir: Path, options: dict | None = None) -> str:
    """'done' (result.json made with `options`), 'conflict' (made with other options), 'corrupt', 'failed' or
    'missing'. With `options` None any readable result.json counts as done."""
    result = item_dir / "result.json"
    if result.exists():
        record = _read_json(result)
        if record is None:
            return "corrupt"
        if options is None or record.get("batch_options") == _json_normal(options):
            return "done"
        return "conflict"
    return "failed" if (item_dir / "failed.json").exists() else "missing"


def _differences(item_dir: Path, options: dict) -> str:
    record = _read_json(item_dir / "result.json") or {}
    old = record.get("batch_options")
    if not isinstance(old, dict):
        return "options not recorded"
    new = _json_normal(options)
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return ", ".join(f"{k} {old.get(k)!r} -> {new.get(k)!r}" for k in keys[:3])


def _compute(
    item: BatchItem, item_dir: Path, edit_one: Callable[[BatchItem, Path], dict], options: dict | None
) -> str:
    """Run `edit_one` into a staging folder, then put it in place of `item_dir`: 'done' or 'failed'."""
    stage = staging_dir(item_dir)
    try:
        try:
            edit_one(item, stage)
            record = _read_json(stage / "result.json")
            if record is None:
                raise RuntimeError("the edit wrote no readable result.json")
            if options is not None:
                record["batch_options"] = _json_normal(options)
                write_json_atomic(stage / "result.json", record)
            (stage / "failed.json").unlink(missing_ok=True)
            status = "done"
        except Exception as exc:  # one item's failure must not stop the batch
            shutil.rmtree(stage)
            stage.mkdir()
            write_json_atomic(
                stage / "failed.json",
                {
                    "seed": item.seed,
                    "preset": item.preset,
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(limit=4),
                    "batch_options": _json_normal(options),
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                },
            )
            status = "failed"
        replace_dir(stage, item_dir)
        return status
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def _run_one(item: BatchItem, items_dir: Path, edit_one, options: dict | None, force: bool) -> str:
    item_dir = items_dir / item.name
    state = item_state(item_dir, options)
    if state == "done":
        return "skipped"
    if state == "conflict" and not force:
        return "conflict"
    claim = items_dir / f".{item.name}.claim"
    fd = _lock(claim, blocking=False)
    if fd is None:
        return "busy"
    try:
        state = item_state(
            item_dir, options
        )  # again, now that it is ours: another process may have finished it
        if state == "done":
            return "skipped"
        if state == "conflict" and not force:
            return "conflict"
        return _compute(item, item_dir, edit_one, options)
    finally:
        _unlock(claim, fd)


def run_items(
    out: Path,
    items: list[BatchItem],
    edit_one: Callable[[BatchItem, Path], dict],
    progress: Callable[[BatchItem, str], None] | None = None,
    *,
    options: dict | None = None,
    force: bool = False,
    wait: bool = True,
    poll: float = 0.5,
    conflicts: list[str] | None = None,
) -> dict[str, int]:
    """Run each unfinished item with `edit_one(item, item_dir)`; record failures and go on.

    Args:
        options: what makes an item (strength, steps, ...), recorded in its result.json; an item made with
            other options is a 'conflict' (left alone) unless `force` redoes it. None: not checked.
        wait: wait for items another live process is computing (then count them as it left them).
        conflicts: filled with "item: differences" lines for the conflicting items.
    Returns counts: done (this run), skipped (finished before), failed, busy (another process still has
    them; only without `wait`), conflict.
    """
    out = Path(out)
    items_dir = out / "items"
    items_dir.mkdir(parents=True, exist_ok=True)
    _sweep(items_dir)
    counts = dict.fromkeys(STATUSES, 0)
    pending = list(items)
    while pending:
        busy = []
        for item in pending:
            status = _run_one(item, items_dir, edit_one, options, force)
            if status == "busy":
                busy.append(item)
                continue
            if status == "conflict" and conflicts is not None:
                conflicts.append(f"{item.name}: {_differences(items_dir / item.name, options)}")
            counts[status] += 1
            if progress is not None:
                progress(item, status)
        if busy and not wait:
            counts["busy"] = len(busy)
            for item in busy:
                if progress is not None:
                    progress(item, "busy")
            break
        pending = busy
        if pending:
            time.sleep(poll)
    return counts


def _records(out: Path) -> list[dict]:
    records = []
    for item_dir in sorted((out / "items").glob("*")):
        if item_dir.name.startswith(".") or not item_dir.is_dir():
            continue
        rec = _read_json(item_dir / "result.json")
        if rec is not None and isinstance(rec.get("success"), dict):
            rec["status"] = "ok" if all(rec["success"].values()) else "missed"
        else:
            rec = _read_json(item_dir / "failed.json") if not (item_dir / "result.json").exists() else None
            if rec is None:
                continue
            rec["status"] = "failed"
        rec["dir"] = item_dir.name
        records.append(rec)
    return records


def _stats(records: list[dict]) -> dict[str, dict]:
    stats: dict[str, dict] = {}
    for rec in records:
        s = stats.setdefault(rec["preset"], {"items": 0, "ok": 0, "failed": 0, "md": [], "seconds": []})
        s["items"] += 1
        s["ok"] += rec["status"] == "ok"
        s["failed"] += rec["status"] == "failed"
        if "md_px" in rec:
            s["md"].append(rec["md_px"])
            s["seconds"].append(rec["seconds"])
    return stats


def _fmt(values: np.ndarray, reduce, digits: int = 2) -> str:
    values = values[np.isfinite(values)]
    return f"{reduce(values):.{digits}f}" if values.size else "n/a"


def build_report(out: Path, title: str = "AutoDrag batch") -> dict[str, dict]:
    """Write summary.csv and index.html from the item folders on disk; return per-preset statistics.

    Builds are serialised by a lock, so the process that finishes last writes a report of every item.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with _locked(out / ".report.lock"):
        return _build_report(out, title)


def _build_report(out: Path, title: str) -> dict[str, dict]:
    records = _records(out)
    buf = io.StringIO()
    writer = csv.writer(buf)
    keys = ["seed", "preset", "status", "md_px", "steps", "seconds", "stop_reason", "error"]
    writer.writerow(keys)
    for rec in records:
        writer.writerow([rec.get(k, "") for k in keys])
    write_text_atomic(out / "summary.csv", buf.getvalue())
    stats = _stats(records)
    rows = []
    for preset, s in stats.items():
        md = np.array(s["md"] or [np.nan])
        secs = np.array(s["seconds"] or [np.nan])
        criterion = " + ".join(PRESETS[p].success_text for p in preset.split("+") if p in PRESETS)
        rows.append(
            f"<tr><td>{html.escape(preset)}</td><td>{s['ok']}/{s['items']} "
            f"({100 * s['ok'] / max(1, s['items']):.0f}%)</td><td>{s['failed']}</td>"
            f"<td>{_fmt(md, np.mean)} / {_fmt(md, np.median)} / {_fmt(md, np.max)}</td>"
            f"<td>{_fmt(secs, np.median, 1)}</td><td>{html.escape(criterion)}</td></tr>"
        )
    cards = []
    for rec in records:
        label = f"seed {rec['seed']} · {html.escape(rec['preset'])} · {rec['status']}"
        if rec["status"] == "failed":
            body = f"<pre>{html.escape(rec.get('error', ''))}</pre>"
        else:
            body = (
                f"<img src='items/{rec['dir']}/before_after.png' width='384'>"
                f"<br>MD {rec['md_px']:.2f} px · {rec['steps']} steps · {rec['seconds']:.1f} s"
            )
        cards.append(f"<div class='card {rec['status']}'><b>{label}</b><br>{body}</div>")
    page = f"""<!doctype html><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif}} .card{{display:inline-block;margin:6px;padding:6px;border:2px solid #ccc;
vertical-align:top}} .ok{{border-color:#3a3}} .missed{{border-color:#d90}} .failed{{border-color:#c33}}
td,th{{padding:2px 10px;text-align:left}}</style>
<h1>{html.escape(title)}</h1>
<table><tr><th>preset</th><th>success</th><th>failed</th><th>MD px mean / median / max</th><th>median s</th>
<th>success means (and MD &le; 2% of the width)</th></tr>{"".join(rows)}</table>
<p>Left: before, with landmarks (green), handles (red), targets (blue) and the fixed region dimmed.
Right: after, with the re-detected landmarks.</p>{"".join(cards)}"""
    write_text_atomic(out / "index.html", page)
    return stats


def batch_problem(counts: dict[str, int], n_items: int, out: Path, conflicts: list[str]) -> str | None:
    """The one line a batch ends with when it did not finish cleanly (None when it did): items made with
    other options (`run_items(..., conflicts=)`) or failed items. The CLIs raise it as their error."""
    if counts["conflict"]:
        return (
            f"{counts['conflict']} item(s) in {out} were made with other options ({conflicts[0]}): re-run "
            "with --force to redo them, or use another --out"
        )
    if counts["failed"]:
        return (
            f"{counts['failed']} of {n_items} item(s) failed; the reasons are in "
            f"{out / 'items'}/*/failed.json (a re-run retries them)"
        )
    return None


@dataclass
class BatchRun:
    """What `run_batch` did: item counts, the report's per-preset stats, option conflicts, seconds taken."""

    counts: dict[str, int]
    stats: dict[str, dict]
    conflicts: list[str]
    seconds: float

    def summary(self, out: Path) -> str:
        c = self.counts
        return (
            f"{c['done']} edited, {c['skipped']} already done, {c['failed']} failed in {self.seconds:.0f} s; "
            f"report: {out / 'index.html'}"
        )


def run_batch(
    out: Path,
    items: list,
    edit_one: Callable,
    *,
    options: dict,
    force: bool,
    desc: str,
    report: Callable[[Path], dict[str, dict]],
) -> BatchRun:
    """`run_items` behind a progress bar; `report(out)` rebuilds the page at the end, after Ctrl-C too."""
    from tqdm import tqdm

    conflicts: list[str] = []
    bar = tqdm(total=len(items), desc=desc, unit="edit")
    started = time.perf_counter()
    try:
        counts = run_items(
            out,
            items,
            edit_one,
            options=options,
            force=force,
            conflicts=conflicts,
            progress=lambda item, status: (bar.update(1), bar.set_postfix_str(f"{item.name} {status}")),
        )
    finally:  # Ctrl-C too: the report shows what is on disk
        bar.close()
        stats = report(out)
    return BatchRun(counts, stats, conflicts, time.perf_counter() - started)
