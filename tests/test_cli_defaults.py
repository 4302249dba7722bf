"""One copy of each default: the CLI's drag options are DragConfig's fields, and one device resolver."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import click
import pytest
import torch

from autodrag import cli_types
from autodrag.cli_types import resolve_device
from autodrag.drag.cli import drag
from autodrag.drag.config import DragConfig
from autodrag.presets import cli as presets_cli
from autodrag.presets.wiring import preset_drag_config, preset_tuning

ROOT = Path(__file__).resolve().parents[1]

# CLI parameter name -> DragConfig field, for `autodrag drag`.
DRAG_FIELDS = {
    "steps": "max_steps",
    "lr": "lr",
    "w_plus": "w_plus",
    "w_plus_rows": "w_plus_rows",
    "tracking": "tracking",
}


def _defaults(command: click.Command) -> dict[str, object]:
    return {p.name: p.default for p in command.params}


def test_drag_options_default_to_drag_config():
    defaults, config = _defaults(drag), DragConfig()
    for option, field in DRAG_FIELDS.items():
        assert defaults[option] == getattr(config, field), f"autodrag drag --{option} vs DragConfig.{field}"
    # Every option named like a DragConfig field is in the table (a new one cannot restate a default unseen).
    named = {p.name for p in drag.params} & {f.name for f in fields(DragConfig)}
    assert named <= set(DRAG_FIELDS), sorted(named - set(DRAG_FIELDS))


@pytest.mark.parametrize("command", [presets_cli.edit, presets_cli.batch], ids=["edit", "batch"])
def test_edit_and_batch_steps_and_lr_come_from_the_drag_settings(command):
    defaults = _defaults(command)
    assert defaults["steps"] == preset_drag_config().max_steps == DragConfig().max_steps
    # --lr unset: each preset's tuned step (not a number restated in the CLI).
    assert defaults["lr"] is None
    assert preset_drag_config(presets="close_eyes", lr=defaults["lr"]).lr == preset_tuning("close_eyes")["lr"]


def test_the_preset_demo_runs_the_cli_default_steps(monkeypatch):
    seen = {}
    monkeypatch.setattr(presets_cli, "_batch", lambda *args, **kwargs: seen.setdefault("steps", args[9]))
    presets_cli.run_preset_demo([0], Path("unused"), "cpu")
    assert seen["steps"] == DragConfig().max_steps


def test_train_landmarks_options_default_to_its_config():
    from autodrag.toyfaces.cli import train_landmarks_command
    from autodrag.toyfaces.train_landmarks import LandmarkTrainConfig

    config = LandmarkTrainConfig()
    defaults = _defaults(train_landmarks_command)
    assert len(defaults) >= 10
    for option, default in defaults.items():
        assert default == getattr(config, option), (
            f"train-landmarks --{option} vs LandmarkTrainConfig.{option}"
        )


def test_auto_is_cuda_when_available(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device("auto", local_rank=1) == torch.device("cpu")
    with pytest.raises(click.BadParameter, match="no CUDA device"):
        resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device("auto", local_rank=1) == torch.device("cuda:1")
    assert resolve_device("cuda", local_rank=0) == torch.device("cuda:0")
    assert resolve_device("cuda:1") == torch.device("cuda:1")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


def test_pix2pix_and_the_gui_use_the_one_resolver(monkeypatch, tmp_path):
    from autodrag.gui.controller import Controller
    from autodrag.pix2pix.distributed import resolve_device as p2p_resolve

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert p2p_resolve("auto") == torch.device("cuda:0")  # training keeps its explicit GPU index
    assert p2p_resolve("auto", 2) == torch.device("cuda:2")
    calls = []
    real = cli_types.resolve_device
    monkeypatch.setattr(cli_types, "resolve_device", lambda *a: calls.append(a) or real(*a))
    p2p_resolve("cpu")
    assert calls == [("cpu", 0)]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert Controller(device="auto", capture_dir=tmp_path).device == torch.device("cpu")


def test_cuda_availability_is_asked_in_one_place():
    """Only the resolver decides on a device (pix2pix/checkpoint.py saves the CUDA RNG state, a different job)."""
    allowed = {"autodrag/cli_types.py", "autodrag/pix2pix/checkpoint.py"}
    found = [
        path.relative_to(ROOT).as_posix()
        for path in sorted((ROOT / "autodrag").rglob("*.py"))
        if re.search(r"cuda\.is_available\(", path.read_text())
    ]
    assert set(found) <= allowed, sorted(set(found) - allowed)
