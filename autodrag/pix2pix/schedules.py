"""Learning-rate schedules stepped once per epoch: linear decay, step, cosine, plateau."""

from __future__ import annotations

from torch.optim import Optimizer, lr_scheduler

__all__ = ["build_scheduler", "linear_decay_factor", "step_scheduler"]


def linear_decay_factor(epoch: int, n_epochs: int, n_epochs_decay: int) -> float:
    """Rate multiplier for the epoch after ``epoch`` completed ones: 1 for ``n_epochs``, then linear to 0.

    After the last of ``n_epochs + n_epochs_decay`` epochs the factor reaches 1 / (n_epochs_decay + 1),
    so the final epoch still trains with a (small) positive rate.
    """
    return 1.0 - max(0, epoch + 1 - n_epochs) / float(n_epochs_decay + 1)


def build_scheduler(
    optimizer: Optimizer,
    policy: str,
    n_epochs: int,
    n_epochs_decay: int,
    step_epochs: int = 50,
    gamma: float = 0.1,
    plateau_factor: float = 0.5,
    plateau_patience: int = 5,
) -> lr_scheduler.LRScheduler | lr_scheduler.ReduceLROnPlateau:
    """The per-epoch scheduler for ``policy`` (see :data:`autodrag.pix2pix.config.LR_POLICIES`)."""
    if policy == "linear":
        return lr_scheduler.LambdaLR(optimizer, lambda e: linear_decay_factor(e, n_epochs, n_epochs_decay))
    if policy == "step":
        return lr_scheduler.StepLR(optimizer, step_size=step_epochs, gamma=gamma)
    if policy == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=n_epochs + n_epochs_decay, eta_min=0.0)
    if policy == "plateau":
        return lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="min", factor=plateau_factor, patience=plateau_patience
        )
    raise ValueError(f"unknown lr policy {policy!r}")


def step_scheduler(scheduler, val_metric: float | None) -> None:
    """Advance ``scheduler`` by one epoch; plateau schedulers need the validation metric.

    Raises:
        ValueError: A plateau scheduler was given no metric (it would never act).
    """
    if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau):
        if val_metric is None:
            raise ValueError(
                "the plateau policy needs a validation metric: add a val/ split or --val-fraction"
            )
        scheduler.step(val_metric)
    else:
        scheduler.step()
