"""The toy-faces generator trainer: loss, learning, exact resume, atomic export with provenance."""

from __future__ import annotations

import json

import numpy as np
import torch

from autodrag.networks import load_generator
from autodrag.toyfaces.params import Z_DIM
from autodrag.toyfaces.train_generator import (
    GeneratorTrainConfig,
    export_generator,
    generator_kwargs,
    reconstruction_loss,
    train_generator,
)

TINY = dict(
    resolution=32,
    batch=4,
    channel_base=256,
    channel_max=32,
    w_dim=32,
    mapping_layers=2,
    sample_every=1000,
    checkpoint_every_s=1e9,
    lr=5e-3,
)


def test_loss_is_zero_for_a_perfect_image_and_weights_the_masks():
    target = torch.rand(2, 3, 32, 32) * 2 - 1
    weight = torch.ones(2, 1, 32, 32)
    assert reconstruction_loss(target, target, weight).item() == 0
    off = target.clone()
    off[:, :, :4, :4] += 0.5  # error only inside a small "eye" region
    heavy = weight.clone()
    heavy[:, :, :4, :4] = 8
    assert reconstruction_loss(off, target, heavy) > reconstruction_loss(off, target, weight)


def test_generator_config_is_nvidia_compatible_with_fast_mapping():
    kwargs = generator_kwargs(GeneratorTrainConfig())
    assert kwargs["z_dim"] == Z_DIM and kwargs["img_resolution"] == 128
    assert kwargs["mapping_kwargs"]["lr_multiplier"] == 1.0


def test_training_learns_and_resumes_exactly(tmp_path):
    cfg = GeneratorTrainConfig(total_steps=30, **TINY)
    data = torch.load(train_generator(tmp_path / "a", cfg, threads=1), weights_only=True)
    assert data["step"] == 30
    # the same run in two pieces (killed after 12 steps, resumed) ends bit-identical
    train_generator(tmp_path / "b", cfg, threads=1, steps=12)
    assert torch.load(tmp_path / "b" / "state.pt", weights_only=True)["step"] == 12
    final = torch.load(train_generator(tmp_path / "b", threads=1), weights_only=True)
    assert final["step"] == 30
    for name, value in data["G_ema"].items():
        torch.testing.assert_close(final["G_ema"][name], value, rtol=0, atol=0, msg=name)
    for name, value in data["G"].items():
        torch.testing.assert_close(final["G"][name], value, rtol=0, atol=0, msg=name)


def test_training_reduces_the_loss(tmp_path):
    cfg = GeneratorTrainConfig(total_steps=100, **TINY)
    data = torch.load(train_generator(tmp_path / "run", cfg, threads=1), weights_only=True)
    losses = [loss for _, loss in data["losses"]]  # running mean every 50 steps
    assert len(losses) == 2 and losses[1] < 0.7 * losses[0]


def test_export_writes_a_loadable_bundle_with_provenance(tmp_path):
    state = train_generator(tmp_path / "run", GeneratorTrainConfig(total_steps=2, **TINY), threads=1)
    out = export_generator(state, tmp_path / "toy.safetensors", metrics={"psnr_db_256_heldout": 12.3})
    G = load_generator(out)
    assert G.z_dim == Z_DIM and G.img_resolution == 32
    meta = json.loads((tmp_path / "toy.json").read_text())
    assert meta["produced_by"]["steps"] == 2 and meta["metrics"]["psnr_db_256_heldout"] == 12.3
    assert meta["produced_by"]["script"].endswith("train_toyfaces_generator.py")
    with torch.no_grad():
        img = G(torch.from_numpy(np.zeros((1, Z_DIM), np.float32)), None)
    assert img.shape == (1, 3, 32, 32)
