"""Reproducible records: result.json holds everything to re-run an edit, and re-running reproduces it."""

from __future__ import annotations

import json
from dataclasses import fields

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from autodrag.cli import main
from autodrag.drag import DragConfig
from autodrag.networks import save_generator
from autodrag.networks.default import random_generator
from autodrag.presets.record import CONTEXT_KEYS, RecordError, edit_context, file_sha256, rerun_from_record
from tests.presets.test_edit import FixedLandmarks


@pytest.fixture()
def small_ckpt(tmp_path, monkeypatch):
    path = save_generator(random_generator(64), tmp_path / "g.safetensors")
    for where in ("autodrag.presets.cli.detector_for", "autodrag.presets.record.detector_for"):
        monkeypatch.setattr(where, lambda *a, **k: FixedLandmarks(64))
    return path


def _edit(tmp_path, ckpt, *args: str) -> dict:
    out = tmp_path / "edit"
    result = CliRunner().invoke(
        main,
        [
            "edit",
            "--preset",
            "close_eyes,smile",
            "--ckpt",
            str(ckpt),
            "--steps",
            "5",
            "--out",
            str(out),
            "--device",
            "cpu",
            *args,
        ],
    )
    assert result.exit_code == 0, result.output
    return json.loads((out / "result.json").read_text())


def test_record_holds_every_input_of_the_edit(tmp_path, small_ckpt):
    record = _edit(
        tmp_path,
        small_ckpt,
        "--seed",
        "3",
        "--trunc",
        "0.5",
        "--lr",
        "3e-3",
        "--no-guide",
        "--tracking",
        "features",
    )
    assert set(CONTEXT_KEYS) <= set(record)
    assert record["truncation_psi"] == 0.5 and record["seed"] == 3 and record["latent"] is None
    assert record["checkpoint"] == str(small_ckpt) and record["checkpoint_sha256"] == file_sha256(small_ckpt)
    assert record["device"] == "cpu" and record["autodrag_version"] and record["landmarks"] == "auto"
    assert set(record["drag_config"]) == {f.name for f in fields(DragConfig)}
    assert record["drag_config"]["lr"] == 3e-3 and record["drag_config"]["max_steps"] == 5
    assert DragConfig(**record["drag_config"]).patience == 40  # the preset tuning went in
    assert (record["tracking"], record["guide"], record["mask"], record["strength"]) == (
        "features",
        False,
        True,
        1.0,
    )
    assert record["preset"] == "close_eyes,smile" and record["landmark_tracking"] is False


def test_rerun_from_record_reproduces_the_image_bit_for_bit(tmp_path, small_ckpt):
    record = _edit(tmp_path, small_ckpt, "--seed", "5", "--trunc", "0.6", "--strength", "0.8")
    out = tmp_path / "edit"
    edited = np.asarray(Image.open(out / "edited.png"))
    again = rerun_from_record(out / "result.json", detector=FixedLandmarks(64))
    np.testing.assert_array_equal(again.image_after, edited)
    np.testing.assert_array_equal(again.latent, np.load(out / "latent.npz")["ws"])
    assert again.steps == record["steps"] and again.md_px == pytest.approx(record["md_px"], abs=1e-4)
    # a different psi is a different face: the record's psi is what reproduces it
    other = dict(record, truncation_psi=0.9)
    (tmp_path / "other.json").write_text(json.dumps(other))
    assert not np.array_equal(rerun_from_record(tmp_path / "other.json").image_before, again.image_before)
    # the CLI re-run writes the same image and records what it re-ran
    result = CliRunner().invoke(
        main, ["edit", "--from", str(out / "result.json"), "--out", str(tmp_path / "again")]
    )
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "again" / "edited.png")), edited)
    rerun = json.loads((tmp_path / "again" / "result.json").read_text())
    assert rerun["rerun_of"] == str(out / "result.json") and rerun["drag_config"] == record["drag_config"]


def test_rerun_from_a_latent_file_and_changed_inputs(tmp_path, small_ckpt):
    G = random_generator(64)
    ws = G.mapping(__import__("torch").randn([1, G.z_dim]), None)[0].detach().numpy()
    np.savez(tmp_path / "start.npz", ws=ws)
    record = _edit(tmp_path, small_ckpt, "--latent", str(tmp_path / "start.npz"))
    assert record["seed"] is None and record["latent_sha256"] == file_sha256(tmp_path / "start.npz")
    path = tmp_path / "edit" / "result.json"
    again = rerun_from_record(path)
    np.testing.assert_array_equal(again.image_after, np.asarray(Image.open(tmp_path / "edit" / "edited.png")))
    np.savez(tmp_path / "start.npz", ws=ws + 1)
    with pytest.raises(RecordError, match="latent file .*start.npz has changed"):
        rerun_from_record(path)
    bad = CliRunner().invoke(main, ["edit", "--from", str(path), "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "has changed since the edit" in bad.output


def test_unusable_records_fail_with_one_line(tmp_path, small_ckpt):
    (tmp_path / "old.json").write_text(json.dumps({"preset": "smile", "seed": 1}))
    with pytest.raises(RecordError, match="old.json: not a reproducible record .*missing strength"):
        rerun_from_record(tmp_path / "old.json")
    with pytest.raises(RecordError, match="nothing.json: no such file"):
        rerun_from_record(tmp_path / "nothing.json")
    result = CliRunner().invoke(main, ["edit", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "give --preset (or --from result.json)" in result.output
    context = edit_context(
        ckpt=small_ckpt, seed=1, latent=None, truncation_psi=0.7, landmarks="toy", device="cpu"
    )
    assert tuple(context) == CONTEXT_KEYS
