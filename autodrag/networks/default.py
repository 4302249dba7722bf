"""The bundled default generator `checkpoints/toyfaces128.safetensors` (+ .json), and a small random one for tests.

The bundled model is trained by `autodrag toyfaces train-generator` (see docs/TOYFACES.md). When it
is missing or unreadable, every command that needs it says how to restore or retrain it.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from autodrag.networks import stylegan2

__all__ = ["CHECKPOINT_DIR", "BUNDLED_GENERATOR", "RESTORE_HINT", "load_default_generator", "random_generator"]

CHECKPOINT_DIR = Path(os.environ.get("AUTODRAG_CHECKPOINTS", Path(__file__).resolve().parents[2] / "checkpoints"))
BUNDLED_GENERATOR = CHECKPOINT_DIR / "toyfaces128.safetensors"
RESTORE_HINT = ("restore it with `git checkout -- checkpoints/` or retrain it with `autodrag toyfaces "
                "train-generator` then `autodrag toyfaces train-generator --minutes 0 --export "
                f"{BUNDLED_GENERATOR}` (docs/TOYFACES.md), or pass --ckpt")


def random_generator(img_resolution: int = 64, seed: int = 0, **kwargs: int) -> stylegan2.Generator:
    """A small StyleGAN2 with random (seeded) weights, for tests and benchmarks."""
    config = dict(z_dim=64, c_dim=0, w_dim=64, img_resolution=img_resolution, img_channels=3,
                  mapping_kwargs=dict(num_layers=2), synthesis_kwargs=dict(channel_base=2048, channel_max=64))
    config.update(kwargs)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return stylegan2.Generator(**config)


def load_default_generator() -> torch.nn.Module:
    """The bundled generator.

    Raises:
        GeneratorLoadError: it is missing or corrupt (the message says how to restore or retrain it).
    """
    from autodrag.networks.loading import GeneratorLoadError, load_generator

    if not BUNDLED_GENERATOR.is_file():
        raise GeneratorLoadError(f"the bundled model {BUNDLED_GENERATOR} is missing: {RESTORE_HINT}")
    try:
        return load_generator(BUNDLED_GENERATOR)
    except GeneratorLoadError as exc:
        raise GeneratorLoadError(f"{exc} (the bundled model: {RESTORE_HINT})") from None
