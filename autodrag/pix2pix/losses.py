"""Adversarial losses (vanilla, lsgan, hinge, wgangp), the WGAN-GP gradient penalty and L1.

Discriminators return raw logits / critic scores; each mode defines what the two players minimise.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = ["GAN_MODES", "discriminator_loss", "generator_adversarial_loss", "gradient_penalty"]

GAN_MODES: tuple[str, ...] = ("vanilla", "lsgan", "hinge", "wgangp")


def _check_mode(mode: str) -> None:
    if mode not in GAN_MODES:
        raise ValueError(f"unknown GAN mode {mode!r}; expected one of {', '.join(GAN_MODES)}")


def discriminator_loss(
    mode: str, real: torch.Tensor, fake: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The discriminator's loss on real and on generated samples, separately.

    Args:
        mode: One of :data:`GAN_MODES`.
        real: Logits / scores on real pairs, any shape.
        fake: Logits / scores on generated pairs, any shape.

    Returns:
        ``(loss_real, loss_fake)``; the discriminator minimises their sum (plus a penalty for
        ``wgangp``, see :func:`gradient_penalty`). The pix2pix paper halves the vanilla sum to
        slow D relative to G; the caller applies that factor.
    """
    _check_mode(mode)
    if mode == "vanilla":
        return (
            F.binary_cross_entropy_with_logits(real, torch.ones_like(real)),
            F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)),
        )
    if mode == "lsgan":
        return F.mse_loss(real, torch.ones_like(real)), F.mse_loss(fake, torch.zeros_like(fake))
    if mode == "hinge":
        return F.relu(1.0 - real).mean(), F.relu(1.0 + fake).mean()
    return -real.mean(), fake.mean()


def generator_adversarial_loss(mode: str, fake: torch.Tensor) -> torch.Tensor:
    """The generator's adversarial loss given the discriminator's output on its samples."""
    _check_mode(mode)
    if mode == "vanilla":
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
    if mode == "lsgan":
        return F.mse_loss(fake, torch.ones_like(fake))
    return -fake.mean()


def gradient_penalty(
    critic: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    source: torch.Tensor,
    real: torch.Tensor,
    fake: torch.Tensor,
    target_norm: float = 1.0,
) -> torch.Tensor:
    """WGAN-GP penalty (Gulrajani et al. 2017) on random interpolates of real and fake targets.

    The graph is kept (``create_graph=True``) so that the penalty's gradient reaches the critic's
    weights when the caller backpropagates ``weight * penalty``.

    Args:
        critic: ``critic(source, target) -> scores``.
        source: Conditioning images [N, Ca, H, W] (not interpolated).
        real: Real targets [N, Cb, H, W].
        fake: Generated targets [N, Cb, H, W], detached from the generator.
        target_norm: The gradient norm the penalty pulls towards.

    Returns:
        Scalar ``mean((||grad_x critic(source, x)||_2 - target_norm)^2)``.
    """
    alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype)
    mixed = (alpha * real + (1.0 - alpha) * fake.detach()).requires_grad_(True)
    scores = critic(source, mixed)
    (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    norms = grad.flatten(1).norm(2, dim=1)
    return ((norms - target_norm) ** 2).mean()
