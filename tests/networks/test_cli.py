"""`autodrag generate / info / convert` on real-format pickles and the bundled default."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from autodrag.cli import main
from autodrag.latents import load_latent, z_from_seed
from autodrag.networks import load_generator


def test_generate_writes_images_and_latents_that_reproduce(tmp_path, nvidia_pickles):
    pkl = nvidia_pickles / "sg2ada_64.pkl"
    result = CliRunner().invoke(
        main,
        [
            "generate",
            "--ckpt",
            str(pkl),
            "--seeds",
            "3,5-6",
            "--trunc",
            "0.7",
            "--outdir",
            str(tmp_path),
            "--device",
            "cpu",
        ],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["seed0003.png", "seed0005.png", "seed0006.png"]
    G = load_generator(pkl)
    ws = load_latent(tmp_path / "seed0005.npz", G.num_ws, G.w_dim)
    data = np.load(tmp_path / "seed0005.npz")
    np.testing.assert_array_equal(data["z"], z_from_seed(5, G.z_dim)[0])
    with torch.no_grad():
        img = G.synthesis(torch.from_numpy(ws)[None], noise_mode="const")
    expected = (img[0].permute(1, 2, 0) * 127.5 + 128).clamp(0, 255).to(torch.uint8).numpy()
    png = np.asarray(Image.open(tmp_path / "seed0005.png"))
    assert np.abs(png.astype(int) - expected.astype(int)).max() <= 1


def test_generate_conditional_needs_class(tmp_path, nvidia_pickles):
    pkl = nvidia_pickles / "sg2_sg3repo_64_cond.pkl"
    runner = CliRunner()
    result = runner.invoke(main, ["generate", "--ckpt", str(pkl), "--seeds", "0", "--outdir", str(tmp_path)])
    assert result.exit_code != 0 and "--class" in result.output
    result = runner.invoke(
        main, ["generate", "--ckpt", str(pkl), "--seeds", "0", "--class", "2", "--outdir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name,family,num_ws", [("sg2ada_64", "stylegan2", 10), ("sg3t_64", "stylegan3", 16)])
def test_info(nvidia_pickles, name, family, num_ws):
    result = CliRunner().invoke(main, ["info", str(nvidia_pickles / f"{name}.pkl")])
    assert result.exit_code == 0, result.output
    assert f"family:      {family}" in result.output
    assert f"num_ws:      {num_ws}" in result.output
    assert "64x64x3" in result.output


@pytest.mark.parametrize("seeds,message", [("3-1", "below its start"), ("a", "is not a seed")])
def test_bad_seeds(tmp_path, seeds, message):
    result = CliRunner().invoke(main, ["generate", "--seeds", seeds, "--outdir", str(tmp_path)])
    assert result.exit_code == 2 and message in result.output


@pytest.mark.parametrize("content", [None, b"not a safetensors file"], ids=["missing", "corrupt"])
def test_a_missing_or_corrupt_bundled_model_says_how_to_restore_it(tmp_path, monkeypatch, content):
    from autodrag import paths

    bundled = tmp_path / "toyfaces128.safetensors"
    if content is not None:
        bundled.write_bytes(content)
        bundled.with_suffix(".json").write_text("{}")
    monkeypatch.setattr(paths, "BUNDLED_GENERATOR", bundled)
    result = CliRunner().invoke(main, ["generate", "--seeds", "0", "--outdir", str(tmp_path / "out")])
    assert result.exit_code != 0
    message = result.output.strip().splitlines()[-1]
    assert (
        str(bundled) in message and "git checkout -- checkpoints/" in message and "train-generator" in message
    )
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
