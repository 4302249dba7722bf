"""The one coordinate convention: (row, col) pixel centres, the image -> feature mapping, sampling, masks."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from autodrag.drag import DragInputError, FeatureWindow, as_points, fixed_weight_map, sample_features
from autodrag.drag.coords import rowcol_to_xy, xy_to_rowcol
from tests.drag.drag_reference import upsample_to_image


def test_mapping_formula_and_round_trip():
    window = FeatureWindow(img_resolution=128, offset=0.0, extent=32.0)  # StyleGAN2: 128 px image, 32 px map
    p = torch.tensor([[0.0, 127.0], [63.5, 1.5]])
    expected = (p + 0.5) * 32 / 128 - 0.5
    torch.testing.assert_close(window.to_feature(p), expected)
    torch.testing.assert_close(window.to_feature(torch.tensor([[-0.5, 127.5]])), torch.tensor([[-0.5, 31.5]]))
    torch.testing.assert_close(window.to_image(window.to_feature(p)), p)
    margin = FeatureWindow(img_resolution=64, offset=10.0, extent=64.0)  # StyleGAN3: same scale, shifted
    torch.testing.assert_close(margin.to_feature(p[:, :1]), p[:, :1] + 10)


def test_grid_is_x_then_y_in_grid_sample_units():
    window = FeatureWindow(img_resolution=8, offset=0.0, extent=8.0)
    grid = window.to_grid(torch.tensor([[0.0, 7.0]]), (8, 8))  # top-right pixel centre
    torch.testing.assert_close(grid, torch.tensor([[7 / 8, -7 / 8]]))


def test_rowcol_xy_is_the_one_swap():
    rc = torch.tensor([[3.0, 5.0], [1.0, 2.0]])
    torch.testing.assert_close(rowcol_to_xy(rc), torch.tensor([[5.0, 3.0], [2.0, 1.0]]))
    torch.testing.assert_close(xy_to_rowcol(rowcol_to_xy(rc)), rc)


@pytest.mark.parametrize("offset,extent,size", [(0, 16, 16), (0, 32, 32), (10, 16, 36), (3, 64, 70)])
def test_sampling_equals_upsampled_map_at_pixel_centres(offset, extent, size):
    """Reading the low-resolution map equals reading the full-resolution upsampled map, edges included."""
    R = 64
    features = torch.randn(1, 5, size, size)
    window = FeatureWindow(R, float(offset), float(extent))
    up = upsample_to_image(features, offset, extent, R)
    rows, cols = torch.meshgrid(torch.arange(R), torch.arange(R), indexing="ij")
    points = torch.stack([rows, cols], dim=-1).float()  # [R, R, 2]
    sampled = sample_features(features, points, window)  # [R, R, C]
    # float32 rounding of the grid normalisation: 5e-5
    torch.testing.assert_close(sampled.permute(2, 0, 1)[None], up, atol=5e-5, rtol=1e-4)


def test_sampling_hits_feature_pixels_exactly_at_scale_one():
    features = torch.randn(1, 3, 16, 16)
    window = FeatureWindow(16, 0.0, 16.0)
    at_pixel = sample_features(features, torch.tensor([[4.0, 9.0]]), window)[0]
    torch.testing.assert_close(at_pixel, features[0, :, 4, 9])
    halfway = sample_features(features, torch.tensor([[4.0, 9.5]]), window)[0]
    torch.testing.assert_close(halfway, (features[0, :, 4, 9] + features[0, :, 4, 10]) / 2)


def test_sampling_has_gradients():
    features = torch.randn(1, 3, 8, 8, requires_grad=True)
    sample_features(features, torch.tensor([[2.25, 3.5]]), FeatureWindow(32, 0.0, 8.0)).sum().backward()
    assert features.grad is not None and features.grad.abs().sum() > 0


def test_as_points_accepts_the_image_extent_and_rejects_the_rest():
    inside = [[-0.5, 63.5], [10, 20.25]]
    torch.testing.assert_close(as_points(inside, 64), torch.tensor(inside))
    assert as_points([], 64).shape == (0, 2)
    with pytest.raises(DragInputError, match=r"handles\[1\] = \(64, 3\) is outside the 64x64 image"):
        as_points([[1, 2], [64, 3]], 64, "handles")
    with pytest.raises(DragInputError, match="NaN"):
        as_points([[float("nan"), 2]], 64)
    with pytest.raises(DragInputError, match=r"\[N, 2\]"):
        as_points([1, 2, 3], 64)
    with pytest.raises(DragInputError, match="not a list"):
        as_points("a,b", 64)


def test_fixed_weight_map_averages_inside_the_window_only():
    movable = torch.zeros(8, 8)
    movable[:4, :] = 1  # top half movable
    movable[4, 0] = 1
    weights = fixed_weight_map(movable, FeatureWindow(8, 1.0, 4.0), (6, 6))
    expected = torch.zeros(6, 6)
    expected[1:5, 1:5] = 1 - F.avg_pool2d(movable[None, None], 2)[0, 0]
    torch.testing.assert_close(weights, expected)
    assert weights[3, 1] == 0.75 and weights[0].sum() == 0  # partial cell; margin excluded
