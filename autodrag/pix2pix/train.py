"""The pix2pix training loop: data, epochs, validation, checkpoints, logs, samples, resume.

A run folder holds ``options.json``, ``latest.pt`` (everything needed to continue bit for bit:
networks, optimisers, schedulers, epoch and position in it, random state), ``G_epoch_XXXX.pt``
generator snapshots, ``losses.csv`` / ``losses.png``, ``val.csv``, ``samples/`` and ``index.html``.
"""

from __future__ import annotations

import math
import random
import shutil
import signal
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader
from tqdm import tqdm

from autodrag.pix2pix.checkpoint import LATEST, capture_rng, load_checkpoint, restore_rng, save_atomic
from autodrag.pix2pix.config import (
    TrainConfig,
    config_to_dict,
    load_options,
    non_default_options,
    save_options,
)
from autodrag.pix2pix.datasets import EpochSampler, PairedDataset, open_dataset
from autodrag.pix2pix.distributed import (
    DistInfo,
    broadcast_buffers,
    init_distributed,
    resolve_device,
    shutdown_distributed,
)
from autodrag.pix2pix.errors import CheckpointError, DatasetError
from autodrag.pix2pix.images import JitterConfig
from autodrag.pix2pix.report import CsvLog, plot_losses, save_grid, write_image_table
from autodrag.pix2pix.trainer import Pix2PixTrainer

__all__ = ["CHECKPOINT_KIND", "LOSS_COLUMNS", "RESUME_MUTABLE", "TrainResult", "seed_everything", "train"]

CHECKPOINT_KIND = "pix2pix"
GENERATOR_KIND = "pix2pix-generator"
LOSS_COLUMNS = ("D_real", "D_fake", "D_gp", "G_GAN", "G_L1")
# options a resumed run may change: they do not affect the numbers it computes
RESUME_MUTABLE = ("progress", "device", "data.num_workers", "data.dataroot")


@dataclass
class TrainResult:
    """What a call of :func:`train` did."""

    run_dir: Path  # the run folder
    epochs_completed: int  # epochs finished over the whole run (including before a resume)
    steps: int  # training steps taken over the whole run
    val_l1: list[float] = field(default_factory=list)  # validation L1 (0..1 pixel scale) per epoch
    stopped_early: bool = False  # stopped by a signal or ``stop_after_steps`` before the last epoch


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _subset(dataset: PairedDataset, indices: list[int], train: bool) -> PairedDataset:
    j = dataset.jitter
    jitter = j if train else JitterConfig(j.load_size, j.crop_size, False)
    pairs = [dataset.pairs[i] for i in indices]
    return PairedDataset(pairs, dataset.source_channels, dataset.target_channels, jitter)


def _split(train_ds: PairedDataset, fraction: float, seed: int) -> tuple[PairedDataset, PairedDataset | None]:
    """Hold out ``fraction`` of the training pairs (chosen by ``seed``) as a validation set."""
    if fraction <= 0:
        return train_ds, None
    n_val = max(1, round(len(train_ds) * fraction))
    if n_val >= len(train_ds):
        raise DatasetError(f"--val-fraction {fraction} leaves no training pairs out of {len(train_ds)}")
    order = np.random.default_rng(seed).permutation(len(train_ds)).tolist()
    return _subset(train_ds, sorted(order[n_val:]), True), _subset(train_ds, sorted(order[:n_val]), False)


def _datasets(cfg: TrainConfig) -> tuple[PairedDataset, PairedDataset | None]:
    g = cfg.generator
    train_ds = open_dataset(cfg.data, "train", g.in_channels, g.out_channels, train=True)
    val_ds = open_dataset(cfg.data, "val", g.in_channels, g.out_channels, train=False)
    if val_ds is None:
        train_ds, val_ds = _split(train_ds, cfg.val_fraction, cfg.seed)
    train_ds.check_batchable(cfg.batch_size)
    if cfg.lr_policy == "plateau" and val_ds is None:
        raise ValueError("the plateau policy needs validation data: add a val/ split or set --val-fraction")
    return train_ds, val_ds


