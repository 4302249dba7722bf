"""Batches of preset edits over seeds: resumable, shardable, a failure per item never stops the rest.

Layout of a batch folder:
    items/seed0003_close_eyes/result.json   (written last: its presence marks the item finished)
    items/seed0003_close_eyes/failed.json   (the reason, when the item failed; retried on re-runs)
    summary.csv, index.html                 (rebuilt from the item folders at the end of every run)
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autodrag.atomic import write_json_atomic, write_text_atomic
from autodrag.presets.registry import PRESETS

__all__ = ["BatchItem", "build_report", "plan_items", "run_items", "shard_from_env", "shard_of"]


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


def run_items(out: Path, items: list[BatchItem], edit_one: Callable[[BatchItem, Path], dict],
              progress: Callable[[BatchItem, str], None] | None = None) -> dict[str, int]:
    """Run each unfinished item with `edit_one(item, item_dir)`; record failures and go on.

    Returns counts: done (this run), skipped (finished before), failed.
    """
    counts = {"done": 0, "skipped": 0, "failed": 0}
    for item in items:
        item_dir = out / "items" / item.name
        if (item_dir / "result.json").exists():
            counts["skipped"] += 1
            status = "skipped"
        else:
            try:
                edit_one(item, item_dir)
            except Exception as exc:  # one item's failure must not stop the batch
                item_dir.mkdir(parents=True, exist_ok=True)
                write_json_atomic(item_dir / "failed.json", {
                    "seed": item.seed, "preset": item.preset, "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(limit=4)})
                counts["failed"] += 1
                status = "failed"
            else:
                (item_dir / "failed.json").unlink(missing_ok=True)
                counts["done"] += 1
                status = "done"
        if progress is not None:
            progress(item, status)
    return counts


def _records(out: Path) -> list[dict]:
    records = []
    for item_dir in sorted((out / "items").glob("*")):
        if (item_dir / "result.json").exists():
            rec = json.loads((item_dir / "result.json").read_text())
            rec["status"] = "ok" if all(rec["success"].values()) else "missed"
        elif (item_dir / "failed.json").exists():
            rec = json.loads((item_dir / "failed.json").read_text())
            rec["status"] = "failed"
        else:
            continue
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
    """Write summary.csv and index.html from the item folders; return per-preset statistics."""
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
        rows.append(f"<tr><td>{html.escape(preset)}</td><td>{s['ok']}/{s['items']} "
                    f"({100 * s['ok'] / max(1, s['items']):.0f}%)</td><td>{s['failed']}</td>"
                    f"<td>{_fmt(md, np.mean)} / {_fmt(md, np.median)} / {_fmt(md, np.max)}</td>"
                    f"<td>{_fmt(secs, np.median, 1)}</td><td>{html.escape(criterion)}</td></tr>")
    cards = []
    for rec in records:
        label = f"seed {rec['seed']} · {html.escape(rec['preset'])} · {rec['status']}"
        if rec["status"] == "failed":
            body = f"<pre>{html.escape(rec.get('error', ''))}</pre>"
        else:
            body = (f"<img src='items/{rec['dir']}/before_after.png' width='384'>"
                    f"<br>MD {rec['md_px']:.2f} px · {rec['steps']} steps · {rec['seconds']:.1f} s")
        cards.append(f"<div class='card {rec['status']}'><b>{label}</b><br>{body}</div>")
    page = f"""<!doctype html><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif}} .card{{display:inline-block;margin:6px;padding:6px;border:2px solid #ccc;
vertical-align:top}} .ok{{border-color:#3a3}} .missed{{border-color:#d90}} .failed{{border-color:#c33}}
td,th{{padding:2px 10px;text-align:left}}</style>
<h1>{html.escape(title)}</h1>
<table><tr><th>preset</th><th>success</th><th>failed</th><th>MD px mean / median / max</th><th>median s</th>
<th>success means (and MD &le; 2% of the width)</th></tr>{''.join(rows)}</table>
<p>Left: before, with landmarks (green), handles (red), targets (blue) and the fixed region dimmed.
Right: after, with the re-detected landmarks.</p>{''.join(cards)}"""
    write_text_atomic(out / "index.html", page)
    return stats
