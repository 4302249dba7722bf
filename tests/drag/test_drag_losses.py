"""Motion supervision and the mask term as pure functions on random tensors, against full resolution."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from autodrag.drag import (
    FeatureWindow,
    disc_offsets,
    fixed_weight_map,
    mask_loss,
    motion_directions,
    motion_loss,
)
from tests.drag.drag_reference import mask_loss_full, motion_loss_full, upsample_to_image


def test_disc_offsets():
    assert disc_offsets(0).tolist() == [[0.0, 0.0]]
    assert disc_offsets(0.75).tolist() == [[0.0, 0.0]]
    assert len(disc_offsets(1)) == 5
    assert len(disc_offsets(3)) == 29  # the paper's r1 = 3 at 512 px
    assert disc_offsets(2.5).square().sum(1).max() <= 6.25


def test_directions_are_unit_or_raw_when_short():
    p = torch.tensor([[0.0, 0.0], [5.0, 5.0]])
    t = torch.tensor([[3.0, 4.0], [5.5, 5.0]])
    torch.testing.assert_close(motion_directions(p, t), torch.tensor([[0.6, 0.8], [0.5, 0.0]]))


def test_motion_loss_on_a_ramp():
    """Features growing by 1 per feature column: a one-pixel step right changes each sample by exactly 1/4."""
    window = FeatureWindow(64, 0.0, 16.0)  # 4 image px per feature px
    cols = torch.arange(16.0).expand(16, 16)
    features = cols[None, None].repeat(1, 3, 1, 1).requires_grad_(True)
    handles, targets = torch.tensor([[30.0, 30.0]]), torch.tensor([[30.0, 40.0]])
    loss = motion_loss(features, handles, targets, window, disc_offsets(2))
    torch.testing.assert_close(loss, torch.tensor(0.25))
    loss.backward()  # gradient flows only through the shifted samples
    assert features.grad.abs().sum() > 0


def _smooth(channels: int, size: int, cells: int, seed: int) -> torch.Tensor:
    """Random features that vary over `cells` per side (real feature maps are smooth at their own scale)."""
    coarse = torch.randn(1, channels, cells, cells, generator=torch.Generator().manual_seed(seed))
    return F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)


@pytest.mark.parametrize("window_args,size", [((0.0, 32.0), 32), ((6.0, 32.0), 44)])
def test_motion_loss_matches_full_resolution(window_args, size):
    """Whole-pixel directions: the same function as the upsampled form; diagonal: within 3 % if smooth."""
    R = 64
    window = FeatureWindow(R, *window_args)
    handles = torch.tensor([[20.0, 30.0], [40.0, 10.0], [4.0, 59.0]])  # discs stay inside the image
    straight = torch.tensor([[20.0, 40.0], [30.0, 10.0], [9.0, 59.0]])
    diagonal = torch.tensor([[27.0, 37.0], [33.0, 20.0], [3.0, 62.0]])
    offsets = disc_offsets(3)
    for noisy in (torch.randn(1, 8, size, size), _smooth(8, size, 8, 0)):
        up = upsample_to_image(noisy, *window_args, R)
        fast = motion_loss(noisy, handles, straight, window, offsets)
        torch.testing.assert_close(fast, motion_loss_full(up, handles, straight, 3), rtol=1e-5, atol=1e-6)
    fast = motion_loss(noisy, handles, diagonal, window, offsets)
    torch.testing.assert_close(fast, motion_loss_full(up, handles, diagonal, 3), rtol=0.03, atol=0)


def test_motion_loss_clamps_at_the_image_edge_like_the_upsampled_map():
    window = FeatureWindow(64, 0.0, 16.0)
    features = torch.randn(1, 4, 16, 16)
    handles, targets = torch.tensor([[0.0, 63.0], [62.0, 1.0]]), torch.tensor([[10.0, 63.0], [62.0, 0.0]])
    fast = motion_loss(features, handles, targets, window, disc_offsets(3))
    full = motion_loss_full(upsample_to_image(features, 0, 16, 64), handles, targets, 3)
    torch.testing.assert_close(fast, full, rtol=1e-5, atol=1e-6)


def test_motion_loss_gradient_matches_full_resolution():
    torch.manual_seed(2)
    window = FeatureWindow(64, 0.0, 16.0)
    features = torch.randn(1, 4, 16, 16, requires_grad=True)
    handles, targets = torch.tensor([[31.0, 20.0]]), torch.tensor([[31.0, 5.0]])
    fast = motion_loss(features, handles, targets, window, disc_offsets(3))
    (g_fast,) = torch.autograd.grad(fast, features)
    up = upsample_to_image(features, 0, 16, 64)
    (g_full,) = torch.autograd.grad(motion_loss_full(up, handles, targets, 3), features)
    torch.testing.assert_close(g_fast, g_full, rtol=1e-4, atol=1e-7)


def test_mask_loss_zero_without_change_and_matches_full_resolution():
    """Mean over image pixels of |F - F0| (1 - M): within 3 % of the upsampled value on smooth maps.

    (Averaging |F - F0| before upsampling is an upper bound of averaging after it; they differ where
    F - F0 changes sign between neighbouring feature pixels, i.e. on maps rough at their own scale.)
    """
    R = 64
    window = FeatureWindow(R, 0.0, 16.0)
    f0 = _smooth(8, 16, 4, 1)
    f = f0 + 0.3 * _smooth(8, 16, 4, 2)
    movable = torch.zeros(R, R)
    movable[10:40, 20:50] = 1
    fixed = fixed_weight_map(movable, window, (16, 16))
    assert mask_loss(f0, f0, fixed, 16 * 16) == 0
    fast = mask_loss(f, f0, fixed, 16 * 16)
    full = mask_loss_full(upsample_to_image(f, 0, 16, R), upsample_to_image(f0, 0, 16, R), movable)
    torch.testing.assert_close(fast, full, rtol=0.03, atol=0)
    rough = f0 + 0.3 * torch.randn(1, 8, 16, 16)
    rough_full = mask_loss_full(upsample_to_image(rough, 0, 16, R), upsample_to_image(f0, 0, 16, R), movable)
    assert mask_loss(rough, f0, fixed, 16 * 16) >= rough_full
    # With everything movable the term vanishes; with nothing movable it is the plain mean |F - F0|.
    assert mask_loss(f, f0, fixed_weight_map(torch.ones(R, R), window, (16, 16)), 256) == 0
    everything = mask_loss(f, f0, fixed_weight_map(torch.zeros(R, R), window, (16, 16)), 256)
    torch.testing.assert_close(everything, F.l1_loss(f, f0))
