"""The optional loss terms of a drag, each a small object with one `loss(features, image)`.

`DragSession` always minimises DragGAN's motion supervision; `drag_terms` picks those of these that a
drag's inputs and `DragConfig` ask for, in a fixed order (the order the loss is summed in).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from autodrag.drag.config import DragConfig, DragScales
from autodrag.drag.coords import FeatureWindow, fixed_weight_map, sample_features
from autodrag.drag.losses import anchor_loss, image_mask_loss, mask_loss

__all__ = [
    "AnchorTerm",
    "GuideTerm",
    "ImageGuide",
    "ImageMaskTerm",
    "LatentRegTerm",
    "LossTerm",
    "MaskTerm",
    "drag_terms",
]

ImageGuide = Callable[[torch.Tensor], torch.Tensor]  # step image [1, C, R, R] (with gradient) -> scalar loss


class LossTerm:
    """One weighted term added to the motion loss every step."""

    needs_image = False  # True: the step must run synthesis to the full image

    def loss(self, features: torch.Tensor, image: torch.Tensor | None) -> torch.Tensor:
        """The weighted term for the step's feature map [1, C, H, W] and image [1, 3, R, R] (or None)."""
        raise NotImplementedError


@dataclass(frozen=True)
class MaskTerm(LossTerm):
    """lambda x |(F - F0) * (1 - M)|_1 at feature resolution (`losses.mask_loss`)."""

    weight: float
    reference: torch.Tensor  # [1, C, H, W] F0
    fixed: torch.Tensor  # [H, W] 1 - M on the feature map
    area: float  # feature pixels covering the image

    def loss(self, features: torch.Tensor, image: torch.Tensor | None) -> torch.Tensor:
        return self.weight * mask_loss(features, self.reference, self.fixed, self.area)


@dataclass(frozen=True)
class AnchorTerm(LossTerm):
    """Anchors hold still: weight x `losses.anchor_loss` on their discs."""

    weight: float
    points: torch.Tensor  # [A, K, 2] disc points (image row, col)
    references: torch.Tensor  # [A, K, C] F0 there
    window: FeatureWindow

    def loss(self, features: torch.Tensor, image: torch.Tensor | None) -> torch.Tensor:
        return self.weight * anchor_loss(features, self.points, self.references, self.window)


@dataclass(frozen=True)
class ImageMaskTerm(LossTerm):
    """The fixed region held on the RGB image: weight x `losses.image_mask_loss`."""

    weight: float
    reference: torch.Tensor  # [1, C, R, R] I0
    fixed: torch.Tensor  # [R, R] 1 - M
    needs_image = True

    def loss(self, features: torch.Tensor, image: torch.Tensor | None) -> torch.Tensor:
        return self.weight * image_mask_loss(image, self.reference, self.fixed)


@dataclass(frozen=True)
class GuideTerm(LossTerm):
    """A caller's differentiable image loss (e.g. landmarks pulled to their targets)."""

    guide: ImageGuide
    needs_image = True

    def loss(self, features: torch.Tensor, image: torch.Tensor | None) -> torch.Tensor:
        return self.guide(image)


@dataclass(frozen=True)
class LatentRegTerm(LossTerm):
    """weight x mean((w - w_start)^2) over the optimised rows (`delta` is the optimised offset itself)."""

    weight: float
    delta: torch.Tensor

    def loss(self, features: torch.Tensor, image: torch.Tensor | None) -> torch.Tensor:
        return self.weight * self.delta.square().mean()


def drag_terms(
    config: DragConfig,
    scales: DragScales,
    window: FeatureWindow,
    delta: torch.Tensor,
    offsets: torch.Tensor,
    f0: torch.Tensor,
    i0: torch.Tensor | None,
    movable: torch.Tensor | None,
    anchors: torch.Tensor,
    guide: ImageGuide | None,
) -> list[LossTerm]:
    """The terms a drag adds to its motion loss, in summing order: mask, anchors, image mask, guide, latent.

    Args:
        config, scales: the drag's settings (at its resolution). window: of the drag feature map.
        delta: the optimised latent offset. offsets: the motion disc (`losses.disc_offsets(r1)`).
        f0, i0: feature map and image at the start (i0 only needed with an image mask weight).
        movable: [R, R] 1 = movable, or None. anchors: [A, 2] (row, col) held points (A may be 0).
        guide: the caller's image loss, or None.
    """
    terms: list[LossTerm] = []
    if movable is not None and scales.mask_weight > 0:
        fixed = fixed_weight_map(movable.to(f0.device), window, tuple(f0.shape[-2:]))
        terms.append(MaskTerm(scales.mask_weight, f0, fixed, window.extent**2))
    if anchors.shape[0]:
        disc = anchors[:, None, :] + offsets[None]
        terms.append(AnchorTerm(config.anchor_weight, disc, sample_features(f0, disc, window), window))
    if movable is not None and config.image_mask_weight > 0:
        terms.append(ImageMaskTerm(config.image_mask_weight, i0, 1 - movable.to(f0.device)))
    if guide is not None:
        terms.append(GuideTerm(guide))
    if config.latent_reg > 0:
        terms.append(LatentRegTerm(config.latent_reg, delta))
    return terms
