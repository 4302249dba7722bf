"""The pix2pix training step: one owner of G, D, their optimisers and schedulers.

:meth:`Pix2PixTrainer.training_step` performs one discriminator update and, every ``n_critic``
steps, one generator update, and returns the losses and the generated batch.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from autodrag.pix2pix.config import TrainConfig
from autodrag.pix2pix.discriminators import build_discriminator, judge_pair
from autodrag.pix2pix.losses import discriminator_loss, generator_adversarial_loss, gradient_penalty
from autodrag.pix2pix.networks import build_translator
from autodrag.pix2pix.schedules import build_scheduler, step_scheduler

__all__ = ["Pix2PixTrainer", "judges_in_bfloat16", "set_requires_grad"]


def set_requires_grad(net: nn.Module, flag: bool) -> None:
    """Switch gradient tracking of every parameter of ``net``."""
    for param in net.parameters():
        param.requires_grad_(flag)


def judges_in_bfloat16(precision: str, device: torch.device, amp: bool = False) -> bool:
    """Whether D's passes run under bfloat16 autocast (``TrainConfig.d_precision``).

    ``auto`` is bfloat16 on a CPU with AMX matrix units (oneDNN's bfloat16 convolutions there
    make a 128 px CPU step 10-15% faster at the same test quality: docs/BENCHMARKS.md) and
    float32 on other CPUs; on CUDA it follows ``--amp``.
    """
    if precision in ("float32", "bfloat16"):
        return precision == "bfloat16"
    if device.type == "cpu":
        return bool(getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)())
    return amp and device.type == "cuda"


class Pix2PixTrainer:
    """G, D, Adam optimisers and per-epoch schedulers of one pix2pix run.

    Args:
        cfg: The run's options; ``cfg.seed`` fixes the initial weights.
        device: Where the networks live.
        distributed: Wrap G and D in DistributedDataParallel (the process group must exist).
    """

    def __init__(self, cfg: TrainConfig, device: torch.device, distributed: bool = False) -> None:
        cfg.validate()
        self.cfg, self.device = cfg, device
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            self.netG = build_translator(cfg.generator).to(device)
            in_d = cfg.generator.in_channels + cfg.generator.out_channels
            self.netD = build_discriminator(cfg.discriminator, in_d).to(device)
        self.cuda = device.type == "cuda"
        self.g_bf16 = cfg.amp and self.cuda  # --amp: G under bfloat16 autocast
        self.d_bf16 = judges_in_bfloat16(cfg.d_precision, device, cfg.amp)
        self.memory_format = (
            torch.channels_last if (cfg.channels_last and self.cuda) else torch.contiguous_format
        )
        if self.memory_format is torch.channels_last:
            self.netG.to(memory_format=torch.channels_last)
            self.netD.to(memory_format=torch.channels_last)
        self.G: nn.Module = self.netG
        self.D: nn.Module = self.netD
        if distributed:
            ids = [device.index] if self.cuda else None
            self.G = nn.parallel.DistributedDataParallel(self.netG, device_ids=ids)
            self.D = nn.parallel.DistributedDataParallel(self.netD, device_ids=ids)
        self.optG = self._adam(self.netG)
        self.optD = self._adam(self.netD)
        self.schedG = self._scheduler(self.optG)
        self.schedD = self._scheduler(self.optD)
        self.step = 0  # training steps taken (D updates)

    def _adam(self, net: nn.Module) -> torch.optim.Adam:
        """Adam with the fused (single-kernel) update on CPU and CUDA.

        At batch 1 the U-Net's 41M-parameter update is a third of a CPU step with the per-tensor
        loop; the fused kernel does the same arithmetic in one pass (see docs/PIX2PIX.md, Speed).
        """
        betas = (self.cfg.beta1, self.cfg.beta2)
        fused = self.device.type in ("cpu", "cuda")
        return torch.optim.Adam(net.parameters(), lr=self.cfg.lr, betas=betas, fused=fused or None)

    def _scheduler(self, opt: torch.optim.Optimizer):
        c = self.cfg
        return build_scheduler(
            opt,
            c.lr_policy,
            c.n_epochs,
            c.n_epochs_decay,
            c.lr_step_epochs,
            c.lr_gamma,
            c.plateau_factor,
            c.plateau_patience,
        )

    def _bfloat16(self, enabled: bool):
        """bfloat16 autocast on the trainer's device if ``enabled`` (G: ``g_bf16``, D: ``d_bf16``)."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16) if enabled else contextlib.nullcontext()

    def _to_device(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor.to(self.device, non_blocking=True).contiguous(memory_format=self.memory_format)

    def training_step(self, batch: dict[str, Any]) -> dict[str, Any]:
        """One D update, plus a G update every ``n_critic`` steps.

        Args:
            batch: ``{"A": [N,Ca,H,W], "B": [N,Cb,H,W], ...}`` in [-1, 1].

        Returns:
            ``{"losses": {name: float}, "fake_B": [N,Cb,H,W]}``. Loss names: D_real, D_fake,
            D_gp (wgangp only), G_GAN and G_L1 (on steps that update G).
        """
        cfg = self.cfg
        real_a, real_b = self._to_device(batch["A"]), self._to_device(batch["B"])
        update_g = (self.step + 1) % cfg.n_critic == 0
        self.netG.train()
        self.netD.train()
        with self._bfloat16(self.g_bf16), contextlib.nullcontext() if update_g else torch.no_grad():
            fake_b = self.G(real_a)

        set_requires_grad(self.netD, True)
        self.optD.zero_grad(set_to_none=True)
        with self._bfloat16(self.d_bf16):
            if self.D is self.netD:  # one batched pass, same logits (DDP's wrapper needs its own forward)
                pred_real, pred_fake = (
                    p.float() for p in judge_pair(self.netD, real_a, real_b, fake_b.detach())
                )
            else:
                pred_real = self.D(real_a, real_b).float()
                pred_fake = self.D(real_a, fake_b.detach()).float()
        loss_real, loss_fake = discriminator_loss(cfg.gan_mode, pred_real, pred_fake)
        # vanilla / lsgan: halve D's objective so it learns more slowly than G (as in the paper)
        loss_d = (loss_real + loss_fake) * (0.5 if cfg.gan_mode in ("vanilla", "lsgan") else 1.0)
        losses = {"D_real": loss_real.item(), "D_fake": loss_fake.item()}
        if cfg.gan_mode == "wgangp":
            with torch.autocast(self.device.type, enabled=False):
                penalty = gradient_penalty(self.netD, real_a.float(), real_b.float(), fake_b.detach().float())
            loss_d = loss_d + cfg.gp_weight * penalty
            losses["D_gp"] = penalty.item()
        loss_d.backward()
        self.optD.step()

        if update_g:
            set_requires_grad(self.netD, False)  # D is a fixed judge during G's update
            self.optG.zero_grad(set_to_none=True)
            with self._bfloat16(self.d_bf16):
                pred = self.netD(real_a, fake_b).float()
            loss_gan = generator_adversarial_loss(cfg.gan_mode, pred)
            loss_l1 = F.l1_loss(fake_b.float(), real_b.float())
            (loss_gan + cfg.lambda_l1 * loss_l1).backward()
            self.optG.step()
            set_requires_grad(self.netD, True)
            losses.update(G_GAN=loss_gan.item(), G_L1=loss_l1.item())
        self.step += 1
        return {"losses": losses, "fake_B": fake_b.detach()}

    @torch.no_grad()
    def generate(self, real_a: torch.Tensor) -> torch.Tensor:
        """G's deterministic (eval-mode) output for ``real_a`` [N,Ca,H,W]; leaves G in train mode."""
        self.netG.eval()
        try:
            with self._bfloat16(self.g_bf16):
                return self.netG(self._to_device(real_a)).float()
        finally:
            self.netG.train()

    def end_epoch(self, val_metric: float | None) -> None:
        """Step both schedulers once (plateau ones with ``val_metric``)."""
        step_scheduler(self.schedG, val_metric)
        step_scheduler(self.schedD, val_metric)

    @property
    def lr(self) -> float:
        return self.optG.param_groups[0]["lr"]

    def state_dict(self) -> dict[str, Any]:
        """Networks, optimisers, schedulers and step counter."""
        return {
            "netG": self.netG.state_dict(),
            "netD": self.netD.state_dict(),
            "optG": self.optG.state_dict(),
            "optD": self.optD.state_dict(),
            "schedG": self.schedG.state_dict(),
            "schedD": self.schedD.state_dict(),
            "step": self.step,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore everything :meth:`state_dict` saved."""
        self.netG.load_state_dict(state["netG"])
        self.netD.load_state_dict(state["netD"])
        for opt, key in ((self.optG, "optG"), (self.optD, "optD")):
            fused = [group.get("fused") for group in opt.param_groups]
            opt.load_state_dict(state[key])
            for group, flag in zip(opt.param_groups, fused):  # older checkpoints saved fused=None
                group["fused"] = flag
        self.schedG.load_state_dict(state["schedG"])
        self.schedD.load_state_dict(state["schedD"])
        self.step = int(state["step"])
