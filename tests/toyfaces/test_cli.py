"""`toyfaces render` and `landmarks` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from PIL import Image

from autodrag.landmarks.cli import landmarks_command
from autodrag.toyfaces.cli import toyfaces
from autodrag.toyfaces.render import render_seed


def test_render_writes_image_and_landmarks(tmp_path):
    result = CliRunner().invoke(
        toyfaces, ["render", "--seeds", "0-1,5", "--outdir", str(tmp_path), "--masks"]
    )
    assert result.exit_code == 0, result.output
    for seed in (0, 1, 5):
        image = np.asarray(Image.open(tmp_path / f"seed{seed:04d}.png"))
        meta = json.loads((tmp_path / f"seed{seed:04d}.json").read_text())
        expected = render_seed(seed)
        np.testing.assert_array_equal(image, expected.image)
        np.testing.assert_allclose(meta["landmarks_xy"], expected.landmarks, atol=1e-3)
        assert meta["seed"] == seed and meta["z_dim"] == 30 and len(meta["params"]) == 30
        assert (tmp_path / f"seed{seed:04d}_eyes_mask.png").is_file()


def test_render_rejects_bad_seeds(tmp_path):
    result = CliRunner().invoke(toyfaces, ["render", "--seeds", "3-1", "--outdir", str(tmp_path)])
    assert result.exit_code == 2 and "below its start" in result.output


def test_landmarks_prints_json(tmp_path, bundled_detector):
    paths = []
    for seed in (0, 1):
        p = tmp_path / f"{seed}.png"
        Image.fromarray(render_seed(seed).image).save(p)
        paths.append(str(p))
    result = CliRunner().invoke(landmarks_command, [*paths, "--backend", "toy", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert [item["image"] for item in payload] == paths
    assert np.asarray(payload[0]["landmarks_xy"]).shape == (68, 2)
    text = CliRunner().invoke(landmarks_command, paths[:1])
    assert text.exit_code == 0 and "EAR left" in text.output


def test_checkpoint_is_only_for_the_toy_backend(tmp_path):
    img = tmp_path / "a.png"
    Image.fromarray(render_seed(0).image).save(img)
    result = CliRunner().invoke(landmarks_command, [str(img), "--backend", "fan", "--checkpoint", str(img)])
    assert result.exit_code == 2 and "only the toy backend" in result.output


def test_landmarks_missing_checkpoint_is_a_clear_error(tmp_path):
    img = tmp_path / "a.png"
    Image.fromarray(render_seed(0).image).save(img)
    result = CliRunner().invoke(
        landmarks_command, [str(img), "--checkpoint", str(tmp_path / "x.safetensors")]
    )
    assert result.exit_code == 1 and "missing" in result.output and "train-landmarks" in result.output


def test_train_generator_export_without_a_state_says_so(tmp_path):
    out = tmp_path / "g.safetensors"
    result = CliRunner().invoke(
        toyfaces, ["train-generator", "--run", str(tmp_path / "run"), "--no-train", "--export", str(out)]
    )
    assert result.exit_code == 1 and "no training state to export" in result.output
    assert not out.exists()


def test_the_training_script_is_the_command():
    import runpy

    script = runpy.run_path(
        str(Path(__file__).resolve().parents[2] / "scripts" / "train_toyfaces_generator.py")
    )
    assert script["train_generator_command"] is toyfaces.commands["train-generator"]
