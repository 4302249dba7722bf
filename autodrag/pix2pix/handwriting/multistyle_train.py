"""Training of the multi-style model: pre-train on many styles, fine-tune on a few samples.

Run folders mirror pix2pix runs: ``options.json``, ``latest.pt`` (exact resume), ``losses.csv`` /
``losses.png``, ``samples/epoch_XXXX.png`` and ``index.html``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from tqdm import tqdm

from autodrag.pix2pix.checkpoint import LATEST, capture_rng, load_checkpoint, restore_rng, save_atomic
from autodrag.pix2pix.config import config_to_dict, dataclass_from_dict
from autodrag.pix2pix.datasets import EpochSampler, resolve_split
from autodrag.pix2pix.distributed import resolve_device
from autodrag.pix2pix.errors import CheckpointError
from autodrag.pix2pix.handwriting.multistyle import (
    MultiStyleConfig,
    StyleDiscriminator,
    StyleUnet,
    WeightSchedule,
    constant_loss,
)
from autodrag.pix2pix.handwriting.styles_data import StyleDataset, style_names_in
from autodrag.pix2pix.layers import init_weights
from autodrag.pix2pix.report import CsvLog, plot_losses, save_grid, write_image_table
from autodrag.pix2pix.train import seed_everything
from autodrag.pix2pix.trainer import set_requires_grad

__all__ = [
    "MULTISTYLE_KIND",
    "MultiStyleTrainConfig",
    "MultiStyleTrainer",
    "load_multistyle",
    "train_multistyle",
]

MULTISTYLE_KIND = "pix2pix-multistyle"
LOSS_COLUMNS = ("D_adv", "D_style", "G_adv", "G_style", "G_L1", "G_const", "w_L1", "w_const")


@dataclass
class MultiStyleTrainConfig:
    """Options of a multi-style pre-training or fine-tuning run."""

    model: MultiStyleConfig = field(
        default_factory=MultiStyleConfig
    )  # architecture (num_styles is set from the data)
    dataroot: str = ""  # folder with A/ and B/<style>/ (train/ and val/ subfolders used if present)
    style_names: tuple[str, ...] = ()  # the model's styles, in label order (filled in by train_multistyle)
    pretrained: str = ""  # checkpoint to fine-tune from ("" trains from scratch)
    freeze_encoder: bool = False  # fine-tuning: keep the U-Net encoder fixed, train decoder and styles
    schedule: WeightSchedule = field(default_factory=WeightSchedule)  # L1 / constant-loss weights by epoch
    lambda_style: float = 1.0  # weight of the style-classification losses
    lr: float = 2e-4  # Adam learning rate
    beta1: float = 0.5  # Adam beta1
    batch_size: int = 16  # images per step
    epochs: int = 50  # epochs to train
    sample_count: int = 4  # source images shown (in every style) in the sample grids
    seed: int = 0  # seeds weights, data order and dropout
    device: str = "auto"  # auto | cpu | cuda
    progress: bool = True  # show a progress bar


class MultiStyleTrainer:
    """G, D and optimisers of a multi-style run; ``epoch`` selects the loss weights."""

    def __init__(self, cfg: MultiStyleTrainConfig, device: torch.device) -> None:
        self.cfg, self.device = cfg, device
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            self.netG = init_weights(StyleUnet(cfg.model)).to(device)
            self.netD = init_weights(StyleDiscriminator(cfg.model)).to(device)
        self.epoch = 0  # 0-based epoch in progress
        self.step = 0  # steps taken

    def make_optimizers(self) -> None:
        """(Re)create the optimisers over the trainable parameters (after loading or freezing)."""
        set_requires_grad(self.netG, True)
        if self.cfg.freeze_encoder:
            set_requires_grad(self.netG.down, False)
        betas = (self.cfg.beta1, 0.999)
        self.optG = torch.optim.Adam(
            [p for p in self.netG.parameters() if p.requires_grad], lr=self.cfg.lr, betas=betas
        )
        self.optD = torch.optim.Adam(self.netD.parameters(), lr=self.cfg.lr, betas=betas)

    def training_step(self, batch: dict[str, Any]) -> dict[str, Any]:
        """One D and one G update; returns ``{"losses": {...}, "fake_B": tensor}``."""
        cfg = self.cfg
        w_l1, w_const = cfg.schedule.weights_at(self.epoch)
        real_a, real_b = batch["A"].to(self.device), batch["B"].to(self.device)
        labels = torch.as_tensor(batch["label"], device=self.device)
        self.netG.train()
        self.netD.train()
        fake_b = self.netG(real_a, labels)

        self.optD.zero_grad(set_to_none=True)
        real, fake = self.netD(real_a, real_b), self.netD(real_a, fake_b.detach())
        d_adv = 0.5 * (
            F.binary_cross_entropy_with_logits(real.adv, torch.ones_like(real.adv))
            + F.binary_cross_entropy_with_logits(fake.adv, torch.zeros_like(fake.adv))
        )
        d_style = 0.5 * (F.cross_entropy(real.style, labels) + F.cross_entropy(fake.style, labels))
        (d_adv + cfg.lambda_style * d_style).backward()
        self.optD.step()

        set_requires_grad(self.netD, False)
        self.optG.zero_grad(set_to_none=True)
        judged = self.netD(real_a, fake_b)
        g_adv = F.binary_cross_entropy_with_logits(judged.adv, torch.ones_like(judged.adv))
        g_style = F.cross_entropy(judged.style, labels)
        g_l1 = F.l1_loss(fake_b, real_b)
        g_const = constant_loss(self.netG, real_a, fake_b)
        (g_adv + cfg.lambda_style * g_style + w_l1 * g_l1 + w_const * g_const).backward()
        self.optG.step()
        set_requires_grad(self.netD, True)
        self.step += 1
        losses = {
            "D_adv": d_adv.item(), "D_style": d_style.item(), "G_adv": g_adv.item(), "G_style": g_style.item(),
            "G_L1": g_l1.item(), "G_const": g_const.item(), "w_L1": w_l1, "w_const": w_const,
        }  # fmt: skip
        return {"losses": losses, "fake_B": fake_b.detach()}

    @torch.no_grad()
    def generate(self, source: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Deterministic (eval-mode) output; leaves G in train mode."""
        self.netG.eval()
        try:
            return self.netG(source.to(self.device), labels.to(self.device))
        finally:
            self.netG.train()

    def state_dict(self) -> dict[str, Any]:
        return {
            "netG": self.netG.state_dict(), "netD": self.netD.state_dict(), "optG": self.optG.state_dict(),
            "optD": self.optD.state_dict(), "epoch": self.epoch, "step": self.step,
        }  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.netG.load_state_dict(state["netG"])
        self.netD.load_state_dict(state["netD"])
        self.optG.load_state_dict(state["optG"])
        self.optD.load_state_dict(state["optD"])
        self.epoch, self.step = int(state["epoch"]), int(state["step"])


