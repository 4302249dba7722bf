"""Score a landmark detector on toy faces: on fresh renders and on generator outputs.

For a generator trained on the renderer (z -> params(z) -> image), the renderer's landmarks of
params(z) are the ground truth for G(z); that is how the detector's NME on generator outputs is
measured, and how labelled generator outputs are made for fine-tuning (`generator_dataset`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from autodrag.landmarks.base import LandmarkDetector
from autodrag.landmarks.measures import nme
from autodrag.latents import z_from_seed
from autodrag.toyfaces.params import Z_DIM
from autodrag.toyfaces.render import RenderConfig, render_seed

__all__ = ["generator_dataset", "nme_on_generator", "nme_on_renders", "nme_summary"]


def nme_summary(errors: np.ndarray) -> dict[str, float]:
    """Mean, median and 95th percentile of per-face NMEs."""
    return {
        "nme_mean": float(np.mean(errors)),
        "nme_median": float(np.median(errors)),
        "nme_p95": float(np.quantile(errors, 0.95)),
        "faces": len(errors),
    }


def nme_on_renders(
    detector: LandmarkDetector, seeds: Sequence[int], resolution: int = 128
) -> dict[str, float]:
    """NME (by inter-ocular distance) of `detector` on the renders of `seeds`."""
    renders = [render_seed(s, RenderConfig(resolution=resolution)) for s in seeds]
    pred = detector.detect_many([r.image for r in renders])
    return nme_summary(nme(pred, np.stack([r.landmarks for r in renders])))


@torch.inference_mode()
def generator_dataset(
    G: torch.nn.Module, seeds: Sequence[int], truncation_psi: float = 1.0, batch: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    """G's images of `seeds` labelled with the renderer's landmarks of the same z.

    Args:
        G: a generator with z_dim == Z_DIM (the bundled toy-faces StyleGAN2).
        seeds: z = z_from_seed(seed, Z_DIM).
        truncation_psi: passed to G (1 = none; the labels stay those of params(z)).
    Returns:
        (uint8 images [N, R, R, 3], float32 landmarks [N, 68, 2] (x, y) pixels), R = G.img_resolution.
    """
    if G.z_dim != Z_DIM:
        raise ValueError(f"generator has z_dim {G.z_dim}, the toy faces need {Z_DIM}")
    res = G.img_resolution
    images, marks = [], []
    for start in range(0, len(seeds), batch):
        chunk = list(seeds[start : start + batch])
        z = torch.from_numpy(np.concatenate([z_from_seed(s, Z_DIM) for s in chunk]))
        out = G(z, None, truncation_psi=truncation_psi, noise_mode="const")  # [N, 3, R, R] in [-1, 1]
        images.append((out * 127.5 + 128).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy())
        marks += [render_seed(s, RenderConfig(resolution=res)).landmarks for s in chunk]
    return np.concatenate(images), np.stack(marks)


def nme_on_generator(
    detector: LandmarkDetector, G: torch.nn.Module, seeds: Sequence[int], truncation_psi: float = 1.0
) -> dict[str, float]:
    """NME of `detector` on G(z) against the renderer's landmarks of params(z)."""
    images, marks = generator_dataset(G, seeds, truncation_psi)
    return nme_summary(nme(detector.detect_many(list(images)), marks))
