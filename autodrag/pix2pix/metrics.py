"""Image-quality metrics of an output against its target: L1, PSNR and SSIM (scikit-image)."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

__all__ = ["METRIC_NAMES", "image_metrics"]

METRIC_NAMES: tuple[str, ...] = ("L1", "PSNR", "SSIM")


def image_metrics(output: Image.Image, target: Image.Image) -> dict[str, float]:
    """Compare two images of the same size and mode.

    Returns:
        ``L1``: mean absolute error on a 0..1 scale; ``PSNR`` in dB (inf for identical images);
        ``SSIM`` in [-1, 1], with the largest odd window (<= 7) that fits the image.
    """
    if output.size != target.size:
        raise ValueError(
            f"output is {output.size[0]}x{output.size[1]} but target is {target.size[0]}x{target.size[1]}"
        )
    mode = "RGB" if "RGB" in (output.mode, target.mode) else "L"
    out = np.asarray(output.convert(mode), dtype=np.float64) / 255.0
    tgt = np.asarray(target.convert(mode), dtype=np.float64) / 255.0
    l1 = float(np.abs(out - tgt).mean())
    psnr = math.inf if l1 == 0.0 else float(peak_signal_noise_ratio(tgt, out, data_range=1.0))
    side = min(out.shape[0], out.shape[1])
    window = min(7, side if side % 2 else side - 1)
    if window < 3:
        ssim = float("nan")
    else:
        ssim = float(
            structural_similarity(
                tgt, out, data_range=1.0, win_size=window, channel_axis=2 if out.ndim == 3 else None
            )
        )
    return {"L1": l1, "PSNR": psnr, "SSIM": ssim}
