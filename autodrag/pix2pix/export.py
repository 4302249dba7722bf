"""TorchScript export of a trained generator, for use without this package."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from autodrag.atomic import write_atomic
from autodrag.pix2pix.infer import load_translator

__all__ = ["export_torchscript"]


def export_torchscript(
    checkpoint: str | Path, out_path: str | Path, check_size: tuple[int, int] = (64, 48)
) -> Path:
    """Script the generator of ``checkpoint`` in eval mode and save it to ``out_path``.

    The scripted module keeps the pad-and-crop logic, so it accepts any H x W. It is checked
    against the eager network on a random ``check_size`` (width, height) input before saving.

    Args:
        checkpoint: Run folder or checkpoint file.
        out_path: The ``.pt`` file to write; load it with ``torch.jit.load``.
        check_size: Size of the verification input.

    Returns:
        ``out_path``.
    """
    net, cfg = load_translator(checkpoint)
    net.eval()
    with warnings.catch_warnings():
        # TorchScript is deprecated upstream in favour of torch.export, but it is still the
        # format that loads anywhere with plain `torch.jit.load` and keeps dynamic H x W
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.script(net)
    probe = torch.rand(1, cfg.in_channels, check_size[1], check_size[0]) * 2 - 1
    with torch.no_grad():
        expected, got = net(probe), scripted(probe)
    if expected.shape != got.shape or not torch.allclose(expected, got, atol=1e-5):
        raise RuntimeError("the scripted generator does not reproduce the eager one")
    return write_atomic(out_path, lambda tmp: scripted.save(str(tmp)))
