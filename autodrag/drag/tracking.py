"""Point tracking: each handle moves to where, in its search square, the features best match the handle's.

`track_points` is DragGAN's rule (the pixel centre nearest to f_i). `track_handles` is AutoDrag's
default: it compares small patches instead of single feature vectors, against both the handle's
feature when the drag started and its feature at the last tracked position, refines the winner to a
sub-pixel position, and says whether the two matches agree (`Tracked.reliable`). `Relocator` runs when a
drag seems to arrive and when it ends: a richer descriptor, matched against the start only, re-locates
the handles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from autodrag.drag.config import TRACKING_METRICS
from autodrag.drag.coords import FeatureWindow, sample_features, square_offsets

__all__ = [
    "RELOCATION_BLOCKS",
    "RELOCATION_PATCH",
    "ExtraMaps",
    "Relocator",
    "Tracked",
    "lower_maps",
    "patch_descriptors",
    "patch_offsets",
    "subpixel_offsets",
    "track_handles",
    "track_points",
]


def _distance(values: torch.Tensor, references: torch.Tensor, metric: str) -> torch.Tensor:
    diff = values - references
    return diff.abs().sum(dim=-1) if metric == "l1" else diff.square().sum(dim=-1).sqrt()


def track_points(
    features: torch.Tensor,
    points: torch.Tensor,
    references: torch.Tensor,
    window: FeatureWindow,
    radius: int,
    metric: str = "l1",
) -> tuple[torch.Tensor, torch.Tensor]:
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
        dist = _distance(values, references[:, None, :], metric).masked_fill(~inside, float("inf"))
        best = dist.argmin(dim=1)  # [N]
    index = torch.arange(points.shape[0], device=points.device)
    return candidates[index, best], dist[index, best]


def patch_offsets(half: int, window: FeatureWindow, device: torch.device | str = "cpu") -> torch.Tensor:
    """Offsets (image px) of a (2 half + 1)^2 patch spaced one feature pixel apart. Shape: [P, 2]."""
    return square_offsets(half, device) * max(1.0, 1.0 / window.scale)


# The end-of-drag descriptor (`Relocator`): a 3 x 3 patch of feature pixels over the drag map and the map below.
RELOCATION_PATCH = 1
RELOCATION_BLOCKS = 2

# Lower feature maps read at the same image points as the drag map, each with its window.
ExtraMaps = Sequence[tuple[torch.Tensor, FeatureWindow]]


def lower_maps(all_maps: Sequence[torch.Tensor], maps: Sequence[tuple[int, FeatureWindow]]) -> ExtraMaps:
    """The (map, window) pairs of `maps` ((index, window) pairs) out of a synthesis' `all_maps`."""
    return [(all_maps[i], window) for i, window in maps]


def patch_descriptors(
    features: torch.Tensor,
    points: torch.Tensor,
    window: FeatureWindow,
    patch: torch.Tensor,
    extra: ExtraMaps = (),
) -> torch.Tensor:
    """Features of the patch around each point, flattened: [..., P * C] (points [..., 2], patch [P, 2]).

    With `extra` maps, their features at the same image points follow: [..., P * (C + C_1 + ...)].
    """
    where = points[..., None, :] + patch
    values = [sample_features(features, where, window).flatten(-2)]  # [..., P * C]
    values += [sample_features(m, where, w).flatten(-2) for m, w in extra]
    return values[0] if len(values) == 1 else torch.cat(values, dim=-1)


def subpixel_offsets(cost: torch.Tensor, best: torch.Tensor, radius: int) -> torch.Tensor:
    """Sub-pixel refinement of an argmin on a square cost grid: a parabola through each axis' 3 costs.

    Args:
        cost: [N, K] costs on the (2 radius + 1)^2 grid (row-major, inf outside the image).
        best: [N] index of each row's minimum.
    Returns:
        [N, 2] (drow, dcol) in [-0.5, 0.5]; 0 on an axis where the minimum is on the grid's edge or a
        neighbour is missing (inf) or the parabola is not convex.
    """
    side = 2 * radius + 1
    grid = cost.reshape(-1, side, side)
    rows, cols = best // side, best % side
    index = torch.arange(cost.shape[0], device=cost.device)
    out = torch.zeros(cost.shape[0], 2, dtype=cost.dtype, device=cost.device)
    for axis, (pos, step) in enumerate(((rows, (1, 0)), (cols, (0, 1)))):
        ok = (pos > 0) & (pos < side - 1)
        lo_r, lo_c = (rows - step[0]).clamp(0, side - 1), (cols - step[1]).clamp(0, side - 1)
        hi_r, hi_c = (rows + step[0]).clamp(0, side - 1), (cols + step[1]).clamp(0, side - 1)
        lo, mid, hi = grid[index, lo_r, lo_c], grid[index, rows, cols], grid[index, hi_r, hi_c]
        curvature = lo - 2 * mid + hi
        ok = ok & torch.isfinite(lo) & torch.isfinite(hi) & (curvature > 0)
        shift = torch.where(ok, 0.5 * (lo - hi) / curvature.clamp(min=1e-12), torch.zeros_like(mid))
        out[:, axis] = shift.clamp(-0.5, 0.5)
    return out


