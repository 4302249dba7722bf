"""Loading: safe NVIDIA pickles of many configurations, AutoDrag's safetensors format, and bad input."""

from __future__ import annotations

import json
import os
import pickle

import pytest
import torch
from click.testing import CliRunner

from autodrag.cli import main
from autodrag.networks import (
    GeneratorLoadError,
    UnsafePickleError,
    build_generator,
    load_generator,
    save_generator,
)
from tests.networks.nvidia_format import write_network_pickle

SMALL_SG2 = dict(
    z_dim=16,
    c_dim=0,
    w_dim=16,
    img_resolution=32,
    img_channels=3,
    mapping_kwargs=dict(num_layers=2),
    synthesis_kwargs=dict(channel_base=256, channel_max=16),
)
SMALL_SG3 = dict(
    z_dim=16,
    c_dim=0,
    w_dim=16,
    img_resolution=32,
    img_channels=3,
    mapping_kwargs=dict(num_layers=2),
    channel_base=256,
    channel_max=16,
    num_layers=6,
)

CONFIGS = {
    "sg2-skip": ("stylegan2", SMALL_SG2),
    "sg2-orig": (
        "stylegan2",
        {**SMALL_SG2, "synthesis_kwargs": {**SMALL_SG2["synthesis_kwargs"], "architecture": "orig"}},
    ),
    "sg2-resnet-cond": (
        "stylegan2",
        {
            **SMALL_SG2,
            "c_dim": 3,
            "synthesis_kwargs": {**SMALL_SG2["synthesis_kwargs"], "architecture": "resnet"},
        },
    ),
    "sg2-64-gray-deep-mapping": (
        "stylegan2",
        {**SMALL_SG2, "img_resolution": 64, "img_channels": 1, "mapping_kwargs": dict(num_layers=4)},
    ),
    "sg3-t": ("stylegan3", SMALL_SG3),
    "sg3-r-cond": ("stylegan3", {**SMALL_SG3, "c_dim": 2, "conv_kernel": 1, "use_radial_filters": True}),
}


def _randomize(G: torch.nn.Module) -> torch.nn.Module:
    """Give zero-initialised biases and noise strengths values, so every path matters."""
    with torch.no_grad():
        for name, p in G.named_parameters():
            if name.endswith("bias") or name.endswith("noise_strength"):
                p.add_(torch.randn_like(p) * 0.1)
            if name.endswith("input.affine.weight"):
                p.add_(torch.randn_like(p))
        G.mapping.w_avg.normal_()
    return G.eval()


