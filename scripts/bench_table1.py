#!/usr/bin/env python3
"""DragGAN's Table-1 protocol on the bundled model: drag face A's landmarks to face B's, re-detect, judge.

For each pair of seeded faces (A = seed 2i, B = seed 2i + 1 of `--first-seed`, truncation 0.7) the
bundled toy detector finds the 68 landmarks of both; A's landmarks are the handles, B's the targets.
Three point counts: 1 and 5 points (a seeded random choice per pair) and all 68. Three rows, run
interleaved per pair and point count so that load from other jobs hits them alike:

- **DragGAN rule**: the independent full-resolution reference (`tests/drag/drag_reference.py`) with
  DragGAN's settings: whole generator every step, feature map upsampled to the image, integer-argmin
  L2 tracking in a square of half-size round(12 / 512 * R), motion disc radius 3 / 512 * R, Adam
  lr 1e-3 on W+ rows 0-5, stop when every tracked handle is within max(2 / 512 * R, 2) px.
- **AutoDrag defaults**: `DragSession` with `DragConfig()` (the automatic drag map: the 32 px block here).
- **AutoDrag, DragGAN settings**: `DragSession` with DragGAN's values (`draggan_config`: its map, lr, radii, L2
  integer-argmin tracking on the start feature, 2 px stop, no patience, no relocator).

Each drag runs to its stop rule or `--steps`. The judge: the same detector re-detects the landmarks
on the final image (it is never used for tracking in any row). MD = mean distance from the re-detected
handles to their targets; tracking error = distance from each tracked handle (where the drag believes
the content is) to its re-detected landmark (where it is). Reported: MD and median tracking error at
1 / 5 / 68 points, median steps, median s/edit and ms/step.

Usage: OMP_WAIT_POLICY=PASSIVE python scripts/bench_table1.py [--pairs 6] [--steps 300] [--threads 2]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import sys
import time
from dataclasses import fields
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: no OpenMP spin-waiting under load

import numpy as np
import torch
from tqdm import tqdm

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autodrag.atomic import write_json_atomic
from autodrag.drag import DragConfig, DragSession
from autodrag.drag.coords import xy_to_rowcol
from autodrag.images import to_uint8
from autodrag.landmarks.toy import ToyLandmarkDetector
from autodrag.latents import ws_from_seed
from autodrag.networks import load_generator
from autodrag.paths import BUNDLED_GENERATOR
from tests.drag.drag_reference import FullResolutionDrag, track_full

POINT_COUNTS = (1, 5, 68)
ROWS = ("draggan", "autodrag", "autodrag_draggan")
ROW_NAMES = {
    "draggan": "DragGAN rule (full-res reference)",
    "autodrag": "AutoDrag defaults",
    "autodrag_draggan": "AutoDrag, DragGAN settings",
}
DRAGGAN_LR = 1e-3  # DragGAN's renderer: Adam lr 0.001 on w[:, :6]


def draggan_config(resolution: int, max_steps: int) -> DragConfig:
    """`DragConfig` with DragGAN's values: its feature map (block 6), lr 1e-3, r1 3 / r2 12 at 512 px, L2
    integer tracking, 2 px stop."""
    values = dict(
        max_steps=max_steps,
        lr=DRAGGAN_LR,
        r1=3.0,
        r2=12.0,
        tracking="l2",
        stop_distance=max(2.0, 2.0 * resolution / 512) * 512 / resolution,
        min_stop_distance=0.0,
        subpixel=False,
        reliable_stop=False,
        relocate=False,
        recent_weight=0.0,
        track_patch=0,
        track_blocks=1,
        patience=0,
        draggan_map=True,
    )
    known = {f.name for f in fields(DragConfig)}
    return DragConfig(**{k: v for k, v in values.items() if k in known})


def detect_rowcol(detector: ToyLandmarkDetector, image: torch.Tensor) -> np.ndarray:
    """The 68 landmarks of a synthesis image [1, 3, R, R] as (row, col) [68, 2]."""
    return xy_to_rowcol(detector.detect(to_uint8(image)))


def run_reference(G, ws, handles, targets, max_steps: int) -> tuple[torch.Tensor, np.ndarray, int, str]:
    """DragGAN's loop on the full-resolution reference: track, stop when all within 2 px, else one Adam step."""
    R = G.img_resolution
    drag = FullResolutionDrag(
        G,
        ws,
        handles,
        targets,
        r1=3 / 512 * R,
        r2=round(12 / 512 * R),
        mask_weight=0.0,
        lr=DRAGGAN_LR,
        metric="l2",
    )
    stop, reason, steps = max(2 / 512 * R, 2.0), "max_steps", 0
    for step in range(1, max_steps + 1):
        steps = step
        feat_up = drag.features_up(drag.ws())
        drag.handles = track_full(feat_up.detach(), drag.handles, drag.refs, drag.r2, drag.metric)
        if bool(((drag.targets - drag.handles).norm(dim=1) <= stop).all()):
            reason = "converged"
            break
        loss = drag.loss(feat_up)
        drag.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        drag.optimizer.step()
    else:  # track on the final latent, as DragGAN's next frame would
        with torch.no_grad():
            feat_up = drag.features_up(drag.ws())
        drag.handles = track_full(feat_up, drag.handles, drag.refs, drag.r2, drag.metric)
    with torch.no_grad():
        image = G.synthesis(drag.ws().detach()[None], noise_mode="const")
    return image, drag.handles.numpy(), steps, reason


