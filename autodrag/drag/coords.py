"""The drag engine's one coordinate convention and its one mapping from image pixels to feature maps.

Convention (used by every module of `autodrag.drag`):

- A point is `(row, col)` in image pixels, as floats. Integer values are pixel centres: pixel
  `(i, j)` covers `[i - 0.5, i + 0.5] x [j - 0.5, j + 0.5]`. A point is inside an `R x R` image when
  both coordinates lie in `[-0.5, R - 0.5]`.
- A set of points is a float tensor `[N, 2]`: column 0 is the row, column 1 the column.
- A feature map is read through its window `(offset, extent)` from
  `G.synthesis.feature_window(k)`: image pixels `[0, R)` cover feature pixels
  `[offset, offset + extent)`, centre to centre::

      f = offset + (p + 0.5) * extent / R - 0.5        (the same formula for rows and columns)

  For StyleGAN2 the window is `(0, S)` for an `S x S` map; StyleGAN3 maps carry a margin.
- `(x, y) = (col, row)` appears only at boundaries (PIL drawing, landmark detectors, grid_sample):
  `rowcol_to_xy` / `xy_to_rowcol` are the only swaps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from autodrag.drag.errors import DragInputError

__all__ = [
    "FeatureWindow",
    "as_handles_and_targets",
    "as_movable_mask",
    "as_points",
    "automatic_feature_index",
    "fixed_weight_map",
    "rowcol_to_xy",
    "sample_features",
    "square_offsets",
    "xy_to_rowcol",
]


def _swap_axes(points: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
    """Swap the last axis (size 2). Tensors stay tensors; anything else becomes a float32 numpy copy."""
    if isinstance(points, torch.Tensor):
        return points.flip(-1)
    points = np.asarray(points, dtype=np.float32)
    if points.shape[-1] != 2:
        raise ValueError(f"points must have a last axis of size 2, got shape {points.shape}")
    return np.ascontiguousarray(points[..., ::-1])


def rowcol_to_xy(points: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
    """`(row, col)` -> `(x, y)`: with `xy_to_rowcol`, the only axis swap in AutoDrag (landmarks, drawing).

    Shape:
        points: [..., 2] -> [..., 2]
    """
    return _swap_axes(points)


def xy_to_rowcol(points: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
    """`(x, y)` (landmarks, PIL) -> `(row, col)` (the drag engine): the inverse of `rowcol_to_xy`."""
    return _swap_axes(points)


def automatic_feature_index(synthesis: torch.nn.Module, smallest: int = 32) -> int:
    """The drag map AutoDrag picks: DragGAN's (block 6, a quarter of a 512 px image, half of a 256 px
    one) unless on a small model that index is the last, full-resolution block; then the StyleGAN2
    block at a quarter of the image resolution, at least `smallest` px (at 128 px the 64-channel 32 px
    block instead of the 16-channel 128 px one). StyleGAN3 (layers, not blocks): DragGAN's index."""
    resolutions = getattr(synthesis, "block_resolutions", None)
    draggan = int(synthesis.drag_feature_index)
    if not resolutions or resolutions[draggan] < int(synthesis.img_resolution):
        return draggan
    wanted = max(int(synthesis.img_resolution) // 4, smallest)
    return next((i for i, res in enumerate(resolutions) if res >= wanted), draggan)


@dataclass(frozen=True)
class FeatureWindow:
    """Where an `R x R` image lies on a feature map (see the module docstring for the formula)."""

    img_resolution: int  # R: the image is R x R pixels.
    offset: float  # Feature-pixel edge where the image starts (0 for StyleGAN2, the margin for StyleGAN3).
    extent: float  # Feature pixels the image spans (S for an S x S StyleGAN2 map).

    @classmethod
    def of(cls, G: torch.nn.Module, feature_index: int) -> FeatureWindow:
        """The window of `G.synthesis`'s feature map `feature_index`."""
        offset, extent = G.synthesis.feature_window(feature_index)
        return cls(int(G.img_resolution), float(offset), float(extent))

    @property
    def scale(self) -> float:
        """Feature pixels per image pixel."""
        return self.extent / self.img_resolution

    def to_feature(self, points: torch.Tensor) -> torch.Tensor:
        """Image `(row, col)` -> feature-map `(row, col)` (pixel centres at integers). Shape: [..., 2]."""
        return self.offset + (points + 0.5) * self.scale - 0.5

    def to_image(self, points: torch.Tensor) -> torch.Tensor:
        """Feature-map `(row, col)` -> image `(row, col)` (inverse of `to_feature`). Shape: [..., 2]."""
        return (points + 0.5 - self.offset) / self.scale - 0.5

    def to_grid(self, points: torch.Tensor, feature_size: tuple[int, int]) -> torch.Tensor:
        """Image `(row, col)` -> `grid_sample` coordinates (`(x, y)` in [-1, 1], align_corners=False).

        Shape:
            points: [..., 2] -> [..., 2]
        """
        feature = self.to_feature(points)
        size = torch.tensor(feature_size, dtype=feature.dtype, device=feature.device)  # (H, W)
        return rowcol_to_xy((2 * feature + 1) / size - 1)


def as_points(value: object, img_resolution: int, name: str = "points") -> torch.Tensor:
    """User points -> a float32 `[N, 2]` CPU tensor, finite and inside the image, else `DragInputError`."""
    try:
        points = torch.as_tensor(value, dtype=torch.float64).detach().cpu().clone()
    except (TypeError, ValueError, RuntimeError) as exc:
        raise DragInputError(f"{name}: not a list of (row, col) pairs ({exc})") from None
    if points.numel() == 0:
        points = points.reshape(0, 2)
    if points.ndim != 2 or points.shape[1] != 2:
        raise DragInputError(f"{name}: expected (row, col) pairs [N, 2], got shape {list(points.shape)}")
    if not torch.isfinite(points).all():
        raise DragInputError(f"{name}: contains NaN or infinity")
    lo, hi = -0.5, img_resolution - 0.5
    outside = ((points < lo) | (points > hi)).any(dim=1)
    if outside.any():
        i = int(outside.nonzero()[0])
        row, col = points[i].tolist()
        raise DragInputError(
            f"{name}[{i}] = ({row:g}, {col:g}) is outside the "
            f"{img_resolution}x{img_resolution} image (rows and columns must be in "
            f"[{lo:g}, {hi:g}])"
        )
    return points.to(torch.float32)


def square_offsets(radius: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Whole-pixel offsets `(drow, dcol)` of the square `[-radius, radius]^2`, row-major.

    Shape:
        returns: [(2 radius + 1)^2, 2] float32
    """
    steps = torch.arange(-radius, radius + 1, dtype=torch.float32, device=device)
    return torch.stack(torch.meshgrid(steps, steps, indexing="ij"), dim=-1).reshape(-1, 2)


def sample_features(features: torch.Tensor, points: torch.Tensor, window: FeatureWindow) -> torch.Tensor:
    """Bilinear feature vectors at image points, read straight from the feature map (edges clamped).

    Equal to bilinearly upsampling the map to image size (align_corners=False) and reading pixel
    centres, without building the upsampled map.

    Shape:
        features: [1, C, H, W]
        points: [..., 2] image (row, col)
        returns: [..., C]
    """
    assert features.ndim == 4 and features.shape[0] == 1, features.shape
    lead = points.shape[:-1]
    grid = window.to_grid(points.to(features.dtype), tuple(features.shape[-2:])).reshape(1, 1, -1, 2)
    values = F.grid_sample(features, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return values[0, :, 0].t().reshape(*lead, features.shape[1])  # [C, M] -> [..., C]


def fixed_weight_map(
    movable: torch.Tensor, window: FeatureWindow, feature_size: tuple[int, int]
) -> torch.Tensor:
    """The fixed region `1 - M` at feature resolution: area averages inside the window, 0 in the margin.

    Shape:
        movable: [R, R] with 1 = movable, 0 = fixed
        returns: [H, W] weights in [0, 1]
    """
    offset, extent = window.offset, window.extent
    if offset != int(offset) or extent != int(extent):
        raise ValueError(f"feature window ({offset}, {extent}) is not on whole feature pixels")
    offset, extent = int(offset), int(extent)
    fixed = 1 - movable.to(torch.float32)[None, None]
    pooled = F.interpolate(fixed, size=(extent, extent), mode="area")[0, 0]
    weights = torch.zeros(feature_size, dtype=torch.float32, device=movable.device)
    weights[offset : offset + extent, offset : offset + extent] = pooled
    return weights


def as_movable_mask(mask: torch.Tensor | np.ndarray, resolution: int) -> torch.Tensor | None:
    """A binary movable mask [R, R] (1 = movable) as float32, or None when nothing is fixed.

    Raises:
        DragInputError: wrong size, values other than 0/1, or no movable pixel.
    """
    m = torch.as_tensor(np.asarray(mask) if not isinstance(mask, torch.Tensor) else mask).detach().cpu()
    if m.ndim == 3 and m.shape[-1] == 1:
        m = m[..., 0]
    if m.shape != (resolution, resolution):
        raise DragInputError(f"mask is {'x'.join(map(str, m.shape))}, the image is {resolution}x{resolution}")
    m = m.to(torch.float32)
    if not torch.isfinite(m).all() or not ((m == 0) | (m == 1)).all():
        odd = m[~((m == 0) | (m == 1))][0].item()
        raise DragInputError(f"mask must be binary (1 = movable, 0 = fixed), found the value {odd:g}")
    if not m.any():
        raise DragInputError("mask marks no pixel as movable")
    return None if m.all() else m


def as_handles_and_targets(
    handles: object, targets: object, resolution: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """A drag's handles and targets as [N, 2] (row, col) tensors, checked: N >= 1, one target per handle,
    none equal to its handle (DragInputError naming the problem)."""
    p = as_points(handles, resolution, "handles")
    t = as_points(targets, resolution, "targets")
    if p.shape[0] == 0:
        raise DragInputError("no handle points given")
    if p.shape[0] != t.shape[0]:
        raise DragInputError(f"{p.shape[0]} handles but {t.shape[0]} targets: give one target per handle")
    same = (p == t).all(dim=1)
    if same.any():
        i = int(same.nonzero()[0])
        raise DragInputError(f"target {i} equals its handle ({p[i, 0].item():g}, {p[i, 1].item():g})")
    return p, t