def _outputs(G: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    z = torch.randn([2, G.z_dim], generator=g)
    c = torch.eye(max(G.c_dim, 1))[:2, : G.c_dim] if G.c_dim else torch.zeros([2, 0])
    with torch.no_grad():
        ws = G.mapping(z, c, truncation_psi=0.7)
        return ws, G.synthesis(ws, noise_mode="const")


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_nvidia_format_pickle_round_trip(tmp_path, name):
    family, kwargs = CONFIGS[name]
    G = _randomize(build_generator(family, kwargs))
    path = write_network_pickle(tmp_path / f"{name}.pkl", G)
    loaded = load_generator(path)
    assert loaded.family == family
    assert set(loaded.state_dict()) == set(G.state_dict())
    for a, b in zip(_outputs(G), _outputs(loaded)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("name", ["sg2-resnet-cond", "sg3-r-cond"])
def test_safetensors_round_trip_and_convert(tmp_path, name):
    family, kwargs = CONFIGS[name]
    G = _randomize(build_generator(family, kwargs))
    pkl = write_network_pickle(tmp_path / "g.pkl", G, protocol=3)
    result = CliRunner().invoke(main, ["convert", str(pkl), str(tmp_path / "g.safetensors")])
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "g.json").read_text())
    assert config["family"] == family
    loaded = load_generator(tmp_path / "g.safetensors")
    for a, b in zip(_outputs(G), _outputs(loaded)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_prefers_g_ema_and_accepts_g_ema_alone(tmp_path):
    G_ema = _randomize(build_generator(*CONFIGS["sg2-skip"]))
    G = _randomize(build_generator(*CONFIGS["sg2-skip"]))
    both = write_network_pickle(tmp_path / "both.pkl", G, keys=("G",))
    # write G_ema into the same snapshot under its own key
    from tests.networks.nvidia_format import _as_persistent, _install_fake_modules

    _install_fake_modules()
    data = {
        "G": _as_persistent(G, init_kwargs=G.init_kwargs),
        "G_ema": _as_persistent(G_ema, init_kwargs=G.init_kwargs),
    }
    both.write_bytes(pickle.dumps(data))
    torch.testing.assert_close(_outputs(load_generator(both))[1], _outputs(G_ema)[1])
    only = write_network_pickle(tmp_path / "only.pkl", G_ema, keys=("G_ema",))
    torch.testing.assert_close(_outputs(load_generator(only))[1], _outputs(G_ema)[1])


class _Evil:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_disallowed_global_is_refused_and_not_executed(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"G_ema": _Evil(str(marker))}))
    with pytest.raises(
        GeneratorLoadError, match=r"evil\.pkl: refused to load: disallowed global (posix|os)\.system"
    ):
        load_generator(path)
    assert not marker.exists()
    with pytest.raises(UnsafePickleError):
        from autodrag.networks.pickle_reader import read_network_pickle

        with open(path, "rb") as f:
            read_network_pickle(f)


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "truncated"),
        (b"this is not a pickle at all", "not a readable network pickle"),
        (pickle.dumps({"D": 1, "augment_pipe": None}), "no 'G_ema' or 'G' network"),
        (pickle.dumps([1, 2, 3]), "holds a list, not a network snapshot"),
    ],
)
def test_bad_pickles_give_one_line_errors(tmp_path, content, message):
    path = tmp_path / "bad.pkl"
    path.write_bytes(content)
    with pytest.raises(GeneratorLoadError, match=message) as info:
        load_generator(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_truncated_real_pickle(tmp_path, nvidia_pickles):
    data = (nvidia_pickles / "sg2ada_64.pkl").read_bytes()
    path = tmp_path / "cut.pkl"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(GeneratorLoadError, match="cut.pkl: .*(truncated|not a readable)"):
        load_generator(path)


def test_unknown_family_in_pickle(tmp_path):
    G = _randomize(build_generator(*CONFIGS["sg2-skip"]))
    G.synthesis = torch.nn.Module()  # neither b4... blocks nor a StyleGAN3 input layer
    path = write_network_pickle(tmp_path / "odd.pkl", G)
    with pytest.raises(GeneratorLoadError, match="odd.pkl: unknown generator family"):
        load_generator(path)


def test_safetensors_shapes_disagree_with_config(tmp_path):
    G = build_generator(*CONFIGS["sg2-skip"])
    path = save_generator(G, tmp_path / "g.safetensors")
    config = json.loads((tmp_path / "g.json").read_text())
    config["init_kwargs"]["synthesis_kwargs"]["channel_max"] = 8
    (tmp_path / "g.json").write_text(json.dumps(config))
    with pytest.raises(GeneratorLoadError, match="g.safetensors: shapes disagree with its config"):
        load_generator(path)
    config["family"] = "stylegan9"
    (tmp_path / "g.json").write_text(json.dumps(config))
    with pytest.raises(GeneratorLoadError, match="unknown generator family 'stylegan9'"):
        load_generator(path)


def test_missing_and_corrupt_safetensors(tmp_path):
    with pytest.raises(GeneratorLoadError, match="nope.pkl: no such file"):
        load_generator(tmp_path / "nope.pkl")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 10)
    with pytest.raises(GeneratorLoadError, match="bad.safetensors: not a readable safetensors file"):
        load_generator(bad)


def test_cli_errors_exit_nonzero_with_one_line(tmp_path):
    path = tmp_path / "bad.pkl"
    path.write_bytes(b"garbage")
    result = CliRunner().invoke(main, ["info", str(path)])
    assert result.exit_code != 0
    assert "bad.pkl" in result.output and "Traceback" not in result.output
