"""A killed or interrupted run loses nothing: signals, atomic checkpoints, workers, held-out splits."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

from autodrag.pix2pix.checkpoint import load_checkpoint, save_atomic
from autodrag.pix2pix.datasets import EpochSampler, open_dataset
from autodrag.pix2pix.train import train
from autodrag.pix2pix.trainer import Pix2PixTrainer


def test_sigint_saves_then_resume_matches_straight_run(
    small_root: Path, make_config, tmp_path: Path, monkeypatch
) -> None:
    cfg = make_config(small_root, n_epochs=2, n_epochs_decay=1)
    before = signal.getsignal(signal.SIGINT)  # default_int_handler, or SIG_IGN in a backgrounded run
    straight = train(tmp_path / "straight", cfg)

    original = Pix2PixTrainer.training_step

    def interrupted_step(self, batch):
        out = original(self, batch)
        if self.step == 3:  # Ctrl-C in the middle of epoch 2
            os.kill(os.getpid(), signal.SIGINT)
        return out

    monkeypatch.setattr(Pix2PixTrainer, "training_step", interrupted_step)
    stopped = train(tmp_path / "run", cfg)
    monkeypatch.undo()
    assert stopped.stopped_early and stopped.steps == 3
    saved = load_checkpoint(tmp_path / "run")
    assert (saved["epoch"], saved["batch_in_epoch"]) == (1, 1)  # saved after the step, mid-epoch
    resumed = train(tmp_path / "run", resume=True)
    assert resumed.steps == straight.steps
    a, b = load_checkpoint(tmp_path / "straight")["trainer"], load_checkpoint(tmp_path / "run")["trainer"]
    for net in ("netG", "netD"):
        assert all(torch.equal(a[net][k], b[net][k]) for k in a[net])
    assert signal.getsignal(signal.SIGINT) is before  # handlers restored


def test_failed_write_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch) -> None:
    path = save_atomic({"kind": "pix2pix", "value": torch.ones(3)}, tmp_path / "latest.pt")

    def crash(obj, f, *args, **kwargs):
        Path(f).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        save_atomic({"kind": "pix2pix", "value": torch.zeros(3)}, path)
    monkeypatch.undo()
    assert torch.equal(load_checkpoint(path)["value"], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pt"]  # no temporary left behind


def test_worker_processes_see_the_same_batches(small_root: Path, make_config) -> None:
    cfg = make_config(small_root, data__jitter__crop_size=(48, 24))
    dataset = open_dataset(cfg.data, "train", 1, 1, train=True)
    batches = []
    for workers in (0, 2):
        sampler = EpochSampler(len(dataset), seed=4)
        sampler.set_epoch(1)
        loader = DataLoader(dataset, batch_size=4, sampler=sampler, num_workers=workers)
        batches.append([b["A"] for b in loader])
    assert all(torch.equal(x, y) for x, y in zip(*batches, strict=True))


def test_val_fraction_holds_out_pairs(small_root: Path, make_config, tmp_path: Path) -> None:
    cfg = make_config(small_root / "train", val_fraction=0.25, lr_policy="plateau")
    result = train(tmp_path / "run", cfg)
    assert len(result.val_l1) == 2
    assert result.steps == 4  # 6 of 8 pairs left for training: 2 steps of 4 per epoch, 2 epochs


def test_images_too_small_for_batch_norm_are_one_line_naming_the_data(tmp_path: Path) -> None:
    """16x16 pairs at batch 1: the 70x70 PatchGAN's last batch norm would see a 1x1 map of one image."""
    from click.testing import CliRunner

    from autodrag.cli import main
    from autodrag.pix2pix.handwriting.demo import make_demo_dataset

    root = make_demo_dataset(tmp_path / "tiny", n_train=2, n_val=1, size=(16, 16), seed=1)
    out = tmp_path / "run"
    args = [
        "pix2pix",
        "train",
        "--dataroot",
        str(root),
        "--out",
        str(out),
        "--n-epochs",
        "1",
        "--n-epochs-decay",
        "0",
    ]
    result = CliRunner().invoke(main, args)
    lines = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert result.exit_code != 0 and len(lines) == 1, result.output
    assert str(root) in lines[0] and "16x16 images at batch size 1 are too small" in lines[0]
    assert "Traceback" not in result.output and not out.exists()
