#!/usr/bin/env python3
"""Benchmark the expression presets on the bundled model: success rate, MD, mask leakage, time per edit.

For every seed (truncation 0.7) and preset (strength 1, automatic mask on) one edit runs through
`run_edit`, exactly what `autodrag edit` does. Success is each preset's `success` rule plus
MD <= 2% of the image width. For the first `--leak-seeds` seeds each preset also runs without the
mask; leakage is the mean absolute pixel change (0..255, all channels) outside the preset's
movable region, with and without the mask, so the two are measured on the same pixels.

Results go to a JSON file that is rewritten after every edit; re-running resumes where it stopped.

Usage: python scripts/bench_presets.py [--seeds 0-99] [--presets close_eyes,...] [--out runs/bench_presets.json]
On 2 cores, two 1-thread halves run faster than one 2-thread process:
  python scripts/bench_presets.py --seeds 0-49 --leak-seeds 10 --threads 1 --out runs/bp_a.json &
  python scripts/bench_presets.py --seeds 50-99 --leak-seeds 10 --threads 1 --out runs/bp_b.json
  python scripts/bench_presets.py --merge runs/bp_a.json runs/bp_b.json --out runs/bench_presets.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autodrag.atomic import write_json_atomic
from autodrag.cli_types import SEED_RANGE
from autodrag.landmarks.toy import ToyLandmarkDetector
from autodrag.latents import ws_from_seed
from autodrag.networks import load_generator
from autodrag.presets.edit import preset_tuning, run_edit
from autodrag.presets.plan import plan_edit
from autodrag.presets.registry import PRESETS

MAIN_PRESETS = "close_eyes,widen_eyes,open_mouth,close_mouth,slim_face"


def outside_change(result, preset: str) -> float:
    """Mean |after - before| (0..255) outside the preset's automatic movable region (masked or not)."""
    fixed = ~plan_edit(result.landmarks_before, preset, 1.0, result.image_before.shape[:2], mask=True).mask
    diff = np.abs(result.image_after.astype(np.float64) - result.image_before.astype(np.float64))
    return float(diff[fixed].mean())


def _edit_record(result, preset: str) -> dict:
    return {
        "success": bool(all(result.success.values())),
        "md_px": result.md_px,
        "seconds": result.seconds,
        "steps": result.steps,
        "stop_reason": result.stop_reason,
        "outside_change": outside_change(result, preset),
        "before": result.measures_before,
        "after": result.measures_after,
    }


def summarise(records: dict, presets: list[str], width: int) -> dict:
    """Per preset: success rate, MD statistics, median seconds, leakage with and without the mask."""
    table = {}
    for preset in presets:
        masked = [r for k, r in records.items() if k.endswith(f"/{preset}/mask") and "error" not in r]
        failed = [r for k, r in records.items() if k.endswith(f"/{preset}/mask") and "error" in r]
        unmasked = {
            k.split("/")[0]: r
            for k, r in records.items()
            if k.endswith(f"/{preset}/nomask") and "error" not in r
        }
        paired = [
            (records[f"{seed}/{preset}/mask"]["outside_change"], r["outside_change"])
            for seed, r in unmasked.items()
            if "error" not in records.get(f"{seed}/{preset}/mask", {"error": 1})
        ]
        total = len(masked) + len(failed)
        md = np.array([r["md_px"] for r in masked])
        leak_mask = float(np.mean([p[0] for p in paired])) if paired else float("nan")
        leak_free = float(np.mean([p[1] for p in paired])) if paired else float("nan")
        table[preset] = {
            "edits": total,
            "success": sum(r["success"] for r in masked),
            "failed": len(failed),
            "success_rate": sum(r["success"] for r in masked) / max(1, total),
            "criterion": PRESETS[preset].success_text + f", MD <= {0.02 * width:.2f} px",
            "md_median_px": float(np.median(md)) if md.size else float("nan"),
            "md_p90_px": float(np.percentile(md, 90)) if md.size else float("nan"),
            "seconds_median": float(np.median([r["seconds"] for r in masked])) if masked else float("nan"),
            "outside_change_mask": leak_mask,
            "outside_change_nomask": leak_free,
            "leak_ratio": leak_free / leak_mask if paired and leak_mask > 0 else float("nan"),
            "leak_pairs": len(paired),
        }
    return table


def print_table(table: dict) -> None:
    print(
        "| preset | success | MD median / p90 (px) | median s/edit | change outside mask: mask / no mask (/255) | ratio |"
    )
    print("|---|---|---|---|---|---|")
    for preset, s in table.items():
        print(
            f"| {preset} | {s['success']}/{s['edits']} ({100 * s['success_rate']:.0f}%) | {s['md_median_px']:.2f} / "
            f"{s['md_p90_px']:.2f} | {s['seconds_median']:.1f} | {s['outside_change_mask']:.2f} / "
            f"{s['outside_change_nomask']:.2f} | {s['leak_ratio']:.1f}x |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--generator", type=Path, default=None, help="default: the bundled model")
    parser.add_argument("--seeds", default="0-99")
    parser.add_argument("--presets", default=MAIN_PRESETS)
    parser.add_argument("--leak-seeds", type=int, default=20, help="seeds also edited without the mask")
    parser.add_argument("--psi", type=float, default=0.7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("runs/bench_presets.json"))
    parser.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        default=None,
        help="only combine these result files into --out and print the table",
    )
    args = parser.parse_args()
    if args.merge:
        merged = [json.loads(p.read_text()) for p in args.merge]
        state = {
            "records": {k: v for m in merged for k, v in m["records"].items()},
            "machine": merged[0].get("machine", ""),
            "preset_tuning": {k: v for m in merged for k, v in m.get("preset_tuning", {}).items()},
        }
        state["summary"] = summarise(
            state["records"], args.presets.split(","), merged[0].get("resolution", 128)
        )
        write_json_atomic(args.out, state)
        print_table(state["summary"])
        return
    torch.set_num_threads(args.threads)
    seeds, presets = SEED_RANGE.convert(args.seeds, None, None), args.presets.split(",")
    G = load_generator(args.generator)
    detector = ToyLandmarkDetector()
    state = json.loads(args.out.read_text()) if args.out.exists() else {"records": {}}
    jobs = [
        (s, p, m)
        for s in seeds
        for p in presets
        for m in (("mask", "nomask") if s in seeds[: args.leak_seeds] else ("mask",))
    ]
    bar = tqdm(jobs, desc="presets", unit="edit")
    for seed, preset, mode in bar:
        key = f"{seed}/{preset}/{mode}"
        if key in state["records"]:
            continue
        try:
            result = run_edit(
                G, ws_from_seed(G, seed, args.psi), detector, preset, 1.0, mask=mode == "mask", frame_every=0
            )
            state["records"][key] = _edit_record(result, preset)
        except Exception as exc:  # a failed edit is a data point, not the end of the benchmark
            state["records"][key] = {"error": f"{type(exc).__name__}: {exc}"}
        bar.set_postfix_str(f"{key} {'ok' if state['records'][key].get('success') else 'missed'}")
        write_json_atomic(args.out, state)
    table = summarise(state["records"], presets, G.img_resolution)
    state["summary"], state["resolution"] = table, G.img_resolution
    state["preset_tuning"] = {**state.get("preset_tuning", {}), **{p: preset_tuning(p) for p in presets}}
    state["machine"] = (
        f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {args.threads} threads"
    )
    write_json_atomic(args.out, state)
    print_table(table)


if __name__ == "__main__":
    main()
