"""Write a photo edit's outputs (pasted photo, crops, result.json) and the photo batch's HTML report."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import numpy as np

from autodrag.atomic import write_json_atomic, write_text_atomic
from autodrag.images import save_png
from autodrag.photos.io import default_output_suffix, save_photo
from autodrag.photos.pipeline import PhotoEdit

__all__ = ["build_photo_report", "photo_edit_record", "write_photo_edit"]


def _num(v: float | None, digits: int = 4):
    return None if v is None or not math.isfinite(float(v)) else round(float(v), digits)


def photo_edit_record(pe: PhotoEdit, **context: object) -> dict:
    """result.json of a photo edit: the photo, project, presets, success judged on the output photo."""
    judged = pe.judged
    changed = np.asarray(pe.output_rgb != pe.photo.rgb).any(axis=2)
    record = {
        **context,
        "photo": str(pe.photo.path),
        "photo_size": list(pe.photo.original.size),
        "photo_mode": pe.photo.mode,
        "orientation": pe.photo.orientation,
        "project": str(pe.project.dir),
        "project_reused": pe.project.reused,
        "project_note": pe.project.note,
        "reconstruction": {k: v for k, v in pe.project.metrics.items() if k.startswith(("psnr", "ssim"))},
        "preset": ",".join(pe.presets) if pe.presets else "drag",
        "success": judged.get("success", {}),
        "md_px": _num(judged.get("md_px")),
        "judge_error": judged.get("error"),
        "measures_before": {k: _num(v, 5) for k, v in (judged.get("measures_before") or {}).items()},
        "measures_after": {k: _num(v, 5) for k, v in (judged.get("measures_after") or {}).items()},
        "crop_success": pe.edit.success
        if pe.edit is not None
        else None,  # judged on the crop, as `edit` does
        "steps": pe.edit.steps if pe.edit is not None else (pe.drag.steps if pe.drag is not None else None),
        "stop_reason": pe.edit.stop_reason
        if pe.edit is not None
        else (pe.drag.reason if pe.drag is not None else None),
        "drag_distances": None  # free drags: each handle's final distance to its target, crop pixels
        if pe.drag is None
        else [round(float(d), 3) for d in pe.drag.distances],
        "seconds": round(pe.seconds.get("total", 0.0), 3),
        "seconds_by_stage": {k: round(v, 3) for k, v in pe.seconds.items()},
        "paste_mask_pixels": int(pe.paste_mask.sum()),
        "changed_pixels": int(changed.sum()),
        "changed_outside_mask": int((changed & ~pe.paste_mask).sum()),
        "landmarks_after": None
        if judged.get("landmarks_after") is None
        else np.round(judged["landmarks_after"], 3).tolist(),
        "points_convention": "(x, y) photo pixels, pixel centres at integers; md_px in crop pixels",
    }
    return record


def write_photo_edit(out: Path, pe: PhotoEdit, **context: object) -> dict:
    """pasted.<png|tiff> (the photo's size, mode, EXIF), original/reconstruction/edited crops, result.json last."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pasted = save_photo(out / f"pasted{default_output_suffix(pe.photo)}", pe.output)
    save_png(out / "aligned.png", pe.project.crop)
    save_png(out / "reconstruction.png", pe.reconstruction)
    save_png(out / "edited.png", pe.edited_crop)
    mask = (pe.paste_mask[..., None] * np.array([255, 64, 64])).astype(np.uint8)
    save_png(out / "paste_mask.png", mask)
    if pe.latent is not None:
        from autodrag.latents import save_latent

        save_latent(out / "latent.npz", ws=pe.latent)
    record = photo_edit_record(pe, **context, pasted=str(pasted))
    write_json_atomic(out / "result.json", record)
    return record


def build_photo_report(out: Path, title: str = "AutoDrag photo batch") -> dict[str, dict]:
    """index.html + summary.json from out/items/*: original / reconstruction / edited / pasted per item."""
    out = Path(out)
    cards, stats = [], {}
    for item_dir in sorted((out / "items").glob("*")):
        if (item_dir / "result.json").exists():
            rec = json.loads((item_dir / "result.json").read_text())
            status = "ok" if rec["success"] and all(rec["success"].values()) else "missed"
        elif (item_dir / "failed.json").exists():
            rec = json.loads((item_dir / "failed.json").read_text())
            status = "failed"
        else:
            continue
        preset = rec.get("preset", "?")
        s = stats.setdefault(preset, {"items": 0, "ok": 0, "failed": 0})
        s["items"] += 1
        s["ok"] += status == "ok"
        s["failed"] += status == "failed"
        label = f"{html.escape(item_dir.name)} · {status}"
        if status == "failed":
            body = f"<pre>{html.escape(rec.get('error', ''))}</pre>"
        else:
            d = f"items/{item_dir.name}"
            pasted = Path(rec.get("pasted", "pasted.png")).name
            psnr = rec.get("reconstruction", {}).get("psnr_tune") or rec.get("reconstruction", {}).get(
                "psnr_w_plus"
            )
            body = (
                f"<img src='{d}/aligned.png' height=160 title='original crop'>"
                f"<img src='{d}/reconstruction.png' height=160 title='reconstruction'>"
                f"<img src='{d}/edited.png' height=160 title='edited'>"
                f"<img src='{d}/{pasted}' height=160 title='pasted photo'><br>"
                f"PSNR {psnr if psnr is None else round(psnr, 2)} dB · MD {rec.get('md_px')} px · "
                f"{rec.get('seconds', 0):.1f} s · outside-mask changes {rec.get('changed_outside_mask')}"
            )
        cards.append(f"<div class='card {status}'><b>{label}</b><br>{body}</div>")
    rows = "".join(
        f"<tr><td>{html.escape(p)}</td><td>{s['ok']}/{s['items']}</td><td>{s['failed']}</td></tr>"
        for p, s in stats.items()
    )
    page = f"""<!doctype html><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif}} .card{{display:inline-block;margin:6px;padding:6px;border:2px solid #ccc;
vertical-align:top}} .ok{{border-color:#3a3}} .missed{{border-color:#d90}} .failed{{border-color:#c33}}
td,th{{padding:2px 10px;text-align:left}} img{{margin-right:4px}}</style>
<h1>{html.escape(title)}</h1>
<table><tr><th>preset</th><th>success (re-detected in the pasted photo)</th><th>failed</th></tr>{rows}</table>
<p>Per item: original crop, reconstruction (tuned generator at the pivot), edited crop, pasted photo.</p>
{"".join(cards)}"""
    write_text_atomic(out / "index.html", page)
    write_json_atomic(out / "summary.json", stats)
    return stats
