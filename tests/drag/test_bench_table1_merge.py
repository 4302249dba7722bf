"""`scripts/bench_table1.py --merge`: shards' edits make one table, each edit counted once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_table1.py"


def _record(pair: int, row: str, md: float, seconds: float) -> dict:
    return {
        "pair": [2 * pair, 2 * pair + 1], "points": 1, "row": row, "steps": 10, "seconds": seconds,
        "reason": "converged", "md": md, "no_edit_md": 4.0, "tracking_error": [0.5],
    }  # fmt: skip


def test_merge_tables_the_shards_and_gives_the_ratios(tmp_path: Path) -> None:
    a = [_record(0, "draggan", 2.0, 4.0), _record(0, "autodrag", 1.0, 1.0)]
    b = [_record(1, "draggan", 4.0, 4.0), _record(1, "autodrag", 2.0, 1.0), a[0]]  # a[0] twice: counted once
    for name, records in (("a.json", a), ("b.json", b)):
        (tmp_path / name).write_text(json.dumps({"records": records}))
    out = tmp_path / "all.json"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--merge", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--json", str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "2 pairs, 4 edits from 2 files" in run.stdout
    assert "MD at 1 points: 0.500" in run.stdout  # (1 + 2) / 2 against (2 + 4) / 2
    merged = json.loads(out.read_text())
    assert merged["table"]["draggan"]["1"]["md"] == 3.0 and merged["table"]["autodrag"]["1"]["md"] == 1.5


def test_merge_names_a_missing_file(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--merge", str(tmp_path / "nope.json")], capture_output=True, text=True
    )
    assert run.returncode == 2 and "--merge: no such file" in run.stderr and "nope.json" in run.stderr
