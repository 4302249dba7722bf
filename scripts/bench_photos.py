#!/usr/bin/env python3
"""Issue #15's photo benchmark: toy photos through the whole pipeline, and the astronaut with dlib.

Per seed (`render_toy_photo(seed)`: a procedural face, 40-90 % of a 256-384 px canvas, rotated up to
+-20 degrees, on a textured background), with the bundled model:
  found      the toy face search found one usable face
  align_err  mean distance of the aligned eye/mouth anchors (from the TRUE landmarks) to where the
             ideal crop (cut from the true landmarks) puts them, in % of the crop width
  psnr/ssim  of the face crop after W, W+ and tuning
  per preset (close_eyes, open_mouth, smile): success judged on landmarks re-detected in the pasted
             photo (`pipeline.judge_output`), changed pixels outside the paste mask (must be 0), mean
             change inside the face but outside the preset's movable region (/255)
  seconds    detect + align + invert (with tuning) + the first preset + paste
The astronaut (`skimage.data.astronaut()`, JPEG, dlib): faces found, eye-line angle after alignment,
eye/mouth anchors vs `align.template_points` (% of the crop width).

Resumable: one JSON per seed in --out (a finished seed is skipped), so shards can run in parallel
(`--shard i/N`); `--summary` prints a Markdown table of what is on disk.

Usage: python scripts/bench_photos.py --out runs/bench_photos [--seeds 0-49] [--shard 0/2] [--threads 2]
       python scripts/bench_photos.py --out runs/bench_photos --summary
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import math
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autodrag.atomic import write_json_atomic
from autodrag.cli_types import SEED_RANGE
from autodrag.images import save_png
from autodrag.photos import pipeline
from autodrag.photos.align import face_anchor_points, sample_affine, template_points
from autodrag.photos.faces import FaceError
from autodrag.photos.invert import InversionConfig
from autodrag.photos.paste import hull_region
from autodrag.toyfaces.photos import render_toy_photo

PRESETS = ("close_eyes", "open_mouth", "smile")


def _outside_movable_change(pe, rgb: np.ndarray) -> float:
    t = pe.project.transform
    h, w = rgb.shape[:2]
    movable = sample_affine(pe.edit.plan.mask.astype(np.float32), t.photo_to_crop, (w, h)) > 0.5
    face = (
        sample_affine(
            hull_region(np.asarray(pe.project.layout["landmarks_crop"]), t.size, 0.0), t.photo_to_crop, (w, h)
        )
        > 0.5
    )
    region = face & ~movable
    diff = np.abs(pe.output_rgb.astype(np.float64) - rgb).mean(axis=2)
    return float(diff[region].mean()) if region.any() else 0.0


def bench_seed(
    G, seed: int, out: Path, config: InversionConfig, presets: tuple[str, ...], steps: int
) -> dict:
    tp = render_toy_photo(seed)
    photo = out / "photos" / f"seed{seed:04d}.png"
    save_png(photo, tp.rgb)
    rec: dict = {"seed": seed, "params": {k: v for k, v in tp.params.items() if k != "render_to_photo"}}
    size = int(G.img_resolution)
    t0 = time.perf_counter()
    try:
        prep = pipeline.prepare_photo(photo, size, "toy", 0, "toy")
    except FaceError as exc:
        rec.update(found=False, error=str(exc))
        return rec
    t_detect = time.perf_counter() - t0
    ideal = pipeline.toy_transform(tp.landmarks, size)
    got = face_anchor_points(prep.transform.to_crop(tp.landmarks))
    want = face_anchor_points(ideal.to_crop(tp.landmarks))
    rec.update(
        found=True,
        faces=len(prep.faces),
        align_err_pct=float(np.linalg.norm(got - want, axis=1).mean() / size * 100),
        landmark_err_pct=float(
            np.linalg.norm(
                prep.transform.to_crop(prep.faces[0].landmarks) - prep.transform.to_crop(tp.landmarks), axis=1
            ).mean()
            / size
            * 100
        ),
    )
    t1 = time.perf_counter()
    project = pipeline.invert_photo(
        photo,
        G,
        out / "projects" / f"seed{seed:04d}",
        "toy",
        0,
        config,
        framing="toy",
        bundled=True,
        prepared=prep,
    )
    t_invert = time.perf_counter() - t1
    rec["metrics"] = {
        k: v for k, v in project.metrics.items() if k.startswith(("psnr", "ssim", "steps", "seconds"))
    }
    rec["presets"] = {}
    for i, name in enumerate(presets):
        t2 = time.perf_counter()
        pe = pipeline.edit_photo(project, G, name, photo_path=photo, bundled=True, steps=steps)
        t_edit = time.perf_counter() - t2
        stored = np.asarray(pe.output)
        changed = (stored != tp.rgb).any(axis=2)
        rec["presets"][name] = {
            "success": bool(pe.success.get(name, False)),
            "crop_success": bool(pe.edit.success.get(name, False)),
            "md_px": pe.judged.get("md_px"),
            "judge_error": pe.judged.get("error"),
            "changed_outside_mask": int((changed & ~pe.paste_mask).sum()),
            "changed_pixels": int(changed.sum()),
            "face_outside_movable_change": _outside_movable_change(pe, tp.rgb),
            "seconds": t_edit,
            "steps": pe.edit.steps,
        }
        if i == 0:
            rec["pipeline_seconds"] = t_detect + t_invert + t_edit - pe.seconds.get("judge", 0.0)
            save_png(
                out / "images" / f"seed{seed:04d}_{name}.png",
                np.concatenate([tp.rgb, np.asarray(pe.output.convert("RGB"))], axis=1),
            )
    return rec


def bench_astronaut(out: Path) -> dict:
    from PIL import Image
    from skimage import data

    path = out / "photos" / "astronaut.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(data.astronaut()).save(path, quality=92)
    prep = pipeline.prepare_photo(path, 512, "dlib", 0, "ffhq")
    left, right, mouth = face_anchor_points(prep.transform.to_crop(prep.faces[0].landmarks))
    angle = math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))
    ratio = float(np.linalg.norm(right - left) / np.linalg.norm(mouth - (left + right) / 2))
    template = template_points(512, ratio)
    err = np.linalg.norm(np.stack([left, right, mouth]) - template, axis=1) / 512 * 100
    save_png(out / "images" / "astronaut_aligned.png", prep.crop)
    return {
        "faces": len(prep.faces),
        "eye_line_deg": angle,
        "eye_err_pct": float(err[:2].max()),
        "anchor_err_pct_mean": float(err.mean()),
    }


def _median(values) -> float:
    values = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(values) if values else float("nan")


def summary(out: Path) -> str:
    recs = [json.loads(p.read_text()) for p in sorted(out.glob("seed*.json"))]
    if not recs:
        return f"no results in {out}"
    found = [r for r in recs if r.get("found")]
    inverted = [r for r in found if "metrics" in r]
    lines = [
        f"Toy photos: {len(recs)} seeds ({out})",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| faces found and aligned | {len(found)}/{len(recs)} ({100 * len(found) / len(recs):.0f}%) | >= 98% |",
        f"| aligned anchors vs template, mean | {_median([r['align_err_pct'] for r in found]):.2f}% median, "
        f"{np.mean([r['align_err_pct'] for r in found]):.2f}% mean of the crop width | <= 2% |",
        f"| detected landmarks vs truth (crop) | {np.mean([r['landmark_err_pct'] for r in found]):.2f}% | |",
    ]
    for stage in ("w", "w_plus", "tune"):
        p = _median([r["metrics"].get(f"psnr_{stage}") for r in inverted])
        s = _median([r["metrics"].get(f"ssim_{stage}") for r in inverted])
        face = _median([r["metrics"].get(f"psnr_face_{stage}") for r in inverted])
        lines.append(
            f"| PSNR / SSIM after {stage} (median; whole crop) | {p:.2f} dB / {s:.3f} | "
            f"{'>= 30 dB' if stage == 'tune' else ''} |"
        )
        lines.append(f"| PSNR after {stage} over the face region (median) | {face:.2f} dB | |")
    gain = _median(
        [
            r["metrics"].get("psnr_tune", float("nan")) - r["metrics"].get("psnr_w_plus", float("nan"))
            for r in inverted
        ]
    )
    lines.append(f"| tuning gain over W+ (median) | {gain:.2f} dB | >= 3 dB |")
    for name in PRESETS:
        items = [r["presets"][name] for r in inverted if name in r.get("presets", {})]
        if not items:
            continue
        ok = sum(i["success"] for i in items)
        crop_ok = sum(i["crop_success"] for i in items)
        lines.append(
            f"| {name} success, re-detected in the pasted photo | {ok}/{len(items)} "
            f"({100 * ok / len(items):.0f}%; on the crop {crop_ok}/{len(items)}) | >= 90% |"
        )
        lines.append(
            f"| {name}: changed pixels outside the paste mask (max) | "
            f"{max(i['changed_outside_mask'] for i in items)} | 0 |"
        )
        lines.append(
            f"| {name}: mean change in the face outside the movable region (median / max) | "
            f"{_median([i['face_outside_movable_change'] for i in items]):.2f} / "
            f"{max(i['face_outside_movable_change'] for i in items):.2f} (/255) | <= 3 |"
        )
    lines.append(
        f"| whole pipeline, median (detect, align, invert + tune, one preset, paste) | "
        f"{_median([r.get('pipeline_seconds') for r in inverted]):.1f} s | <= 60 s on 2 cores |"
    )
    astro = out / "astronaut.json"
    if astro.exists():
        a = json.loads(astro.read_text())
        lines += [
            "",
            "Astronaut (dlib): " + f"{a['faces']} face(s), eye line {a['eye_line_deg']:+.3f} deg, eyes "
            f"{a['eye_err_pct']:.2f}% from the template (anchor mean {a['anchor_err_pct_mean']:.2f}%)",
        ]
    meta = out / "machine.json"
    if meta.exists():
        lines += ["", "Machine: " + json.loads(meta.read_text()).get("text", "")]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, required=True, help="results folder (one JSON per seed; resumable)"
    )
    parser.add_argument("--seeds", default="0-49")
    parser.add_argument("--shard", default=None, help="i/N: only every N-th seed, starting at i")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--presets", default=",".join(PRESETS))
    parser.add_argument("--steps", type=int, default=300, help="max drag steps per preset")
    parser.add_argument(
        "--fast", action="store_true", help="a short inversion (40/30/60 steps) for a quick check"
    )
    parser.add_argument("--no-astronaut", action="store_true")
    parser.add_argument("--summary", action="store_true", help="print the Markdown table of what is on disk")
    args = parser.parse_args()
    if args.summary:
        print(summary(args.out))
        return
    torch.set_num_threads(args.threads)
    seeds = SEED_RANGE.convert(args.seeds, None, None)
    if args.shard:
        i, n = (int(v) for v in args.shard.split("/"))
        seeds = seeds[i::n]
    from autodrag.networks.loading import load_default_generator

    G = load_default_generator().eval()
    config = (
        InversionConfig(w_steps=40, w_plus_steps=30, tune_steps=60, w_avg_samples=500)
        if args.fast
        else InversionConfig()
    )
    args.out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(
        args.out / "machine.json",
        {
            "text": f"{platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} CPUs visible, torch {torch.__version__}, {args.threads} threads; command: "
            + " ".join(sys.argv),
            "config": config.__dict__,
        },
    )
    presets = tuple(p for p in args.presets.split(",") if p)
    for seed in seeds:
        path = args.out / f"seed{seed:04d}.json"
        if path.exists():
            continue
        started = time.perf_counter()
        rec = bench_seed(G, seed, args.out, config, presets, args.steps)
        write_json_atomic(path, rec)
        ok = {k: v["success"] for k, v in rec.get("presets", {}).items()}
        print(
            f"seed {seed}: found {rec.get('found')} psnr_tune {rec.get('metrics', {}).get('psnr_tune', float('nan')):.2f}"
            f" {ok} {time.perf_counter() - started:.1f} s",
            flush=True,
        )
    if (
        not args.no_astronaut
        and not (args.out / "astronaut.json").exists()
        and (not args.shard or args.shard.startswith("0/"))
    ):
        write_json_atomic(args.out / "astronaut.json", bench_astronaut(args.out))
    print(summary(args.out))


if __name__ == "__main__":
    main()
