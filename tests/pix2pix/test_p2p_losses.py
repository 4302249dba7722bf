"""GAN losses, the WGAN-GP penalty (really applied) and n_critic."""

from __future__ import annotations

import math

import pytest
import torch

from autodrag.pix2pix.losses import (
    GAN_MODES,
    discriminator_loss,
    generator_adversarial_loss,
    gradient_penalty,
)
from autodrag.pix2pix.trainer import Pix2PixTrainer


def test_loss_values_per_mode() -> None:
    real, fake = torch.full((2, 1, 3, 3), 2.0), torch.full((2, 1, 3, 3), -1.0)
    lr, lf = discriminator_loss("vanilla", real, fake)
    assert math.isclose(lr.item(), math.log1p(math.exp(-2.0)), rel_tol=1e-5)
    assert math.isclose(lf.item(), math.log1p(math.exp(-1.0)), rel_tol=1e-5)
    assert [t.item() for t in discriminator_loss("lsgan", real, fake)] == [1.0, 1.0]
    assert [t.item() for t in discriminator_loss("hinge", real, fake)] == [0.0, 0.0]
    assert [t.item() for t in discriminator_loss("wgangp", real, fake)] == [-2.0, -1.0]
    assert generator_adversarial_loss("wgangp", fake).item() == 1.0
    assert generator_adversarial_loss("hinge", fake).item() == 1.0
    assert generator_adversarial_loss("lsgan", fake).item() == 4.0
    with pytest.raises(ValueError, match="unknown GAN mode"):
        discriminator_loss("wgan", real, fake)


def test_gradient_penalty_matches_closed_form() -> None:
    """A linear critic has gradient w everywhere: the penalty is (||w|| - 1)^2."""
    weight = torch.randn(1, 2, 4, 4)
    weight = 3.0 * weight / weight.norm()  # ||w|| = 3
    critic = lambda source, target: (target * weight).flatten(1).sum(1)
    real, fake = torch.randn(5, 2, 4, 4), torch.randn(5, 2, 4, 4)
    gp = gradient_penalty(critic, torch.zeros(5, 1, 4, 4), real, fake)
    assert math.isclose(gp.item(), 4.0, rel_tol=1e-5)


def test_gradient_penalty_changes_the_critic_gradients(small_root, make_config) -> None:
    """With wgangp the penalty's gradient reaches D's weights (the reference code drops it)."""
    grads = {}
    for weight in (0.0, 10.0):
        cfg = make_config(small_root, gan_mode="wgangp", gp_weight=weight, discriminator__norm="layer")
        trainer = Pix2PixTrainer(cfg, torch.device("cpu"))
        batch = {"A": torch.rand(2, 1, 32, 64) * 2 - 1, "B": torch.rand(2, 1, 32, 64) * 2 - 1}
        torch.manual_seed(1)
        trainer.optD.step = lambda: None  # keep the gradients, skip the update
        out = trainer.training_step(batch)
        assert "D_gp" in out["losses"] and out["losses"]["D_gp"] > 0
        grads[weight] = torch.cat([p.grad.flatten() for p in trainer.netD.parameters()])
    assert not torch.allclose(grads[0.0], grads[10.0])


def test_wgangp_rejects_batch_norm_in_the_critic(small_root, make_config) -> None:
    cfg = make_config(small_root, gan_mode="wgangp", discriminator__norm="batch")
    with pytest.raises(ValueError, match="batch norm"):
        cfg.validate()


def test_n_critic_updates_g_every_nth_step(small_root, make_config) -> None:
    cfg = make_config(small_root, gan_mode="wgangp", n_critic=3, discriminator__norm="none")
    trainer = Pix2PixTrainer(cfg, torch.device("cpu"))
    batch = {"A": torch.rand(2, 1, 32, 64) * 2 - 1, "B": torch.rand(2, 1, 32, 64) * 2 - 1}
    g0 = [p.detach().clone() for p in trainer.netG.parameters()]
    seen = []
    for _ in range(3):
        d0 = [p.detach().clone() for p in trainer.netD.parameters()]
        losses = trainer.training_step(batch)["losses"]
        seen.append("G_L1" in losses)
        assert any(not torch.equal(a, b) for a, b in zip(d0, trainer.netD.parameters()))  # D moves every step
        g_moved = any(not torch.equal(a, b) for a, b in zip(g0, trainer.netG.parameters()))
        assert g_moved == seen[-1]
    assert seen == [False, False, True]


@pytest.mark.parametrize("mode", GAN_MODES)
def test_every_mode_trains_a_step(small_root, make_config, mode: str) -> None:
    norm = "layer" if mode == "wgangp" else "batch"
    trainer = Pix2PixTrainer(
        make_config(small_root, gan_mode=mode, discriminator__norm=norm), torch.device("cpu")
    )
    out = trainer.training_step({"A": torch.zeros(2, 1, 32, 64), "B": torch.zeros(2, 1, 32, 64)})
    assert all(math.isfinite(v) for v in out["losses"].values())
    assert out["fake_B"].shape == (2, 1, 32, 64)
