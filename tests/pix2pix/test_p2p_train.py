"""Training end to end on the offline demo: it learns, resumes bit for bit, and leaves its reports."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from autodrag.pix2pix.checkpoint import load_checkpoint
from autodrag.pix2pix.datasets import open_dataset
from autodrag.pix2pix.errors import CheckpointError
from autodrag.pix2pix.schedules import build_scheduler, linear_decay_factor
from autodrag.pix2pix.train import evaluate_l1, train
from autodrag.pix2pix.trainer import Pix2PixTrainer


def _identity_l1(root: Path) -> float:
    errors = []
    for a in sorted((root / "val" / "A").glob("*.png")):
        pa = np.asarray(Image.open(a), dtype=np.float64)
        pb = np.asarray(Image.open(root / "val" / "B" / a.name), dtype=np.float64)
        errors.append(np.abs(pa - pb).mean() / 255.0)
    return float(np.mean(errors))


def test_learns_the_demo_mapping(demo_root: Path, make_config, tmp_path: Path) -> None:
    """Held-out L1 ends well below both the untrained network and the identity (copy the input)."""
    cfg = make_config(
        demo_root,
        generator__ngf=16,
        generator__unet_depth=5,
        discriminator__ndf=16,
        lr=1e-3,
        n_epochs=6,
        n_epochs_decay=6,
    )
    untrained = evaluate_l1(
        Pix2PixTrainer(cfg, torch.device("cpu")), open_dataset(cfg.data, "val", 1, 1, False), 4
    )
    identity = _identity_l1(demo_root)
    result = train(tmp_path / "run", cfg)
    trained = result.val_l1[-1]
    print(f"held-out L1: trained {trained:.4f}, identity {identity:.4f}, untrained {untrained:.4f}")
    assert trained < 0.6 * identity
    assert trained < 0.25 * untrained
    run = tmp_path / "run"
    for name in (
        "options.json",
        "latest.pt",
        "losses.csv",
        "losses.png",
        "val.csv",
        "index.html",
        "G_epoch_0012.pt",
    ):
        assert (run / name).is_file(), name
    assert len(list((run / "samples").glob("epoch_*.png"))) == 12
    with (run / "val.csv").open() as fh:
        assert [int(r["epoch"]) for r in csv.DictReader(fh)] == list(range(1, 13))
    html = (run / "index.html").read_text()
    assert "samples/epoch_0012.png" in html and "losses.png" in html
    grid = Image.open(run / "samples" / "epoch_0012.png")
    assert grid.size[0] > 3 * 64 and grid.size[1] > 4 * 32  # 4 rows of input | output | target


def _flat(state, prefix=""):
    if isinstance(state, torch.Tensor):
        return {prefix: state}
    if isinstance(state, dict):
        out = {}
        for k, v in state.items():
            out.update(_flat(v, f"{prefix}/{k}"))
        return out
    if isinstance(state, (list, tuple)):
        out = {}
        for i, v in enumerate(state):
            out.update(_flat(v, f"{prefix}/{i}"))
        return out
    return {prefix: state}


def _assert_same_state(a: dict, b: dict) -> None:
    fa, fb = _flat(a), _flat(b)
    assert fa.keys() == fb.keys()
    for key in fa:
        if isinstance(fa[key], torch.Tensor):
            assert torch.equal(fa[key], fb[key]), key
        else:
            assert fa[key] == fb[key], key


@pytest.mark.parametrize(
    "overrides,stop_at",
    [
        # killed at step 5 (epoch 3): the last checkpoint is the end of epoch 2
        pytest.param({}, 5, id="epoch-boundary"),
        # killed at step 4: the last checkpoint is step 3, in the middle of epoch 2
        pytest.param(
            {
                "gan_mode": "wgangp",
                "n_critic": 2,
                "discriminator__norm": "layer",
                "checkpoint_every_steps": 1,
            },
            4,
            id="mid-epoch-wgangp",
        ),
        # plateau fed by validation, random crops, killed mid-epoch 1
        pytest.param(
            {
                "lr_policy": "plateau",
                "plateau_patience": 0,
                "data__jitter__crop_size": (48, 24),
                "checkpoint_every_steps": 1,
            },
            2,
            id="mid-epoch-plateau-jitter",
        ),
    ],
)
def test_resume_continues_bit_for_bit(
    small_root: Path, make_config, tmp_path: Path, overrides: dict, stop_at: int
) -> None:
    cfg = make_config(small_root, n_epochs=2, n_epochs_decay=2, **overrides)
    straight = train(tmp_path / "straight", cfg)
    interrupted = train(tmp_path / "resumed", cfg, stop_after_steps=stop_at)
    assert interrupted.stopped_early and interrupted.steps == stop_at
    mid_epoch = load_checkpoint(tmp_path / "resumed")["batch_in_epoch"] > 0
    assert mid_epoch == bool(overrides.get("checkpoint_every_steps"))
    resumed = train(tmp_path / "resumed", resume=True)
    assert resumed.steps == straight.steps == 8 and resumed.epochs_completed == 4
    assert resumed.val_l1 == straight.val_l1
    a, b = load_checkpoint(tmp_path / "straight"), load_checkpoint(tmp_path / "resumed")
    _assert_same_state(a["trainer"], b["trainer"])
    _assert_same_state(a["rng"], b["rng"])
    for log in ("losses.csv", "val.csv"):
        assert (tmp_path / "straight" / log).read_text() == (tmp_path / "resumed" / log).read_text()


def test_options_beside_checkpoints_and_resume_guards(small_root: Path, make_config, tmp_path: Path) -> None:
    cfg = make_config(small_root, n_epochs=1, n_epochs_decay=0, seed=5)
    train(tmp_path / "run", cfg)
    saved = json.loads((tmp_path / "run" / "options.json").read_text())
    assert saved["non_default"]["seed"] == 5 and saved["options"]["generator"]["ngf"] == 8
    with pytest.raises(CheckpointError, match="already holds a run"):
        train(tmp_path / "run", cfg)
    changed = make_config(small_root, n_epochs=1, n_epochs_decay=0, seed=6)
    with pytest.raises(CheckpointError, match="seed"):
        train(tmp_path / "run", changed, resume=True)
    with pytest.raises(CheckpointError, match="options.json not found"):
        train(tmp_path / "nothing", resume=True)


def test_linear_step_cosine_schedules() -> None:
    # 2 epochs at the full rate, then 3 decaying ones; the last still trains (factor > 0)
    assert [round(linear_decay_factor(e, 2, 3), 4) for e in range(5)] == [1.0, 1.0, 0.75, 0.5, 0.25]
    param = torch.nn.Parameter(torch.zeros(1))
    for policy, expected in (("step", [1.0, 1.0, 0.1, 0.1]), ("cosine", [1.0, 0.8536, 0.5, 0.1464])):
        opt = torch.optim.SGD([param], lr=1.0)
        sched = build_scheduler(opt, policy, 2, 2, step_epochs=2, gamma=0.1)
        seen = []
        for _ in range(4):
            seen.append(round(opt.param_groups[0]["lr"], 4))
            opt.step()
            sched.step()
        assert seen == expected


def test_plateau_is_fed_the_validation_metric(small_root: Path, make_config, tmp_path: Path) -> None:
    cfg = make_config(
        small_root, lr_policy="plateau", plateau_patience=0, plateau_factor=0.5, n_epochs=3, n_epochs_decay=0
    )
    trainer = Pix2PixTrainer(cfg, torch.device("cpu"))
    trainer.end_epoch(0.3)
    trainer.end_epoch(0.3)  # no improvement, patience 0: halve
    assert trainer.lr == pytest.approx(cfg.lr * 0.5)
    with pytest.raises(ValueError, match="validation metric"):
        trainer.end_epoch(None)
    result = train(tmp_path / "run", cfg)
    state = load_checkpoint(tmp_path / "run")["trainer"]["schedG"]
    assert state["best"] == pytest.approx(min(result.val_l1))  # it saw the real validation L1
    no_val = make_config(small_root / "train", lr_policy="plateau")
    with pytest.raises(ValueError, match="plateau policy needs validation data"):
        train(tmp_path / "run2", no_val)
