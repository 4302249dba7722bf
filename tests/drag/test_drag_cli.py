"""`autodrag drag` on a saved 64 px random generator: outputs, continuing from a saved latent, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from autodrag.cli import main
from autodrag.drag.overlay import HANDLE_COLOR
from autodrag.latents import load_latent, z_from_seed
from autodrag.networks import load_generator, save_generator
from autodrag.networks.default import random_generator


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("ckpt") / "random64.safetensors"
    save_generator(random_generator(64, seed=5), path)
    return str(path)


@pytest.fixture
def drag(ckpt):
    return lambda *args: CliRunner().invoke(main, ["drag", "--ckpt", ckpt, "--device", "cpu", *args])


def test_drag_writes_images_gifs_latent_and_log(tmp_path, drag, ckpt):
    out = tmp_path / "out"
    mask = np.zeros((64, 64), dtype=np.uint8)
    mask[10:50, 10:50] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    result = drag(
        "--seed",
        "3",
        "--point",
        "30,20:30,30",
        "--point",
        "12.5,40:16,40",
        "--steps",
        "3",
        "--frame-every",
        "1",
        "--mask",
        str(tmp_path / "mask.png"),
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    for name in ("before.png", "after.png", "drag.gif", "drag_overlay.gif", "latent.npz", "log.json"):
        assert (out / name).is_file(), name
    before = np.asarray(Image.open(out / "before.png").convert("RGB"))
    assert before.shape == (256, 256, 3)  # 64 px upscaled 4x for legible marks
    assert tuple(before[30 * 4 + 1, 20 * 4 + 1]) == HANDLE_COLOR
    with Image.open(out / "drag.gif") as gif:
        assert gif.n_frames == 4 and gif.size == (64, 64)  # start, steps 1-2, end (step 3 ends the drag)
    log = json.loads((out / "log.json").read_text())
    assert [s["step"] for s in log["steps"]] == [1, 2, 3]
    assert set(log["steps"][0]) == {"step", "points", "distances", "loss", "ms"}
    assert log["result"]["reason"] == "max_steps" and log["handles"] == [[30, 20], [12.5, 40]]
    G = load_generator(ckpt)
    ws = load_latent(out / "latent.npz", G.num_ws, G.w_dim)
    with torch.no_grad():
        start = G.mapping(torch.from_numpy(z_from_seed(3, G.z_dim)), None)
    assert np.abs(ws - start[0].numpy()).max() > 0  # the drag changed the latent...
    np.testing.assert_array_equal(ws[6:], start[0, 6:].numpy())  # ...only in the optimised W+ rows
    again = drag(
        "--latent",
        str(out / "latent.npz"),
        "--point",
        "30,25:30,35",
        "--steps",
        "1",
        "--out",
        str(tmp_path / "again"),
    )
    assert again.exit_code == 0, again.output


@pytest.mark.parametrize(
    "args,message",
    [
        (["--point", "70,10:10,10"], "outside the 64x64 image"),
        (["--point", "10,10:10,10"], "target 0 equals its handle"),
        ([], "give at least one --point"),
        (["--point", "10,10;12,12"], "is not 'ROW,COL:ROW,COL'"),
        (["--point", "10,10:12"], "is not 'ROW,COL:ROW,COL'"),
        (["--point", "nan,10:12,12"], "NaN"),
        (["--point", "10,10:12,12", "--latent", "missing.npz"], "no such latent file"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, drag, args, message):
    result = drag(*args, "--out", str(tmp_path))
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "mask,message",
    [
        (np.full((32, 64), 255, np.uint8), "mask is 32x64, the image is 64x64"),
        (np.full((64, 64), 128, np.uint8), "not binary"),
        (np.zeros((64, 64), np.uint8), "no pixel as movable"),
    ],
)
def test_bad_mask(tmp_path, drag, mask, message):
    Image.fromarray(mask).save(tmp_path / "mask.png")
    result = drag("--point", "10,10:12,12", "--mask", str(tmp_path / "mask.png"), "--out", str(tmp_path))
    assert result.exit_code == 2 and message in result.output, result.output