def run_session(G, ws, handles, targets, config: DragConfig) -> tuple[torch.Tensor, np.ndarray, int, str]:
    session = DragSession(G, ws, config)
    session.start_drag(handles, targets)
    for _ in session.run():
        pass
    summary = session.last_summary
    return session.render(), summary.points, summary.steps, summary.reason


def parse_overrides(items: list[str], parser: argparse.ArgumentParser) -> dict:
    """`--set FIELD=VALUE` pairs -> DragConfig changes (values parsed as Python literals)."""
    known = {f.name for f in fields(DragConfig)}
    changes = {}
    for item in items:
        name, _, value = item.partition("=")
        if name not in known or not value:
            parser.error(f"--set {item}: expected FIELD=VALUE with FIELD one of DragConfig's fields")
        try:
            changes[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            changes[name] = value
    return changes


def one_edit(row: str, G, ws, handles, targets, max_steps: int, overrides: dict) -> tuple:
    """Run one row's drag; (final image, tracked handles, steps, stop reason, seconds)."""
    start = time.perf_counter()
    if row == "draggan":
        image, tracked, steps, reason = run_reference(G, ws, handles, targets, max_steps)
    elif row == "autodrag":
        image, tracked, steps, reason = run_session(
            G, ws, handles, targets, DragConfig(max_steps=max_steps, **overrides)
        )
    else:
        image, tracked, steps, reason = run_session(
            G, ws, handles, targets, draggan_config(G.img_resolution, max_steps)
        )
    seconds = time.perf_counter() - start
    return image, tracked, steps, reason, seconds


def pair_points(
    seed_a: int, seed_b: int, G, detector, count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ws of A, A's landmarks, B's landmarks) restricted to `count` seeded random landmarks (all for 68)."""
    ws_a, ws_b = ws_from_seed(G, seed_a, 0.7), ws_from_seed(G, seed_b, 0.7)
    with torch.no_grad():
        lm_a = detect_rowcol(detector, G.synthesis(ws_a[None], noise_mode="const"))
        lm_b = detect_rowcol(detector, G.synthesis(ws_b[None], noise_mode="const"))
    rows = (
        np.arange(68)
        if count == 68
        else np.random.default_rng(seed_a * 1000 + count).choice(68, count, False)
    )
    return ws_a, rows, lm_a, lm_b


def summarise(records: list[dict], rows: tuple[str, ...]) -> dict:
    table = {}
    for row in rows:
        table[row] = {}
        for count in POINT_COUNTS:
            sel = [r for r in records if r["row"] == row and r["points"] == count]
            if not sel:
                continue
            errors = [e for r in sel for e in r["tracking_error"]]
            steps = [r["steps"] for r in sel]
            table[row][count] = {
                "md": float(np.mean([r["md"] for r in sel])),
                "no_edit_md": float(np.mean([r["no_edit_md"] for r in sel])),
                "tracking_error_median": float(np.median(errors)),
                "tracking_error_p90": float(np.percentile(errors, 90)),
                "steps_median": float(np.median(steps)),
                "converged": sum(r["reason"] == "converged" for r in sel),
                "edits": len(sel),
                "seconds_median": float(np.median([r["seconds"] for r in sel])),
                "ms_per_step": float(1e3 * sum(r["seconds"] for r in sel) / max(1, sum(steps))),
            }
    return table


def print_table(table: dict) -> None:
    head = (
        "| row | MD 1 / 5 / 68 (px) | tracking error median 1 / 5 / 68 (px) | median steps | converged "
        "| median s/edit | ms/step |"
    )
    print(head)
    print("|---|---|---|---|---|---|---|")
    first = next(iter(table.values()))
    no_edit = " / ".join(f"{first[c]['no_edit_md']:.2f}" for c in POINT_COUNTS if c in first)
    print(f"| no edit | {no_edit} | | | | | |")
    for row, cells in table.items():
        counts = [c for c in POINT_COUNTS if c in cells]

        def join(key: str, fmt: str, cells=cells, counts=counts) -> str:
            return " / ".join(format(cells[c][key], fmt) for c in counts)

        conv = " / ".join(f"{cells[c]['converged']}/{cells[c]['edits']}" for c in counts)
        print(
            f"| {ROW_NAMES[row]} | {join('md', '.2f')} | {join('tracking_error_median', '.2f')} | "
            f"{join('steps_median', '.0f')} | {conv} | {join('seconds_median', '.2f')} | "
            f"{join('ms_per_step', '.1f')} |"
        )


def print_ratios(table: dict) -> None:
    """AutoDrag defaults against the DragGAN rule: MD and time per edit, as ratios (the issue's targets)."""
    if not {"draggan", "autodrag"} <= set(table):
        return
    ours, theirs = table["autodrag"], table["draggan"]
    counts = [c for c in POINT_COUNTS if c in ours and c in theirs]
    for key, name in (("md", "MD"), ("seconds_median", "median s/edit"), ("ms_per_step", "ms/step")):
        ratios = " / ".join(f"{ours[c][key] / theirs[c][key]:.3f}" for c in counts)
        print(f"AutoDrag defaults / DragGAN rule, {name} at {' / '.join(map(str, counts))} points: {ratios}")


def merge_shards(paths: list[Path], out: Path | None) -> None:
    """The table over the edits of several shards' --json files (each pair counted once)."""
    records, seen = [], set()
    for path in paths:
        for record in json.loads(Path(path).read_text())["records"]:
            key = (tuple(record["pair"]), record["points"], record["row"])
            if key not in seen:
                seen.add(key)
                records.append(record)
    rows = tuple(r for r in ROWS if any(rec["row"] == r for rec in records))
    table = summarise(records, rows)
    pairs = len({tuple(r["pair"]) for r in records})
    print(f"{pairs} pairs, {len(records)} edits from {len(paths)} files")
    print_table(table)
    print_ratios(table)
    if out:
        write_results(out, {"merge": [str(p) for p in paths]}, records, table)


def write_results(path: Path, args: dict, records: list[dict], table: dict) -> None:
    """Every edit and the table, as JSON (written atomically)."""
    table_json = {r: {str(c): v for c, v in t.items()} for r, t in table.items()}
    write_json_atomic(path, {"args": args, "records": records, "table": table_json})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--pairs", type=int, default=6, help="face pairs (seeds 2i, 2i + 1 from --first-seed)"
    )
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=300, help="at most this many steps per drag")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--points", default="1,5,68", help="point counts, a subset of 1,5,68")
    parser.add_argument("--rows", default=",".join(ROWS), help=f"rows, a subset of {','.join(ROWS)}")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="change a DragConfig field of the AutoDrag-defaults row (for ablations; repeatable)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write every edit and the table here")
    parser.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        default=None,
        metavar="JSON",
        help="print (and with --json write) the table of the edits in these --json files of shards, "
        "e.g. --first-seed 0 --pairs 6 and --first-seed 12 --pairs 6 run at once; runs nothing",
    )
    args = parser.parse_args()
    if args.merge:
        missing = [str(p) for p in args.merge if not p.is_file()]
        if missing:
            parser.error(f"--merge: no such file: {', '.join(missing)}")
        merge_shards(args.merge, args.json)
        return
    counts = tuple(int(c) for c in args.points.split(","))
    rows = tuple(args.rows.split(","))
    if not set(counts) <= set(POINT_COUNTS):
        parser.error(f"--points: expected a subset of 1,5,68, got {args.points}")
    if not set(rows) <= set(ROWS):
        parser.error(f"--rows: expected a subset of {','.join(ROWS)}, got {args.rows}")
    if args.pairs < 1:
        parser.error(f"--pairs must be >= 1, got {args.pairs}")
    overrides = parse_overrides(args.set, parser)
    torch.set_num_threads(args.threads)
    G = load_generator(BUNDLED_GENERATOR)
    detector = ToyLandmarkDetector()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs visible, {args.threads} torch threads, "
        f"torch {torch.__version__}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}; "
        f"{args.pairs} pairs, at most {args.steps} steps",
        flush=True,
    )
    records = []
    jobs = [(i, c, r) for i in range(args.pairs) for c in counts for r in rows]
    for i, count, row in tqdm(jobs, desc="table1", unit="edit"):
        seed_a, seed_b = args.first_seed + 2 * i, args.first_seed + 2 * i + 1
        ws, idx, lm_a, lm_b = pair_points(seed_a, seed_b, G, detector, count)
        handles, targets = lm_a[idx], lm_b[idx]
        image, tracked, steps, reason, seconds = one_edit(row, G, ws, handles, targets, args.steps, overrides)
        found = detect_rowcol(detector, image)[idx]
        records.append(
            {
                "pair": [seed_a, seed_b],
                "points": count,
                "row": row,
                "steps": steps,
                "seconds": seconds,
                "reason": reason,
                "md": float(np.linalg.norm(found - targets, axis=1).mean()),
                "no_edit_md": float(np.linalg.norm(handles - targets, axis=1).mean()),
                "tracking_error": np.linalg.norm(np.asarray(tracked) - found, axis=1).tolist(),
            }
        )
    table = summarise(records, rows)
    print_table(table)
    print_ratios(table)
    if args.json:
        write_results(args.json, vars(args) | {"json": str(args.json), "merge": None}, records, table)


if __name__ == "__main__":
    main()
