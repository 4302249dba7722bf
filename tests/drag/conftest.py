"""Tiny random generators and latents for the drag tests (CPU, seconds per test)."""

from __future__ import annotations

import pytest
import torch

from autodrag.networks import build_generator
from autodrag.networks.default import random_generator


@pytest.fixture(autouse=True)
def _one_thread(_deterministic_torch):
    """One torch thread: these generators are tiny, and with two threads on two busy cores every small op
    waits for a descheduled OpenMP worker (measured 1.3 s vs 0.011 s per 128 px synthesis under load)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _mapped(G: torch.nn.Module, seed: int = 0) -> torch.Tensor:
    """ws [num_ws, w_dim] for a seeded z (psi 1)."""
    z = torch.randn([1, G.z_dim], generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return G.mapping(z, None)[0]


@pytest.fixture(scope="module")
def G64() -> torch.nn.Module:
    """StyleGAN2, 64 px, 5 blocks: the drag feature is the last block (64 x 64, 32 channels)."""
    return random_generator(64, seed=1).eval()


@pytest.fixture(scope="module")
def G128() -> torch.nn.Module:
    """StyleGAN2, 128 px, 6 blocks (feature 4 is 64 x 64: an upsampling factor of 2 to the image)."""
    return random_generator(128, seed=2).eval()


@pytest.fixture(scope="module")
def G3() -> torch.nn.Module:
    """StyleGAN3, 64 px, 8 layers: the drag feature map (84 x 84) has a 10-pixel margin around the image."""
    kwargs = {
        "z_dim": 32,
        "c_dim": 0,
        "w_dim": 32,
        "img_resolution": 64,
        "img_channels": 3,
        "mapping_kwargs": {"num_layers": 2},
        "channel_base": 1024,
        "channel_max": 32,
        "num_layers": 8,
    }
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        return build_generator("stylegan3", kwargs).eval()


@pytest.fixture(scope="module")
def ws64(G64) -> torch.Tensor:
    return _mapped(G64)


@pytest.fixture(scope="module")
def ws128(G128) -> torch.Tensor:
    return _mapped(G128)


@pytest.fixture(scope="module")
def ws3(G3) -> torch.Tensor:
    return _mapped(G3)
