#!/usr/bin/env python3
"""Frame time of the visualizer while a drag runs on the CPU (the window must stay above 30 frames/s).

Starts the real window under a private Xvfb, places a handle and a target by scripted clicks,
presses Start, and records frame times for `--frames` frames while the worker thread drags.

Usage: python scripts/bench_gui.py [--ckpt X] [--frames 600]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ckpt", default=None)
    parser.add_argument("--frames", type=int, default=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        server = subprocess.Popen(
            ["Xvfb", ":87", "-screen", "0", "1280x1024x24"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.5)
        try:
            script = [
                {"image": [20, 12], "frame": 5},
                {"image": [20, 50]},
                {"click": "Start"},
            ]  # fits 64 px and up
            (tmp / "events.json").write_text(json.dumps(script))
            command = [
                sys.executable,
                str(REPO / "visualizer_drag_auto.py"),
                *([args.ckpt] if args.ckpt else []),
                "--script",
                str(tmp / "events.json"),
                "--frames",
                str(args.frames),
                "--stats",
                str(tmp / "stats.json"),
                "--log",
                str(tmp / "log.jsonl"),
            ]
            subprocess.run(command, env={**os.environ, "DISPLAY": ":87"}, check=True, timeout=900)
        finally:
            server.terminate()
        stats = json.loads((tmp / "stats.json").read_text())
        log = (tmp / "log.jsonl").read_text().splitlines()
    print(json.dumps(stats))
    busy = stats.get("dragging")
    if busy:
        print(
            f"while dragging: {busy['frames']} frames, median {1000 / busy['median_ms']:.0f} frames/s, "
            f"95th-percentile frame {busy['p95_ms']:.1f} ms"
        )
    print("last action:", json.loads(log[-1])["text"] if log else "none")


if __name__ == "__main__":
    main()
