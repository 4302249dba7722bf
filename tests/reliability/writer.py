"""A batch writer for the many-writers tests: `run_items` with a fake, quick edit (no model).

    python -m tests.reliability.writer OUT --items 12 [--shard i/N] [--sleep 0.05] [--fail 3,7]

Each computed item appends "name pid" to OUT/../journal.log; exit 1 when an item of this process failed.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

from autodrag.atomic import write_bytes_atomic, write_json_atomic
from autodrag.presets.batch import build_report, plan_items, run_items, shard_of


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--items", type=int, default=12)
    parser.add_argument("--shard", default=None)
    parser.add_argument("--sleep", type=float, default=0.05)
    parser.add_argument("--fail", default="")
    parser.add_argument("--strength", type=float, default=1.0)
    args = parser.parse_args(argv)
    fail = {int(s) for s in args.fail.split(",") if s}
    items = plan_items(list(range(args.items)), ["smile"])
    if args.shard:
        i, n = (int(v) for v in args.shard.split("/"))
        items = shard_of(items, i, n)
    journal = args.out.parent / "journal.log"

    def edit_one(item, item_dir: Path) -> dict:
        time.sleep(args.sleep * random.uniform(0.5, 1.5))
        if item.seed in fail:
            raise RuntimeError(f"seed {item.seed} fails on purpose")
        item_dir.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(item_dir / "before_after.png", os.urandom(2048))
        time.sleep(args.sleep * random.uniform(0, 0.5))
        write_bytes_atomic(item_dir / "latent.npz", os.urandom(1024))
        record = {
            "seed": item.seed,
            "preset": item.preset,
            "md_px": 0.5,
            "steps": 3,
            "seconds": 0.1,
            "stop_reason": "converged",
            "success": {item.preset: True},
            "pid": os.getpid(),
        }
        write_json_atomic(item_dir / "result.json", record)
        with open(journal, "a") as f:  # O_APPEND: one whole line per write
            f.write(f"{item.name} {os.getpid()}\n")
        return record

    counts = run_items(args.out, items, edit_one, options={"strength": args.strength})
    build_report(args.out)
    print(counts, flush=True)
    return 1 if counts["failed"] or counts["conflict"] else 0


if __name__ == "__main__":
    sys.exit(main())
