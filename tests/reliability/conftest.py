"""Fixtures of the reliability corpus: tiny generators (one with NaN weights), folder snapshots."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from autodrag.networks import save_generator
from autodrag.networks.default import random_generator


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory) -> Path:
    """A 64 px random StyleGAN2 as .safetensors (loads in well under a second)."""
    return save_generator(random_generator(64), tmp_path_factory.mktemp("ckpt") / "tiny.safetensors")


@pytest.fixture(scope="session")
def nan_ckpt(tmp_path_factory) -> Path:
    """The same generator with one NaN in the last ToRGB layer's weight only (blank images without a check)."""
    G = random_generator(64)
    name = [n for n, _ in G.named_parameters() if "torgb" in n and n.endswith("weight")][-1]
    with torch.no_grad():
        dict(G.named_parameters())[name].view(-1)[0] = float("nan")
    return save_generator(G, tmp_path_factory.mktemp("nan") / "nan_torgb.safetensors")


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> content hash of every file under `folder` (empty when it does not exist)."""
    if not folder.exists():
        return {}
    if folder.is_file():
        return {".": hashlib.sha1(folder.read_bytes()).hexdigest()}
    return {
        str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def leftovers(folder: Path) -> list[str]:
    """Temp files, staging folders and claims anywhere under `folder` (none may survive a command)."""
    return sorted(
        str(p)
        for p in folder.rglob("*")
        if p.name.endswith(".tmp") or p.name.endswith(".claim") or p.name.endswith(".lock")
    )
