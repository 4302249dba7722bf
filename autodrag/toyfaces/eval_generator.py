"""How well the bundled generator reproduces the renderer: held-out PSNR and expression control.

Expression control: for a held-out face, sweep one expression parameter (left-eye openness or
mouth openness) from closed to wide with everything else fixed (`z_with_params`); measure the
eye aspect ratio / inner-mouth gap with the bundled detector on G's outputs and exactly on the
renderer's landmarks; the two curves should correlate (Pearson r per sweep).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from autodrag.landmarks.base import LandmarkDetector
from autodrag.landmarks.measures import eye_aspect_ratio, inner_mouth_gap
from autodrag.latents import z_from_seed
from autodrag.toyfaces.params import Z_DIM, z_with_params
from autodrag.toyfaces.render import RenderConfig, render_z
from autodrag.toyfaces.train_generator import HELD_OUT_SEED_BASE

__all__ = ["SWEEPS", "SweepReport", "expression_sweeps"]

SWEEPS = {  # parameter -> measure on 68 landmarks
    "eye_open_left": lambda lm: eye_aspect_ratio(lm, "left"),
    "mouth_open": inner_mouth_gap,
}


@dataclass
class SweepReport:
    parameter: str
    r: np.ndarray  # [sweeps] Pearson r between detector-on-G and renderer measures

    @property
    def fraction_ok(self) -> float:
        return float(np.mean(self.r >= 0.9))


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if np.std(a) < 1e-9 or np.std(b) < 1e-9:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def expression_sweeps(
    G: torch.nn.Module, detector: LandmarkDetector, sweeps: int = 32, steps: int = 9, seed_offset: int = 5000
) -> list[SweepReport]:
    """Pearson r per sweep for each parameter in SWEEPS (held-out bases: HELD_OUT_SEED_BASE + offset + i)."""
    reports = []
    values = np.linspace(0, 1, steps)
    for parameter, measure in SWEEPS.items():
        rs = []
        for i in range(sweeps):
            base = z_from_seed(HELD_OUT_SEED_BASE + seed_offset + i, Z_DIM)
            z = np.concatenate([z_with_params(base, **{parameter: float(v)}) for v in values])
            truth = np.array(
                [measure(r.landmarks) for r in render_z(z, RenderConfig(resolution=G.img_resolution))]
            )
            with torch.no_grad():
                images = G(torch.from_numpy(z), None, noise_mode="const")
            images = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
            detected = np.array([measure(lm) for lm in detector.detect_many(list(images))])
            rs.append(_pearson(detected, truth))
        reports.append(SweepReport(parameter, np.array(rs)))
    return reports
