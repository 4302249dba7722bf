"""Inference: one image, a folder, a split, from Python; metrics; HTML; dropout modes; TorchScript."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from autodrag.pix2pix.datasets import DataConfig
from autodrag.pix2pix.errors import CheckpointError, DatasetError
from autodrag.pix2pix.export import export_torchscript
from autodrag.pix2pix.images import load_image, to_tensor
from autodrag.pix2pix.infer import Predictor, evaluate_split, load_translator, predict_folder
from autodrag.pix2pix.metrics import image_metrics


def _first_source(root: Path) -> Path:
    return min((root / "val" / "A").glob("*.png"))


def test_python_call_accepts_paths_images_arrays_tensors(trained_run: Path, small_root: Path) -> None:
    predictor = Predictor.from_checkpoint(trained_run, eval_mode=True)
    src = _first_source(small_root)
    img = load_image(src, 1)
    outputs = [predictor(src), predictor(img), predictor(np.asarray(img)), predictor(to_tensor(img))]
    assert all(o.size == (64, 32) and o.mode == "L" for o in outputs)
    arrays = [np.asarray(o) for o in outputs]
    assert all(np.array_equal(arrays[0], a) for a in arrays[1:])  # --eval is deterministic
    odd = predictor(img.resize((50, 21)))
    assert odd.size == (50, 21)


def test_test_time_dropout_is_seeded_and_leaves_no_trace(trained_run: Path, small_root: Path) -> None:
    src = _first_source(small_root)
    net, cfg = load_translator(trained_run)
    running = {k: v.clone() for k, v in net.state_dict().items() if "running" in k}
    global_state = torch.get_rng_state()
    a = np.asarray(Predictor(net, cfg, seed=1)(src))
    assert torch.equal(torch.get_rng_state(), global_state)  # the global generator is untouched
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in running.items())  # running stats too
    net2, _ = load_translator(trained_run)
    b = np.asarray(Predictor(net2, cfg, seed=1)(src))
    net3, _ = load_translator(trained_run)
    c = np.asarray(Predictor(net3, cfg, seed=2)(src))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)  # dropout is on by default, as in the paper


def test_folder_with_targets_metrics_and_html(trained_run: Path, small_root: Path, tmp_path: Path) -> None:
    predictor = Predictor.from_checkpoint(trained_run, eval_mode=True)
    report = predict_folder(
        predictor, small_root / "val" / "A", tmp_path / "out", targets=small_root / "val" / "B"
    )
    assert len(report.items) == 4 and all(
        (tmp_path / "out" / f"{it.name}.png").is_file() for it in report.items
    )
    assert set(report.mean_metrics()) == {"L1", "PSNR", "SSIM"}
    html = report.index_html.read_text()
    assert html.count("<img") == 12  # input, output, target per image
    assert report.metrics_csv.read_text().startswith("name,L1,PSNR,SSIM")
    single = predict_folder(predictor, _first_source(small_root), tmp_path / "one")
    assert len(single.items) == 1 and single.metrics_csv is None
    with pytest.raises(DatasetError, match="no target in .* for: "):
        predict_folder(
            predictor, small_root / "val" / "A", tmp_path / "x", targets=small_root / "train" / "B"
        )


def test_evaluate_split(trained_run: Path, small_root: Path, tmp_path: Path) -> None:
    predictor = Predictor.from_checkpoint(trained_run, eval_mode=True)
    report = evaluate_split(predictor, DataConfig(dataroot=str(small_root)), tmp_path / "res", phase="val")
    assert len(report.items) == 4
    assert len(list((tmp_path / "res" / "images").glob("*_fake_B.png"))) == 4
    assert 0 < report.mean_metrics()["L1"] < 1


def test_metrics_against_known_values() -> None:
    rng = np.random.default_rng(0)
    a = Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    same = image_metrics(a, a)
    assert same["L1"] == 0 and same["PSNR"] == float("inf") and same["SSIM"] == pytest.approx(1.0)
    b = Image.fromarray(np.clip(np.asarray(a).astype(int) + 10, 0, 255).astype(np.uint8))
    m = image_metrics(b, a)
    assert 0 < m["L1"] <= 10 / 255 + 1e-9 and 28 < m["PSNR"] < 30 and m["SSIM"] < 1
    with pytest.raises(ValueError, match="output is"):
        image_metrics(a, a.resize((16, 16)))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_torchscript_export_matches_eager(trained_run: Path, tmp_path: Path) -> None:
    path = export_torchscript(trained_run, tmp_path / "G.pt")
    scripted = torch.jit.load(str(path))
    net, _ = load_translator(trained_run)
    net.eval()
    x = torch.rand(2, 1, 27, 45) * 2 - 1  # any size
    with torch.no_grad():
        assert torch.allclose(scripted(x), net(x), atol=1e-5)


def test_generator_snapshots_and_bad_checkpoints(trained_run: Path, tmp_path: Path) -> None:
    _net, cfg = load_translator(trained_run / "G_epoch_0002.pt")
    assert cfg.unet_depth == 4
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_translator(tmp_path)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        load_translator(tmp_path / "junk.pt")
