"""The bundled default generator: `checkpoints/toyfaces128.safetensors` when present.

Until the toy-faces model is trained and committed, the default is a small StyleGAN2 with
random weights (fixed seed), and every caller is told so.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch

from autodrag.networks import stylegan2

__all__ = ["CHECKPOINT_DIR", "BUNDLED_GENERATOR", "RandomDefaultWarning", "load_default_generator",
           "random_generator"]

CHECKPOINT_DIR = Path(os.environ.get("AUTODRAG_CHECKPOINTS", Path(__file__).resolve().parents[2] / "checkpoints"))
BUNDLED_GENERATOR = CHECKPOINT_DIR / "toyfaces128.safetensors"


class RandomDefaultWarning(UserWarning):
    """The bundled checkpoint is absent: a random-weight stand-in is used."""


def random_generator(img_resolution: int = 64, seed: int = 0, **kwargs: int) -> stylegan2.Generator:
    """A small StyleGAN2 with random (seeded) weights, for demos and tests."""
    config = dict(z_dim=64, c_dim=0, w_dim=64, img_resolution=img_resolution, img_channels=3,
                  mapping_kwargs=dict(num_layers=2), synthesis_kwargs=dict(channel_base=2048, channel_max=64))
    config.update(kwargs)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return stylegan2.Generator(**config)


def load_default_generator() -> torch.nn.Module:
    """The bundled generator, or (until it exists) a seeded random-weight stand-in with a warning."""
    from autodrag.networks.loading import load_generator

    if BUNDLED_GENERATOR.exists():
        return load_generator(BUNDLED_GENERATOR)
    warnings.warn(f"bundled model {BUNDLED_GENERATOR.name} is not present yet: using a small StyleGAN2 with "
                  "random weights (images are noise-like patterns, not faces)", RandomDefaultWarning, stacklevel=3)
    return random_generator()