@torch.no_grad()
def evaluate_l1(trainer: Pix2PixTrainer, dataset: PairedDataset, batch_size: int) -> float:
    """Mean absolute error (0..1 pixel scale) of G's eval-mode output over ``dataset``."""
    same_size = len(dataset.output_sizes()) == 1
    loader = DataLoader(
        dataset, batch_size=batch_size if same_size else 1, shuffle=False, generator=torch.Generator()
    )
    total, count = 0.0, 0
    for batch in loader:
        fake = trainer.generate(batch["A"])
        err = (fake - batch["B"].to(fake.device)).abs().mean(dim=(1, 2, 3)) / 2.0
        total += err.sum().item()
        count += err.numel()
    return total / max(count, 1)


class _StopRequest:
    """SIGINT / SIGTERM set a flag; the loop saves a checkpoint after the current step and stops."""

    def __init__(self, enabled: bool) -> None:
        self.requested = False
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Self:
        if self.enabled:
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _check_resume(saved: TrainConfig, given: TrainConfig) -> None:
    changed = {k: v for k, v in non_default_options(given).items() if k not in RESUME_MUTABLE}
    base = {k: v for k, v in non_default_options(saved).items() if k not in RESUME_MUTABLE}
    if changed != base:
        keys = sorted(set(changed.items()) ^ set(base.items()))
        names = sorted({k for k, _ in keys})
        raise CheckpointError(f"resume options differ from the saved options.json in: {', '.join(names)}")


def train(
    run_dir: str | Path,
    cfg: TrainConfig | None = None,
    *,
    resume: bool = False,
    stop_after_steps: int | None = None,
) -> TrainResult:
    """Train (or continue training) a pix2pix model into ``run_dir``.

    Args:
        run_dir: The run folder; created if needed.
        cfg: Options of a new run. When resuming, None means "as saved"; a given config must
            match the saved one except for :data:`RESUME_MUTABLE` options.
        resume: Continue from ``run_dir/latest.pt``.
        stop_after_steps: Stop, without writing a checkpoint, once the step counter reaches this
            value; simulates a killed process (used by the resume tests).

    Returns:
        A :class:`TrainResult`.

    Raises:
        DatasetError: The data cannot be used (names the files).
        CheckpointError: Nothing to resume, or ``run_dir`` already holds a run and ``resume`` is off.
    """
    run_dir = Path(run_dir)
    if resume:
        saved = load_options(run_dir)
        if cfg is not None:
            _check_resume(saved, cfg)
        cfg = cfg or saved
    elif cfg is None:
        raise ValueError("a new run needs a TrainConfig")
    elif (run_dir / LATEST).exists():
        raise CheckpointError(
            f"{run_dir} already holds a run: pass --resume to continue it or choose another folder"
        )
    cfg.validate()
    created_group = not (dist.is_available() and dist.is_initialized())
    info = init_distributed(cfg.device)
    fresh = not resume and not run_dir.exists()
    try:
        return _Loop(cfg, run_dir, info, resume).run(stop_after_steps)
    except Exception:
        if not resume and info.is_main and not (run_dir / LATEST).exists():
            _undo_start(run_dir, fresh)  # a failed start leaves nothing a later --resume would trip over
        raise
    finally:
        if created_group:
            shutdown_distributed(info)


def _undo_start(run_dir: Path, created: bool) -> None:
    """Remove what a new run wrote before it failed without a checkpoint (the folder, when it made it)."""
    if created:
        shutil.rmtree(run_dir, ignore_errors=True)
        return
    for name in ("options.json", "losses.csv", "val.csv"):
        (run_dir / name).unlink(missing_ok=True)


