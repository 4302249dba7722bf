"""Point tracking: each handle moves to the pixel of its search square whose feature best matches f_i."""

from __future__ import annotations

import torch

from autodrag.drag.config import TRACKING_METRICS
from autodrag.drag.coords import FeatureWindow, sample_features, square_offsets

__all__ = ["track_points"]


def track_points(features: torch.Tensor, points: torch.Tensor, references: torch.Tensor,
                 window: FeatureWindow, radius: int, metric: str = "l1") -> tuple[torch.Tensor, torch.Tensor]:
    """Nearest-feature search: p_i <- argmin_q |F(q) - f_i| over pixel centres q near p_i.

    The candidates are the image pixel centres in the square of half-size `radius` around `round(p_i)`
    that lie inside the image; features are read bilinearly from the low-resolution map (the values
    a full-resolution bilinear upsampling would hold there). Ties go to the first candidate in
    row-major order.

    Args:
        features: the feature map F' after the last update.
        points: current handle positions.
        references: f_i, the handles' features when the drag started.
        window: where the image lies on `features`.
        radius: r2 in image pixels.
        metric: 'l1' (sum of absolute differences, the paper) or 'l2' (Euclidean, DragGAN's code).
    Returns:
        (new points, their feature distance to f_i).
    Shape:
        features: [1, C, H, W]; points: [N, 2]; references: [N, C]; returns ([N, 2], [N])
    """
    if metric not in TRACKING_METRICS:
        raise ValueError(f"metric must be one of {TRACKING_METRICS}, got {metric!r}")
    offsets = square_offsets(radius, points.device)
    candidates = points.round()[:, None, :] + offsets[None]  # [N, K, 2]
    last = window.img_resolution - 1
    inside = ((candidates >= 0) & (candidates <= last)).all(dim=-1)  # [N, K]
    with torch.no_grad():
        values = sample_features(features.detach(), candidates, window)  # [N, K, C]
        diff = values - references[:, None, :]
        dist = diff.abs().sum(dim=-1) if metric == "l1" else diff.square().sum(dim=-1).sqrt()
        dist = dist.masked_fill(~inside, float("inf"))
        best = dist.argmin(dim=1)  # [N]
    index = torch.arange(points.shape[0], device=points.device)
    return candidates[index, best], dist[index, best]
