"""Fixtures of the pix2pix tests: the offline demo dataset and tiny, fast configurations."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from autodrag.pix2pix.config import TrainConfig
from autodrag.pix2pix.datasets import DataConfig
from autodrag.pix2pix.discriminators import DiscriminatorConfig
from autodrag.pix2pix.handwriting.demo import make_demo_dataset
from autodrag.pix2pix.networks import GeneratorConfig


@pytest.fixture(autouse=True)
def _one_thread():
    """One intra-op thread: the tiny networks here gain nothing from more, and on a shared
    machine OpenMP threads spinning against each other made these tests several times slower."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Names in a plain font (A) -> the same names slanted and wavy (B); 64x32, 48 train / 12 val."""
    return make_demo_dataset(tmp_path_factory.mktemp("demo"), n_train=48, n_val=12, size=(64, 32), seed=0)


@pytest.fixture(scope="session")
def small_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-pair version of the demo dataset for tests that only need the machinery to run."""
    return make_demo_dataset(tmp_path_factory.mktemp("small"), n_train=8, n_val=4, size=(64, 32), seed=1)


def tiny_config(dataroot: Path, **overrides) -> TrainConfig:
    """A grey-scale U-Net / PatchGAN small enough to train for a few epochs in seconds."""
    cfg = TrainConfig(
        generator=GeneratorConfig(in_channels=1, out_channels=1, ngf=8, unet_depth=4),
        discriminator=DiscriminatorConfig(ndf=8, n_layers=2),
        data=DataConfig(dataroot=str(dataroot)),
        batch_size=4,
        n_epochs=1,
        n_epochs_decay=1,
        progress=False,
        log_every_steps=2,
        save_every_epochs=1,
    )
    for key, value in overrides.items():
        target = cfg
        *path, last = key.split("__")  # "generator__ngf" sets cfg.generator.ngf
        for part in path:
            target = getattr(target, part)
        if not any(f.name == last for f in dataclasses.fields(target)):
            raise KeyError(key)
        setattr(target, last, value)
    return cfg


@pytest.fixture
def make_config():
    """Factory: ``make_config(root, generator__ngf=16, batch_size=2, ...)``."""
    return tiny_config


@pytest.fixture(scope="session")
def trained_run(small_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder after two quick epochs on ``small_root`` (weights are barely trained)."""
    from autodrag.pix2pix.train import train

    torch.set_num_threads(1)
    run = tmp_path_factory.mktemp("trained") / "run"
    train(run, tiny_config(small_root))
    return run
