"""DragGAN's losses at feature resolution: motion supervision around the handles and the fixed-region term."""

from __future__ import annotations

import math

import torch

from autodrag.drag.coords import FeatureWindow, sample_features, square_offsets

__all__ = ["anchor_loss", "disc_offsets", "image_mask_loss", "mask_loss", "motion_directions", "motion_loss"]


def disc_offsets(radius: float, device: torch.device | str = "cpu") -> torch.Tensor:
    """Whole-pixel offsets `(drow, dcol)` with `drow^2 + dcol^2 <= radius^2` (always includes (0, 0)).

    Shape:
        returns: [K, 2] float32
    """
    square = square_offsets(math.floor(radius), device)
    return square[square.square().sum(dim=1) <= radius * radius]


def motion_directions(handles: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """d_i = (t_i - p_i) / |t_i - p_i|, or the raw difference when it is shorter than 1 px.

    Shape:
        handles, targets: [N, 2] image (row, col)
        returns: [N, 2]
    """
    delta = targets - handles
    length = delta.norm(dim=1, keepdim=True)
    return torch.where(length >= 1, delta / length.clamp_min(1e-12), delta)


def motion_loss(
    features: torch.Tensor,
    handles: torch.Tensor,
    targets: torch.Tensor,
    window: FeatureWindow,
    offsets: torch.Tensor,
) -> torch.Tensor:
    """Motion supervision: sum_i mean_{q, c} |F(q + d_i) - sg(F(q))|, q = p_i + offsets.

    Features are sampled bilinearly at sub-pixel positions straight from the feature map; only the
    shifted samples carry gradient, so each step pulls the content around p_i one pixel toward t_i.

    Args:
        features: the current feature map (with gradient).
        handles: current handle points p_i.
        targets: target points t_i.
        window: where the image lies on `features`.
        offsets: the disc Omega_1 around each handle (`disc_offsets(r1)`).
    Returns:
        A scalar: per handle the L1 distance averaged over disc points and channels, summed over handles.
    Shape:
        features: [1, C, H, W]; handles, targets: [N, 2]; offsets: [K, 2]
    """
    q = handles[:, None, :] + offsets[None]  # [N, K, 2]
    d = motion_directions(handles, targets)[:, None, :]  # [N, 1, 2]
    samples = sample_features(features, torch.cat([q, q + d], dim=1), window)  # [N, 2K, C]
    here, shifted = samples.split(offsets.shape[0], dim=1)
    return (shifted - here.detach()).abs().mean(dim=(1, 2)).sum()


def mask_loss(
    features: torch.Tensor, reference: torch.Tensor, fixed: torch.Tensor, area: float
) -> torch.Tensor:
    """The fixed-region term |(F - F0) * (1 - M)|_1, computed at feature resolution.

    Args:
        features: the current feature map F.
        reference: the feature map F0 at the start of the drag.
        fixed: `1 - M` at feature resolution (`coords.fixed_weight_map`).
        area: feature pixels covering the image (`window.extent ** 2`); dividing by `C * area` makes the
            value the mean over image pixels and channels that the full-resolution formulation computes.
    Returns:
        A scalar (not yet multiplied by lambda).
    Shape:
        features, reference: [1, C, H, W]; fixed: [H, W]
    """
    channels = features.shape[1]
    return ((features - reference).abs() * fixed).sum() / (channels * area)


def image_mask_loss(image: torch.Tensor, reference: torch.Tensor, fixed: torch.Tensor) -> torch.Tensor:
    """The fixed-region term on the RGB image: mean over pixels and channels of |(I - I0) * (1 - M)|.

    Shape:
        image, reference: [1, C, R, R] in [-1, 1]; fixed: [R, R] (1 - M)
    """
    return ((image - reference).abs() * fixed).mean()


def anchor_loss(
    features: torch.Tensor, points: torch.Tensor, references: torch.Tensor, window: FeatureWindow
) -> torch.Tensor:
    """Anchors hold still: sum over anchors of mean_{q, c} |F(q) - F0(q)| on their discs.

    It sits on the same scale as one handle's motion term. Unlike the fixed region of a mask it is
    compatible with a handle on the same pixel: that handle asks for F(q + d) = F(q), the anchor for
    F(q) = F0(q), so the content under a shut eye's two lid points can split (one lid stays, one moves).

    Shape:
        points: [A, K, 2] the anchors' disc points (image row, col); references: [A, K, C] F0 there
    """
    return (sample_features(features, points, window) - references).abs().mean(dim=(1, 2)).sum()
