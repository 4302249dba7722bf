"""Tuned weights on disk: only changed tensors, exact round trip, base fingerprint, non-finite values."""

from __future__ import annotations

import copy
import json

import pytest
import torch
from safetensors.torch import load_file, safe_open, save_file

from autodrag.networks.default import random_generator
from autodrag.photos.tuned import TunedWeightsError, fingerprint, load_tuned, save_tuned


def _render(G: torch.nn.Module) -> torch.Tensor:
    ws = G.mapping(torch.randn([1, G.z_dim], generator=torch.Generator().manual_seed(3)), None)
    with torch.no_grad():
        return G.synthesis(ws, noise_mode="const")


@pytest.fixture(scope="module")
def pair():
    G = random_generator(32).eval()
    tuned = copy.deepcopy(G)
    with torch.no_grad():
        tuned.synthesis.b32.torgb.weight.add_(0.05 * torch.randn_like(tuned.synthesis.b32.torgb.weight))
        tuned.synthesis.b16.conv0.noise_const.normal_()
    return G, tuned


def test_round_trip_is_exact_and_stores_only_changed(pair, tmp_path):
    G, tuned = pair
    before = fingerprint(G)
    path = save_tuned(G, tuned, tmp_path / "tuned.safetensors")
    stored = load_file(str(path))
    assert set(stored) == {"synthesis.b32.torgb.weight", "synthesis.b16.conv0.noise_const"}
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    assert meta["stored"] == "changed" and set(json.loads(meta["changed"])) == set(stored)
    loaded = load_tuned(G, path)
    assert torch.equal(_render(loaded), _render(tuned)) and not torch.equal(_render(loaded), _render(G))
    assert fingerprint(G) == before and loaded is not G


def test_everything_stored_when_most_changed(pair, tmp_path):
    G, _ = pair
    tuned = copy.deepcopy(G)
    with torch.no_grad():
        for p in tuned.parameters():
            p.add_(0.01)
    path = save_tuned(G, tuned, tmp_path / "all.safetensors")
    assert set(load_file(str(path))) == set(G.state_dict())
    assert torch.equal(_render(load_tuned(G, path)), _render(tuned))


def test_wrong_base_is_a_one_line_error(pair, tmp_path):
    G, tuned = pair
    path = save_tuned(G, tuned, tmp_path / "tuned.safetensors")
    with pytest.raises(TunedWeightsError, match="another base generator") as info:
        load_tuned(random_generator(32, seed=1), path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_non_finite_and_unreadable_files(pair, tmp_path):
    G, tuned = pair
    path = save_tuned(G, tuned, tmp_path / "tuned.safetensors")
    tensors = load_file(str(path))
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    tensors["synthesis.b32.torgb.weight"][0, 0] = float("nan")
    bad = tmp_path / "nan.safetensors"
    save_file(tensors, str(bad), metadata=meta)
    with pytest.raises(TunedWeightsError, match="non-finite") as info:
        load_tuned(G, bad)
    assert str(bad) in str(info.value) and "\n" not in str(info.value)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(TunedWeightsError, match=str(junk)):
        load_tuned(G, junk)
    with pytest.raises(TunedWeightsError, match="no such"):
        load_tuned(G, tmp_path / "missing.safetensors")
