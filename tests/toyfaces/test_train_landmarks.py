"""A tiny landmark-training run: resumes, writes the checkpoint and its JSON record."""

from __future__ import annotations

import json

import numpy as np
import torch

from autodrag.landmarks.heatmap_net import HeatmapNetConfig
from autodrag.landmarks.toy import ToyLandmarkDetector
from autodrag.toyfaces.augment import AugmentConfig, augment_batch
from autodrag.toyfaces.render import render_seed
from autodrag.toyfaces.train_landmarks import LandmarkTrainConfig, train_landmarks


def _cfg(tmp_path, steps):
    return LandmarkTrainConfig(
        run_dir=str(tmp_path / "run"),
        output=str(tmp_path / "det.safetensors"),
        steps=steps,
        batch_size=4,
        warmup=1,
        train_faces=6,
        val_faces=3,
        checkpoint_every=2,
        eval_every=2,
        net=HeatmapNetConfig(stem_channels=8, channels=(8, 8, 8), head_channels=8),
    )


def test_resumable_training_and_record(tmp_path):
    train_landmarks(_cfg(tmp_path, 2))
    state = torch.load(tmp_path / "run" / "state.pt", weights_only=False)
    assert state["step"] == 2
    seen = []

    def extra(count, rng):  # an extra labelled source, e.g. generator outputs
        seen.append(count)
        r = render_seed(int(rng.integers(100)))
        return np.stack([r.image] * count), np.stack([r.landmarks] * count)

    cfg = _cfg(tmp_path, 4)
    cfg.extra_fraction = 0.5
    metrics = train_landmarks(cfg, extra_source=extra)
    assert torch.load(tmp_path / "run" / "state.pt", weights_only=False)["step"] == 4
    assert seen == [2, 2]  # only the two resumed steps ran
    meta = json.loads((tmp_path / "det.json").read_text())
    assert meta["script"] == "scripts/train_toyfaces_landmarks.py" and meta["git_commit"]
    assert meta["training"]["steps"] == 4 and "nme_mean" in meta["metrics"]["val_renders"]
    assert metrics["size_bytes"] > 0 and not list(tmp_path.glob("**/*.tmp"))
    det = ToyLandmarkDetector(tmp_path / "det.safetensors")
    assert det.detect(render_seed(0).image).shape == (68, 2)


def test_augment_keeps_shapes_and_range():
    r = [render_seed(s) for s in range(3)]
    x = torch.from_numpy(np.stack([a.image for a in r])).permute(0, 3, 1, 2).float() / 255
    y = torch.from_numpy(np.stack([a.landmarks for a in r]))
    xa, ya = augment_batch(x, y, AugmentConfig(), torch.Generator().manual_seed(0))
    assert xa.shape == x.shape and ya.shape == y.shape and xa.min() >= 0 and xa.max() <= 1
    assert (ya - y).abs().max() < 40


def test_generator_dataset_labels_with_renderer_landmarks():
    from autodrag.networks import build_generator
    from autodrag.toyfaces.eval_landmarks import generator_dataset
    from autodrag.toyfaces.params import Z_DIM

    torch.manual_seed(0)
    G = build_generator(
        "stylegan2",
        {
            "z_dim": Z_DIM,
            "c_dim": 0,
            "w_dim": 16,
            "img_resolution": 32,
            "img_channels": 3,
            "mapping_kwargs": {"num_layers": 1},
            "synthesis_kwargs": {"channel_base": 64, "channel_max": 16},
        },
    ).eval()
    images, marks = generator_dataset(G, [0, 1, 2], batch=2)
    assert images.shape == (3, 32, 32, 3) and images.dtype == np.uint8
    np.testing.assert_allclose(marks[1], render_seed(1).landmarks / 4 - 0.375, atol=1e-3)  # 128 -> 32 px