@dataclass(frozen=True)
class Tracked:
    """What `track_handles` found."""

    points: torch.Tensor  # [N, 2] new handle positions (row, col), sub-pixel when asked.
    cost: torch.Tensor  # [N] combined match cost at the integer winner.
    reliable: torch.Tensor  # [N] bool: the initial- and recent-feature matches agree (within 1 px).
    recent: torch.Tensor  # [N, D] the descriptors at the new positions (the next step's recent ones).


def track_handles(
    features: torch.Tensor,
    points: torch.Tensor,
    initial: torch.Tensor,
    recent: torch.Tensor | None,
    window: FeatureWindow,
    radius: int,
    patch: torch.Tensor,
    metric: str = "l1",
    recent_weight: float = 0.5,
    subpixel: bool = True,
    extra: ExtraMaps = (),
) -> Tracked:
    """Patch matching against the initial and the recent descriptor, refined to sub-pixel positions.

    The cost of a candidate q (a pixel centre in the square of half-size `radius` around round(p_i),
    inside the image) is (1 - w) d(D(q), initial_i) + w d(D(q), recent_i), D(q) the features of the
    patch around q and d the L1 or L2 distance (per patch pixel). The winner is refined by a parabola
    per axis (`subpixel`). A handle is `reliable` when the winners of the two terms alone lie within
    1 px of each other (with no `recent`, always). `extra` maps (lower blocks) add their features at
    the same points to every descriptor.

    Shape:
        features: [1, C, H, W]; points: [N, 2]; initial, recent: [N, D] (D = P * C, plus the extra
        maps' channels); patch: [P, 2].
    """
    if metric not in TRACKING_METRICS:
        raise ValueError(f"metric must be one of {TRACKING_METRICS}, got {metric!r}")
    with torch.no_grad():
        features = features.detach()
        offsets = square_offsets(radius, points.device)
        centres = points.round()
        candidates = centres[:, None, :] + offsets[None]  # [N, K, 2]
        inside = ((candidates >= 0) & (candidates <= window.img_resolution - 1)).all(dim=-1)
        extra = [(m.detach(), w) for m, w in extra]
        values = patch_descriptors(features, candidates, window, patch, extra)  # [N, K, D]
        scale = 1.0 / patch.shape[0]
        d_init = (_distance(values, initial[:, None, :], metric) * scale).masked_fill(~inside, float("inf"))
        if recent is None or recent_weight <= 0:
            cost, reliable = d_init, torch.ones(points.shape[0], dtype=torch.bool, device=points.device)
        else:
            d_recent = (_distance(values, recent[:, None, :], metric) * scale).masked_fill(
                ~inside, float("inf")
            )
            cost = (1 - recent_weight) * d_init + recent_weight * d_recent
            gap = offsets[d_init.argmin(dim=1)] - offsets[d_recent.argmin(dim=1)]
            reliable = gap.norm(dim=1) <= 1.0
        best = cost.argmin(dim=1)
        index = torch.arange(points.shape[0], device=points.device)
        found = candidates[index, best]
        if subpixel:
            last = window.img_resolution - 1
            found = (found + subpixel_offsets(cost, best, radius)).clamp(0, last)
        new_recent = patch_descriptors(features, found, window, patch, extra)
    return Tracked(found, cost[index, best], reliable, new_recent)


@dataclass(frozen=True)
class Relocator:
    """Re-location on an apparent arrival and at the end of a drag: each handle's patch over the drag map
    and the maps below it, matched against the same descriptor at the drag's start (never the recent
    one), `passes` searches of the square of half-size `radius` in a row from the tracked positions.

    Every step's tracking must be cheap and follow small motions; this runs rarely, so it can afford the
    richer descriptor, and matching the start alone undoes the drift the per-step matches add up.
    """

    references: torch.Tensor  # [N, D] the descriptors at the handles in the start features.
    window: FeatureWindow  # Where the image lies on the drag map.
    patch: torch.Tensor  # [P, 2] image-pixel offsets (`patch_offsets`).
    maps: tuple[tuple[int, FeatureWindow], ...]  # (index, window) of the lower maps in the descriptor.
    radius: int  # r2 in image pixels.
    metric: str = "l1"
    subpixel: bool = True
    passes: int = 3

    @classmethod
    def at_start(
        cls,
        features: torch.Tensor,
        all_maps: Sequence[torch.Tensor],
        points: torch.Tensor,
        window: FeatureWindow,
        patch: torch.Tensor,
        maps: tuple[tuple[int, FeatureWindow], ...],
        **options,
    ) -> Relocator:
        """Take the start descriptors of `points` (the drag's handles) from the start features; `options`:
        radius, metric, subpixel, passes."""
        references = patch_descriptors(features, points, window, patch, lower_maps(all_maps, maps))
        return cls(references, window, patch, maps, **options)

    def relocate(
        self, features: torch.Tensor, all_maps: Sequence[torch.Tensor], points: torch.Tensor
    ) -> torch.Tensor:
        """The handles ([N, 2], from the tracked `points`) re-located on the current features and maps."""
        extra = lower_maps(all_maps, self.maps)
        for _ in range(self.passes):
            found = track_handles(
                features,
                points,
                self.references,
                None,
                self.window,
                self.radius,
                self.patch,
                self.metric,
                recent_weight=0.0,
                subpixel=self.subpixel,
                extra=extra,
            )
            points = found.points
        return points
