"""The fast path (synthesis up to the feature block, low-resolution sampling) against the full resolution.

At every step of a fast drag, the full-resolution reference (whole generator, feature map upsampled
to image size) is evaluated on the same latent: it must track the handles to the same pixels and give
the same loss. Tolerances: 5e-4 relative where the feature map has image resolution (scale 1: the two
are the same function, evaluated in a different float order: the drag's latent needs gradients, so its
modulation takes the scale-conv-scale form, the no-grad reference the fused one); 3 % where it is upsampled 2x (bilinear-of-bilinear vs direct bilinear for
sub-pixel offsets, and the mask term averaged before vs after upsampling).
"""

from __future__ import annotations

import pytest
import torch

from autodrag.drag import DragConfig, DragSession
from autodrag.drag.config import PAPER_TRACKING
from tests.drag.drag_reference import mask_loss_full, motion_loss_full, track_full, upsample_to_image


def _compare(G, ws, handles, targets, movable, config, steps, rtol):
    session = DragSession(G, ws, config)
    session.start_drag(handles, targets, mask=movable)
    scales = config.scaled(G.img_resolution, len(handles))
    index = session._feature_index
    offset, extent = G.synthesis.feature_window(index)

    def full(ws_now):
        with torch.no_grad():
            out = G.synthesis.forward_features(ws_now[None], noise_mode="const")
        assert out.image is not None  # the reference runs the whole generator
        return upsample_to_image(out.features[index], offset, extent, G.img_resolution)

    ref0 = full(session.latent)
    points = torch.tensor(handles, dtype=torch.float32)
    refs = ref0[0, :, points[:, 0].long(), points[:, 1].long()].t()
    target_t = torch.tensor(targets, dtype=torch.float32)
    losses = []
    for _ in range(steps):
        feat_up = full(session.latent)
        result = session.step()
        points = track_full(feat_up, points, refs, scales.r2, config.tracking)
        assert result.points.tolist() == points.tolist()
        expected = motion_loss_full(feat_up, points, target_t, scales.r1)
        if movable is not None:
            expected = expected + scales.mask_weight * mask_loss_full(feat_up, ref0, movable)
        torch.testing.assert_close(torch.tensor(result.loss), expected, rtol=rtol, atol=1e-7)
        losses.append(result.loss)
    return losses


@pytest.mark.parametrize("feature_index,rtol", [(5, 5e-4), (4, 0.03)])
def test_stylegan2_same_points_and_losses(G128, ws128, feature_index, rtol):
    movable = torch.zeros(128, 128)
    movable[30:100, 30:100] = 1
    config = DragConfig(feature_index=feature_index, r1=12, r2=24, mask_weight=80, lr=5e-3, **PAPER_TRACKING)
    handles, targets = [[60.0, 50.0], [80.0, 90.0]], [[67.0, 62.0], [70.0, 84.0]]
    _compare(G128, ws128, handles, targets, movable, config, steps=4, rtol=rtol)


def test_stylegan3_margin_window_same_points_and_losses(G3, ws3):
    """StyleGAN3's feature map extends beyond the image: the window mapping must line up exactly."""
    assert G3.synthesis.feature_window(G3.synthesis.drag_feature_index)[0] > 0
    config = DragConfig(r1=24, r2=48, lr=5e-3, tracking="l2", **PAPER_TRACKING)
    _compare(G3, ws3, [[30.0, 20.0]], [[36.0, 30.0]], None, config, steps=2, rtol=1e-4)
