"""FFHQ-style alignment: the exact transform (pixel centres), the analytic template, padding."""

from __future__ import annotations

import json

import numpy as np
import pytest

from autodrag.photos.align import AlignTransform, align_face, face_anchor_points, template_points


def _face(centre, iod, ratio, angle_deg):
    """Landmarks [68, 2] whose eye centres and mouth corners follow the recipe's inputs exactly."""
    a = np.deg2rad(angle_deg)
    ex, ey = np.array([np.cos(a), -np.sin(a)]), np.array([np.sin(a), np.cos(a)])  # eye line, down the face
    pts = np.tile(np.asarray(centre, float), (68, 1))
    ring = (
        np.array([[np.cos(t), np.sin(t)] for t in np.linspace(0, 2 * np.pi, 6, endpoint=False)]) * 0.1 * iod
    )
    pts[36:42] = centre - ex * iod / 2 + ring  # means at the eye centres
    pts[42:48] = centre + ex * iod / 2 + ring
    mouth = centre + ey * iod / ratio
    pts[48], pts[54] = mouth - ex * 0.3 * iod, mouth + ex * 0.3 * iod
    return pts


@pytest.mark.parametrize("ratio, angle", [(1.15, 0.0), (1.29, 17.0), (0.8, -30.0)])
def test_template_is_where_the_recipe_puts_the_points(ratio, angle):
    pts = _face((300.0, 210.0), 90.0, ratio, angle)
    al = align_face(np.zeros((400, 500, 3), np.uint8), pts, 256)
    got = face_anchor_points(al.landmarks_crop)
    assert np.abs(got - template_points(256, ratio)).max() < 1e-4  # float32 landmarks


def test_transform_round_trip_and_json():
    t = AlignTransform.from_quad(np.array([120.3, 80.7]), np.array([60.0, 11.0]), np.array([-11.0, 60.0]), 64)
    xy = np.random.default_rng(0).uniform(-50, 300, (100, 2))
    assert np.abs(t.to_photo(t.to_crop(xy)) - xy).max() < 1e-6
    back = AlignTransform.from_dict(json.loads(json.dumps(t.to_dict())))
    assert np.array_equal(back.crop_to_photo, t.crop_to_photo) and back.size == 64
    with pytest.raises(ValueError, match="not an alignment transform"):
        AlignTransform.from_dict({"size": 3})


def test_sharp_pixel_lands_on_its_crop_pixel():
    photo = np.zeros((60, 80, 3), np.uint8)
    photo[23, 41] = 255  # (x, y) = (41, 23)
    m = np.array([[0.0, -1.0, 50.0], [1.0, 0.0, 10.0]])  # rotate 90 degrees, 1 photo px per crop px
    t = AlignTransform(m, 32)
    crop = align_face(photo, np.zeros((68, 2)), 32, supersample=1, transform=t).crop
    u, v = np.rint(t.to_crop(np.array([41.0, 23.0]))).astype(int)
    assert crop[v, u].tolist() == [255, 255, 255] and int(crop.sum()) == 3 * 255


@pytest.mark.parametrize("scale, supersample", [(0.7, 1), (1.3, 2), (9.5, 2)])
def test_crop_samples_the_photo_at_the_mapped_point(scale, supersample):
    """A linear ramp survives bilinear sampling, box supersampling and the box pre-shrink exactly."""
    h, w = 1200, 1400
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    ramp = 20 + 0.1 * xs + 0.08 * ys if scale > 2 else 20 + 0.9 * xs + 0.6 * ys
    photo = np.repeat(np.rint(np.clip(ramp, 0, 255)).astype(np.uint8)[..., None], 3, axis=2)
    ramp = np.clip(ramp, 0, 255)
    a = np.deg2rad(23.0)
    lin = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    t = AlignTransform(np.concatenate([lin, np.array([[60.3], [40.6]])], axis=1), 64)
    crop = align_face(photo, np.zeros((68, 2)), 64, supersample=supersample, transform=t).crop[..., 0]
    vs, us = np.mgrid[0:64, 0:64]
    p = t.to_photo(np.stack([us, vs], axis=-1).astype(np.float64))
    expected = 20 + (0.1 * p[..., 0] + 0.08 * p[..., 1] if scale > 2 else 0.9 * p[..., 0] + 0.6 * p[..., 1])
    inside = (p[..., 0] > 2) & (p[..., 1] > 2) & (p[..., 0] < w - 3) & (p[..., 1] < h - 3) & (expected < 250)
    assert inside.mean() > 0.5
    assert (
        np.abs(crop[inside] - expected[inside]).max() <= 1.0
    )  # rounding of the photo (0.5) and of the crop (0.5)


def test_square_outside_the_photo_is_reflected_not_black():
    photo = np.full((200, 200, 3), 120, np.uint8)
    pts = _face((30.0, 40.0), 50.0, 1.15, 10.0)  # near the top-left corner: the square leaves the photo
    al = align_face(photo, pts, 128)
    assert al.crop.min() == 120 and al.crop.max() == 120