def load_multistyle(checkpoint: str | Path) -> tuple[StyleUnet, MultiStyleTrainConfig]:
    """The generator (in eval mode) and options of a multi-style run folder or checkpoint."""
    payload = load_checkpoint(checkpoint)
    if payload["kind"] != MULTISTYLE_KIND:
        raise CheckpointError(f"{checkpoint} holds a {payload['kind']} model, not a multi-style one")
    cfg = dataclass_from_dict(MultiStyleTrainConfig, payload["config"])
    net = StyleUnet(cfg.model)
    net.load_state_dict(payload["trainer"]["netG"])
    return net.eval(), cfg


def _prepare(
    cfg: MultiStyleTrainConfig, device: torch.device
) -> tuple[MultiStyleTrainConfig, MultiStyleTrainer]:
    """Fix the style list (known styles first, new ones after) and build the trainer.

    With ``cfg.pretrained`` the pre-trained networks are loaded and their style embedding and
    style head grown by one row per new style.
    """
    data_styles = style_names_in(resolve_split(cfg.dataroot, "train"))
    known, model, pre_state = list(cfg.style_names), cfg.model, None
    if cfg.pretrained:
        payload = load_checkpoint(cfg.pretrained)
        if payload["kind"] != MULTISTYLE_KIND:
            raise CheckpointError(f"{cfg.pretrained} is not a multi-style checkpoint")
        pre_cfg = dataclass_from_dict(MultiStyleTrainConfig, payload["config"])
        known, model, pre_state = list(pre_cfg.style_names), pre_cfg.model, payload["trainer"]
    styles = known + [s for s in data_styles if s not in known]
    start = dict(config_to_dict(cfg), model=config_to_dict(model), style_names=styles)
    start["model"]["num_styles"] = len(known) if pre_state is not None else len(styles)
    trainer = MultiStyleTrainer(dataclass_from_dict(MultiStyleTrainConfig, start), device)
    if pre_state is not None:
        trainer.netG.load_state_dict(pre_state["netG"])
        trainer.netD.load_state_dict(pre_state["netD"])
        trainer.netG.grow_styles(len(styles))
        trainer.netD.grow_styles(len(styles))
    start["model"]["num_styles"] = len(styles)
    trainer.cfg = dataclass_from_dict(MultiStyleTrainConfig, start)
    trainer.make_optimizers()
    return trainer.cfg, trainer


