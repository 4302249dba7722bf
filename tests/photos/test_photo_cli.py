"""`autodrag invert`, `edit --photo`, `batch --photos`: outputs, reuse, and bad input as one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from autodrag.cli import main
from autodrag.images import save_png
from autodrag.toyfaces.photos import render_toy_photo, textured_background

FAST = ["--steps-w", "3", "--steps-wplus", "2", "--steps-tune", "2"]


def _run(args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _bad_photos(folder):
    """name -> (path, words the message must hold)."""
    tp = render_toy_photo(2)
    bad = {}
    p = folder / "notes.jpg"
    p.write_text("not an image at all\n")
    bad["not an image"] = (p, "not an image")
    p = folder / "truncated.jpg"
    Image.fromarray(tp.rgb).save(p, quality=90)
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    bad["truncated"] = (p, "truncated")
    p = folder / "empty_scene.png"
    save_png(p, textured_background(np.random.default_rng(0), 300, 280))
    bad["no face"] = (p, "no face")
    p = folder / "cut.png"
    lm = tp.landmarks
    cut_x = int(lm[:, 0].min() + 0.5 * (lm[:, 0].max() - lm[:, 0].min()))
    save_png(p, np.ascontiguousarray(tp.rgb[:, :cut_x]))
    bad["cut by the border"] = (p, "face")  # 'cut by the photo border' (or no face found in half a face)
    p = folder / "small.png"
    Image.fromarray(tp.rgb).resize((tp.rgb.shape[1] // 4, tp.rgb.shape[0] // 4), Image.Resampling.BOX).save(p)
    bad["face too small"] = (p, "face too small")
    bad["missing"] = (folder / "nope.png", "no such file")
    return bad


@pytest.mark.parametrize("command", ["invert", "edit"])
def test_bad_photos_are_one_line_errors_and_write_nothing(tmp_path, command):
    for what, (path, words) in _bad_photos(tmp_path).items():
        out = tmp_path / f"out_{command}_{path.stem}"
        args = (
            ["invert", path, "--out", out]
            if command == "invert"
            else ["edit", "--photo", path, "--preset", "close_eyes", "--out", out]
        )
        result = _run(args + ["--backend", "toy"] + FAST)
        assert result.exit_code != 0, what
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), (what, result.output)
        assert str(path) in lines[0] and words in lines[0].lower(), (what, lines[0])
        assert not out.exists(), what  # nothing half-written


def test_invert_then_edit_reuses_the_project_and_writes_the_photo(tmp_path):
    photo = tmp_path / "toy.png"
    save_png(photo, render_toy_photo(7).rgb)
    proj = tmp_path / "proj"
    result = _run(["invert", photo, "--out", proj] + FAST)
    assert result.exit_code == 0, result.output
    assert "inverted" in result.output and json.loads((proj / "project.json").read_text())["complete"]
    out = tmp_path / "out"
    result = _run(
        ["edit", "--photo", photo, "--project", proj, "--preset", "close_eyes", "--steps", "3", "--out", out]
        + FAST
    )
    assert result.exit_code == 0, result.output
    assert "reused the finished inversion" in result.output
    record = json.loads((out / "result.json").read_text())
    assert record["project_reused"] and record["changed_outside_mask"] == 0
    pasted = Image.open(out / "pasted.png")
    assert pasted.size == Image.open(photo).size and pasted.mode == "RGB"
    for name in ("aligned.png", "reconstruction.png", "edited.png", "paste_mask.png", "latent.npz"):
        assert (out / name).is_file(), name


def test_photo_batch_shares_one_inversion_per_photo_and_resumes(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    save_png(photos / "a.png", render_toy_photo(8).rgb)
    (photos / "b.jpg").write_text("broken")  # a bad photo fails its items, the rest go on
    out = tmp_path / "batch"
    args = [
        "batch",
        "--photos",
        photos,
        "--presets",
        "close_eyes,open_mouth",
        "--steps",
        "2",
        "--out",
        out,
    ] + FAST
    result = _run(args)
    assert result.exit_code == 1, result.output  # the batch tells the truth: some items failed
    assert "2 edited, 0 already done, 2 failed" in result.output
    assert "Error: 2 of 4 item(s) failed" in result.output
    assert len(list((out / "projects").iterdir())) == 1  # one inversion shared by the photo's two presets
    assert (out / "index.html").is_file() and "reconstruction.png" in (out / "index.html").read_text()
    failed = json.loads((out / "items" / "0001_b_close_eyes" / "failed.json").read_text())
    assert "b.jpg" in failed["error"]
    result = _run(args)
    assert "0 edited, 2 already done, 2 failed" in result.output and result.exit_code == 1
    # another strength: the finished items were made with other options, so the batch refuses them
    result = _run([*args, "--strength", "0.5"])
    assert result.exit_code == 1 and "made with other options" in result.output


def test_drag_on_a_photo_takes_photo_points_and_pastes_back(tmp_path):
    """`drag --photo`: points in the photo's (row, col) pixels reach the crop through the project's
    transform; the lid handle moves toward its target; nothing outside the paste mask changes."""
    tp = render_toy_photo(7)
    photo = tmp_path / "toy.png"
    save_png(photo, tp.rgb)
    proj = tmp_path / "proj"
    tuned = ["--steps-w", "10", "--steps-wplus", "2", "--steps-tune", "30"]  # FAST's blur loses the lid
    assert _run(["invert", photo, "--out", proj] + tuned).exit_code == 0
    lid, low = tp.landmarks[37], tp.landmarks[41]  # (x, y): upper lid 38 and lower lid 42
    target = (lid + low) / 2
    point = f"{lid[1]:.2f},{lid[0]:.2f}:{target[1]:.2f},{target[0]:.2f}"  # (row, col)
    out = tmp_path / "out"
    result = _run(
        ["drag", "--photo", photo, "--project", proj, "--point", point, "--steps", "30", "--out", out] + tuned
    )
    assert result.exit_code == 0, result.output
    record = json.loads((out / "result.json").read_text())
    assert record["preset"] == "drag" and record["project_reused"] and record["steps"] >= 1
    assert record["changed_outside_mask"] == 0 and record["changed_pixels"] > 0
    transform = json.loads((proj / "transform.json").read_text())["transform"]
    m = np.asarray(transform["crop_to_photo"])
    crop_handle = np.asarray(record["points_crop"][0][0])[::-1]  # (x, y) in the crop
    np.testing.assert_allclose(m[:, :2] @ crop_handle + m[:, 2], lid, atol=0.01)  # the 2-decimal --point
    start = np.linalg.norm(np.subtract(*record["points_crop"][0]))
    assert record["drag_distances"][0] < 0.5 * start  # the lid went most of the way down
    assert Image.open(out / "pasted.png").size == Image.open(photo).size
    # points off the face and a mask of the wrong size: one-line errors before any inversion, nothing written
    for extra, words in (
        (["--point", "1,1:2,2"], "outside the aligned face crop"),
        (["--point", point, "--mask", tmp_path / "mask.png"], "the photo's size"),
    ):
        save_png(tmp_path / "mask.png", np.full((10, 12, 3), 255, np.uint8))
        bad_out = tmp_path / "bad"
        result = _run(["drag", "--photo", photo, *extra, "--out", bad_out] + tuned)  # no project yet
        lines = result.output.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1 and words in lines[0], result.output
        assert not bad_out.exists()  # not even OUT/project: nothing was inverted
