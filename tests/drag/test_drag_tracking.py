"""Point tracking as a pure function: nearest feature within the square, inside the image, L1 or L2."""

from __future__ import annotations

import pytest
import torch

from autodrag.drag import FeatureWindow, square_offsets, track_points
from tests.drag.drag_reference import track_full, upsample_to_image


def _bump_map(row: int, col: int, size: int = 32) -> torch.Tensor:
    """Features that are zero except for one distinctive vector at (row, col)."""
    features = torch.zeros(1, 4, size, size)
    features[0, :, row, col] = torch.tensor([1.0, -2.0, 3.0, 0.5])
    return features


def test_square_offsets():
    offsets = square_offsets(1)
    assert offsets.shape == (9, 2) and offsets[0].tolist() == [-1, -1] and offsets[4].tolist() == [0, 0]


def test_finds_the_feature_within_the_radius_only():
    window = FeatureWindow(32, 0.0, 32.0)
    ref = torch.tensor([[1.0, -2.0, 3.0, 0.5]])
    points, dist = track_points(_bump_map(14, 19), torch.tensor([[10.0, 15.0]]), ref, window, radius=4)
    assert points.tolist() == [[14.0, 19.0]] and dist.item() == 0
    points, _ = track_points(_bump_map(14, 19), torch.tensor([[10.0, 15.0]]), ref, window, radius=3)
    assert points.tolist() != [[14.0, 19.0]]  # out of reach
    points, _ = track_points(_bump_map(14, 19), torch.tensor([[10.4, 15.6]]), ref, window, 4, metric="l2")
    assert points.tolist() == [[14.0, 19.0]]  # the search is centred on the rounded point


def test_never_leaves_the_image():
    window = FeatureWindow(32, 0.0, 32.0)
    rows, cols = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    features = (cols + 0.01 * rows)[None, None]  # grows to the right and (a little) downward
    points = torch.tensor([[0.0, 1.0], [31.0, 30.0]])
    points, _ = track_points(features, points, torch.tensor([[-5.0], [99.0]]), window, radius=3)
    assert points.tolist() == [[0.0, 0.0], [31.0, 31.0]]  # the best candidates are at the image edge


def test_metric_is_validated():
    with pytest.raises(ValueError, match="metric"):
        track_points(_bump_map(1, 1), torch.zeros(1, 2), torch.zeros(1, 4), FeatureWindow(32, 0.0, 32.0), 2,
                     "cos")


@pytest.mark.parametrize("metric", ["l1", "l2"])
def test_matches_full_resolution_search(metric):
    """Same candidates, same values (pixel centres of the upsampled map), same winners."""
    torch.manual_seed(4)
    R = 64
    features = torch.randn(1, 6, 40, 40)
    window = FeatureWindow(R, 4.0, 32.0)
    up = upsample_to_image(features, 4, 32, R)
    points = torch.tensor([[10.0, 10.0], [0.0, 63.0], [32.0, 40.0], [60.0, 2.0]])
    refs = torch.randn(4, 6)
    fast, _ = track_points(features, points, refs, window, radius=5, metric=metric)
    torch.testing.assert_close(fast, track_full(up, points, refs, 5, metric))