class _Loop:
    """One run of :func:`train`; split out so each phase is a short method."""

    def __init__(self, cfg: TrainConfig, run_dir: Path, info: DistInfo, resume: bool) -> None:
        self.cfg, self.run_dir, self.info = cfg, run_dir, info
        self.device = resolve_device(cfg.device, info.local_rank)
        self.train_ds, self.val_ds = _datasets(cfg)
        seed_everything(cfg.seed + info.rank)  # ranks draw different dropout noise
        self.trainer = Pix2PixTrainer(cfg, self.device, distributed=info.enabled)  # same weights on all ranks
        self.sampler = EpochSampler(len(self.train_ds), cfg.seed, True, info.rank, info.world_size)
        self.loader = DataLoader(
            self.train_ds,
            batch_size=cfg.batch_size,
            sampler=self.sampler,
            num_workers=cfg.data.num_workers,
            pin_memory=self.device.type == "cuda",
            # a private generator: creating an iterator draws a base seed from it, and drawing from
            # the global one would shift dropout noise after a mid-epoch resume
            generator=torch.Generator().manual_seed(cfg.seed),
        )
        self.steps_per_epoch = math.ceil(self.sampler.per_rank() / cfg.batch_size)
        self.epoch, self.batch_in_epoch, self.val_history = 0, 0, []
        self.window: dict[str, list[float]] = defaultdict(list)  # losses since the last losses.csv row
        if resume:
            self._restore()
        elif info.is_main:
            run_dir.mkdir(parents=True, exist_ok=True)
            save_options(cfg, run_dir)
        self.loss_log = self.val_log = None
        if info.is_main:
            self.loss_log = CsvLog(run_dir / "losses.csv", ("epoch", "step", "lr", *LOSS_COLUMNS))
            self.val_log = CsvLog(run_dir / "val.csv", ("epoch", "step", "lr", "val_L1"))
            if resume:  # rows written after the checkpoint describe steps that will be redone
                self.loss_log.truncate("step", self.trainer.step)
                self.val_log.truncate("epoch", self.epoch)
        sample_source = self.val_ds if self.val_ds is not None else self.train_ds
        picks = [sample_source[i] for i in range(min(cfg.sample_count, len(sample_source)))]
        self.samples = picks

    def _restore(self) -> None:
        payload = load_checkpoint(self.run_dir / LATEST)
        if payload.get("kind") != CHECKPOINT_KIND:
            raise CheckpointError(
                f"{self.run_dir / LATEST} is a {payload.get('kind')} checkpoint, not a pix2pix run"
            )
        self.trainer.load_state_dict(payload["trainer"])
        self.epoch, self.batch_in_epoch = int(payload["epoch"]), int(payload["batch_in_epoch"])
        self.val_history = list(payload["val_history"])
        self.window.update({k: list(v) for k, v in payload["log_window"].items()})
        restore_rng(payload["rng"])

    def _save(self) -> None:
        if not self.info.is_main:
            return
        payload = {
            "kind": CHECKPOINT_KIND,
            "config": config_to_dict(self.cfg),
            "trainer": self.trainer.state_dict(),
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "val_history": self.val_history,
            "log_window": dict(self.window),  # so a mid-epoch resume writes the same losses.csv rows
            "rng": capture_rng(),
        }
        save_atomic(payload, self.run_dir / LATEST)

    def _save_generator(self) -> None:
        payload = {
            "kind": GENERATOR_KIND,
            "config": config_to_dict(self.cfg),
            "netG": self.trainer.netG.state_dict(),
            "epoch": self.epoch,
            "steps": self.trainer.step,  # how settled the batch-norm running statistics are (see infer.py)
        }
        save_atomic(payload, self.run_dir / f"G_epoch_{self.epoch:04d}.pt")

    def _log(self) -> None:
        """Write the mean of the losses gathered since the last row, and start a new window."""
        window = self.window
        if self.loss_log is None or not window:
            return
        row: dict[str, Any] = {"epoch": self.epoch + 1, "step": self.trainer.step, "lr": self.trainer.lr}
        row.update({name: sum(vals) / len(vals) for name, vals in window.items()})
        self.loss_log.append(row)
        window.clear()

    def run(self, stop_after_steps: int | None) -> TrainResult:
        cfg = self.cfg
        with _StopRequest(enabled=not self.info.enabled) as stop:
            while self.epoch < cfg.total_epochs:
                if not self._train_epoch(stop, stop_after_steps):
                    return self._result(stopped=True)
                self._end_epoch()
        return self._result(stopped=False)

    def _step(self, batch: dict[str, Any]) -> dict[str, Any]:
        """One training step; a batch-norm layer left with one value per channel is a DatasetError."""
        try:
            return self.trainer.training_step(batch)
        except ValueError as exc:
            if "Expected more than 1 value per channel" not in str(exc):
                raise
            h, w = batch["A"].shape[-2:]
            raise DatasetError(
                f"{self.cfg.data.dataroot}: {w}x{h} images at batch size {batch['A'].shape[0]} are too small "
                "for these networks: a batch-norm layer sees a 1x1 map of one image (use larger images or "
                "--load-size/--crop-size, a larger --batch-size, --norm/--norm-d instance, or a smaller --n-layers-d)"
            ) from None

    def _train_epoch(self, stop: _StopRequest, stop_after_steps: int | None) -> bool:
        """Train the rest of the current epoch; False if told to stop before its end."""
        cfg = self.cfg
        self.sampler.set_epoch(self.epoch, skip=self.batch_in_epoch * cfg.batch_size)
        bar = tqdm(
            total=self.steps_per_epoch,
            initial=self.batch_in_epoch,
            desc=f"epoch {self.epoch + 1}/{cfg.total_epochs}",
            disable=not (cfg.progress and self.info.is_main),
            leave=False,
            dynamic_ncols=True,
        )
        with bar:
            for batch in self.loader:
                out = self._step(batch)
                self.batch_in_epoch += 1
                for name, value in out["losses"].items():
                    self.window[name].append(value)
                bar.update(1)
                bar.set_postfix({k: f"{v:.3f}" for k, v in out["losses"].items()}, refresh=False)
                if self.trainer.step % cfg.log_every_steps == 0:
                    self._log()
                if stop_after_steps is not None and self.trainer.step >= stop_after_steps:
                    return False
                mid_epoch = self.batch_in_epoch < self.steps_per_epoch
                if (
                    cfg.checkpoint_every_steps
                    and self.trainer.step % cfg.checkpoint_every_steps == 0
                    and mid_epoch
                ):
                    self._save()
                if stop.requested:
                    self._log()
                    self._save()
                    return False
        self._log()
        return True

    def _end_epoch(self) -> None:
        cfg = self.cfg
        broadcast_buffers(self.trainer.netG, self.info)  # every rank validates the same network
        broadcast_buffers(self.trainer.netD, self.info)
        val = evaluate_l1(self.trainer, self.val_ds, cfg.batch_size) if self.val_ds is not None else None
        lr_used = self.trainer.lr
        self.trainer.end_epoch(val)
        self.epoch += 1
        self.batch_in_epoch = 0
        if val is not None:
            self.val_history.append(val)
        if self.info.is_main:
            if val is not None:
                self.val_log.append(
                    {"epoch": self.epoch, "step": self.trainer.step, "lr": lr_used, "val_L1": val}
                )
            self._write_report()
            if self.epoch % cfg.save_every_epochs == 0 or self.epoch == cfg.total_epochs:
                self._save_generator()
        self._save()

    def _write_report(self) -> None:
        rows = []
        for sample in self.samples:
            fake = self.trainer.generate(sample["A"][None])[0].cpu()
            rows.append([sample["A"], fake, sample["B"]])
        save_grid(
            rows, self.run_dir / "samples" / f"epoch_{self.epoch:04d}.png", ("input", "output", "target")
        )
        plot_losses(self.run_dir / "losses.csv", self.run_dir / "losses.png")
        val_by_epoch = {int(r["epoch"]): r["val_L1"] for r in self.val_log.rows()}
        table = [
            [str(e), val_by_epoch.get(e, ""), f"samples/epoch_{e:04d}.png"]
            for e in range(self.epoch, 0, -1)
            if (self.run_dir / "samples" / f"epoch_{e:04d}.png").exists()
        ]
        plot = "<p><img src='losses.png'></p>" if (self.run_dir / "losses.png").exists() else ""
        write_image_table(
            self.run_dir / "index.html",
            f"pix2pix run {self.run_dir.name}",
            ("epoch", "val L1", "input | output | target"),
            table,
            plot,
        )

    def _result(self, stopped: bool) -> TrainResult:
        return TrainResult(self.run_dir, self.epoch, self.trainer.step, list(self.val_history), stopped)
