"""pix2pix checkpoints that do not fit: one CheckpointError line, not torch's size-mismatch report or a KeyError."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from autodrag.pix2pix.config import TrainConfig, config_to_dict
from autodrag.pix2pix.errors import CheckpointError
from autodrag.pix2pix.infer import load_translator
from autodrag.pix2pix.networks import GeneratorConfig, build_translator


def _config(ngf: int) -> dict:
    small = GeneratorConfig(ngf=ngf, unet_depth=3, norm="instance")
    return config_to_dict(dataclasses.replace(TrainConfig(), generator=small))


@pytest.mark.parametrize(
    "payload,message",
    [
        (lambda: {"kind": "pix2pix-generator", "config": _config(4)}, "no 'netG' entry"),
        (lambda: {"kind": "pix2pix", "config": _config(4), "trainer": {}}, "no 'netG' entry"),
        (
            lambda: {
                "kind": "pix2pix-generator",
                "config": _config(8),
                "netG": build_translator(GeneratorConfig(ngf=4, unet_depth=3, norm="instance")).state_dict(),
            },
            "do not fit the generator",
        ),
    ],
)
def test_unfit_checkpoint_is_one_line(tmp_path, payload, message):
    torch.save(payload(), tmp_path / "g.pt")
    with pytest.raises(CheckpointError, match=message) as info:
        load_translator(tmp_path / "g.pt")
    assert "\n" not in str(info.value) and "g.pt" in str(info.value)


def test_failed_start_leaves_no_run_folder(tmp_path):
    """8x8 images through a 4-level U-Net fail in the first step: no half-made run folder stays behind."""
    from autodrag.pix2pix.handwriting.demo import make_demo_dataset
    from autodrag.pix2pix.train import train
    from tests.pix2pix.conftest import tiny_config

    root = make_demo_dataset(tmp_path / "data", n_train=4, n_val=2, size=(8, 8), seed=1)
    cfg = tiny_config(root)
    run = tmp_path / "run"
    with pytest.raises(Exception):  # noqa: B017 - the failure itself is torch's; what matters is the folder
        train(run, cfg)
    assert not run.exists()