def train_multistyle(
    run_dir: str | Path, cfg: MultiStyleTrainConfig | None = None, *, resume: bool = False
) -> MultiStyleTrainer:
    """Pre-train (or fine-tune, with ``cfg.pretrained``) the multi-style model into ``run_dir``.

    Args:
        run_dir: The run folder.
        cfg: Options of a new run; None when resuming (the saved options are used).
        resume: Continue from ``run_dir/latest.pt`` exactly where it stopped.

    Returns:
        The trainer, holding the trained networks.
    """
    run_dir = Path(run_dir)
    if resume:
        try:
            saved = json.loads((run_dir / "options.json").read_text())
        except FileNotFoundError:
            raise CheckpointError(f"{run_dir} has no options.json to resume from") from None
        cfg = dataclass_from_dict(MultiStyleTrainConfig, saved)
        cfg.pretrained = ""  # the checkpoint already holds the fine-tuned weights
    elif cfg is None:
        raise ValueError("a new run needs a MultiStyleTrainConfig")
    elif (run_dir / LATEST).exists():
        raise CheckpointError(f"{run_dir} already holds a run: resume it or choose another folder")
    device = resolve_device(cfg.device)
    cfg, trainer = _prepare(cfg, device)
    seed_everything(cfg.seed)
    if resume:
        payload = load_checkpoint(run_dir / LATEST)
        trainer.load_state_dict(payload["trainer"])
        restore_rng(payload["rng"])
    else:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "options.json").write_text(
            json.dumps(config_to_dict(cfg), indent=2, sort_keys=True) + "\n"
        )
    m = cfg.model
    dataset = StyleDataset(
        resolve_split(cfg.dataroot, "train"), cfg.style_names, m.in_channels, m.out_channels
    )
    sampler = EpochSampler(len(dataset), cfg.seed)
    # private generator: iterator creation must not draw from the global RNG (exact resume)
    loader = DataLoader(dataset, batch_size=cfg.batch_size, sampler=sampler, generator=torch.Generator())
    log = CsvLog(run_dir / "losses.csv", ("epoch", "step", *LOSS_COLUMNS))
    if resume:
        log.truncate("step", trainer.step)
    samples = _sample_sources(dataset, cfg.sample_count)
    while trainer.epoch < cfg.epochs:
        sampler.set_epoch(trainer.epoch)
        window: dict[str, list[float]] = defaultdict(list)
        bar = tqdm(
            loader, desc=f"epoch {trainer.epoch + 1}/{cfg.epochs}", disable=not cfg.progress, leave=False
        )
        for batch in bar:
            for name, value in trainer.training_step(batch)["losses"].items():
                window[name].append(value)
        trainer.epoch += 1
        log.append(
            {"epoch": trainer.epoch, "step": trainer.step, **{k: sum(v) / len(v) for k, v in window.items()}}
        )
        _write_report(trainer, samples, run_dir)
        save_atomic(
            {
                "kind": MULTISTYLE_KIND,
                "config": config_to_dict(cfg),
                "trainer": trainer.state_dict(),
                "rng": capture_rng(),
            },
            run_dir / LATEST,
        )
    return trainer


def _sample_sources(dataset: StyleDataset, count: int) -> list[dict]:
    seen, picks = set(), []
    for index, item in enumerate(dataset.items):
        if item.name not in seen and len(picks) < count:
            seen.add(item.name)
            picks.append(dataset[index])
    return picks


def _write_report(trainer: MultiStyleTrainer, samples: list[dict], run_dir: Path) -> None:
    """Sample grid: per source image, its rendering in every style (first row: the sources)."""
    n_styles = trainer.cfg.model.num_styles
    sources = torch.stack([s["A"] for s in samples])
    rows = [[s["A"] for s in samples]]
    for label in range(n_styles):
        out = trainer.generate(sources, torch.full((len(samples),), label, dtype=torch.long)).cpu()
        rows.append(list(out))
    grid = run_dir / "samples" / f"epoch_{trainer.epoch:04d}.png"
    save_grid(rows, grid)
    plot_losses(run_dir / "losses.csv", run_dir / "losses.png", skip=("epoch", "w_L1", "w_const"))
    epochs = sorted(
        (int(p.stem.split("_")[1]) for p in (run_dir / "samples").glob("epoch_*.png")), reverse=True
    )
    rows_html = [[str(e), f"samples/epoch_{e:04d}.png"] for e in epochs]
    styles = ", ".join(f"{i}: {s}" for i, s in enumerate(trainer.cfg.style_names))
    write_image_table(
        run_dir / "index.html", f"multi-style run {run_dir.name}", ("epoch", "sources, then one row per style"),
        rows_html, f"<p>styles {styles}</p><p><img src='losses.png'></p>",
    )  # fmt: skip
