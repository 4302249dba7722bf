"""A small StyleGAN2 with random (seeded) weights, for tests and benchmarks.

The bundled default generator's path is `autodrag.paths.BUNDLED_GENERATOR`; its loader is
`autodrag.networks.loading.load_default_generator` (`load_generator(None)`).
"""

from __future__ import annotations

import torch

from autodrag.networks import stylegan2

__all__ = ["random_generator"]


def random_generator(img_resolution: int = 64, seed: int = 0, **kwargs: int) -> stylegan2.Generator:
    """A small StyleGAN2 with random (seeded) weights, for tests and benchmarks."""
    config = dict(
        z_dim=64,
        c_dim=0,
        w_dim=64,
        img_resolution=img_resolution,
        img_channels=3,
        mapping_kwargs=dict(num_layers=2),
        synthesis_kwargs=dict(channel_base=2048, channel_max=64),
    )
    config.update(kwargs)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return stylegan2.Generator(**config)
