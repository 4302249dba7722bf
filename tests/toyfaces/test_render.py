"""Renderer semantics: landmark order and geometry, closed eyes and mouth, symmetry, determinism."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from autodrag.landmarks.base import IBUG68_MIRROR
from autodrag.landmarks.measures import eye_aspect_ratio, inner_mouth_gap, interocular_distance
from autodrag.toyfaces.params import params_for_seed
from autodrag.toyfaces.render import RenderConfig, render_face, render_seed

SEEDS = [0, 1, 2, 3, 11]


def lm1(lm: np.ndarray, k: int) -> np.ndarray:
    """1-based iBUG point k."""
    return lm[k - 1]


@pytest.mark.parametrize("seed", SEEDS)
def test_closed_eyes_have_zero_ear_and_closed_mouth_zero_gap(seed):
    p = replace(params_for_seed(seed), eye_open_left=0.0, eye_open_right=0.0, mouth_open=0.0)
    lm = render_face(p).landmarks
    assert eye_aspect_ratio(lm, "left") < 1e-6 and eye_aspect_ratio(lm, "right") < 1e-6
    np.testing.assert_allclose(lm[[37, 38]], lm[[41, 40]], atol=1e-4)  # 38=42, 39=41
    np.testing.assert_allclose(lm[[61, 62, 63]], lm[[67, 66, 65]], atol=1e-4)  # 62=68, 63=67, 64=66
    assert inner_mouth_gap(lm) < 1e-6


def test_openness_is_monotone():
    base = params_for_seed(5)
    ears = [
        eye_aspect_ratio(render_face(replace(base, eye_open_left=v)).landmarks, "left")
        for v in (0.2, 0.5, 1.0)
    ]
    gaps = [inner_mouth_gap(render_face(replace(base, mouth_open=v)).landmarks) for v in (0.2, 0.5, 1.0)]
    assert ears[0] < ears[1] < ears[2] and 0.35 < ears[2] < 0.6
    assert gaps[0] < gaps[1] < gaps[2]


@pytest.mark.parametrize("seed", SEEDS)
def test_mirror_symmetry_without_rotation(seed):
    p = replace(params_for_seed(seed), rotation=0.0, eye_open_right=params_for_seed(seed).eye_open_left)
    lm = render_face(p).landmarks.astype(np.float64)
    axis = lm1(lm, 9)[0]  # chin tip on the symmetry axis
    for a in range(1, 9):  # jaw pairs 1/17, 2/16, 3/15, ...
        left, right = lm1(lm, a), lm1(lm, 18 - a)
        assert abs((left[0] + right[0]) / 2 - axis) < 1e-3 and abs(left[1] - right[1]) < 1e-3
    # The whole face mirrors onto itself through the iBUG permutation.
    mirrored = lm[IBUG68_MIRROR].copy()
    mirrored[:, 0] = 2 * axis - mirrored[:, 0]
    np.testing.assert_allclose(mirrored, lm, atol=1e-3)


@pytest.mark.parametrize("seed", SEEDS)
def test_landmark_order_and_layout(seed):
    lm = render_seed(seed).landmarks
    x, y = lm[:, 0], lm[:, 1]
    # Work in the face's own frame (undo the small in-plane rotation).
    a = np.deg2rad(params_for_seed(seed).rotation)
    fx = x * np.cos(a) - y * np.sin(a)
    fy = x * np.sin(a) + y * np.cos(a)

    def i(k: int) -> int:  # 1-based iBUG number -> row
        return k - 1

    assert fx[i(1)] < fx[i(9)] < fx[i(17)]  # jaw from the image-left ear
    assert fx[i(37)] < fx[i(40)] < fx[i(43)] < fx[i(46)]  # eye corners, image-left eye first
    assert fy[i(38)] <= fy[i(42)] and fy[i(45)] <= fy[i(47)]  # upper lid above lower lid
    assert max(fy[17:27]) < min(fy[36:48])  # brows above eyes
    assert fx[i(18)] < fx[i(22)] < fx[i(23)] < fx[i(27)]
    assert fx[i(40)] < fx[i(28)] < fx[i(43)]  # nose between the eyes
    assert fy[i(28)] < fy[i(31)] < fy[i(34)] < fy[i(52)] < fy[i(58)] < fy[i(9)]  # top to bottom
    assert fx[i(32)] < fx[i(34)] < fx[i(36)] and fx[i(49)] < fx[i(52)] < fx[i(55)]
    assert np.all((lm >= 0) & (lm <= 127))
    assert 0.3 < interocular_distance(lm) / 128 < 0.55  # tightly framed


def test_determinism_and_resolutions():
    a, b = render_seed(4), render_seed(4)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.landmarks, b.landmarks)
    assert a.image.shape == (128, 128, 3) and a.image.dtype == np.uint8
    big = render_seed(4, RenderConfig(resolution=256))
    assert big.image.shape == (256, 256, 3)
    np.testing.assert_allclose(big.landmarks, (a.landmarks + 0.5) * 2 - 0.5, atol=1e-3)
    # Anti-aliased: the downsampled 256 render is close to the 128 render.
    small = big.image.reshape(128, 2, 128, 2, 3).mean(axis=(1, 3))
    assert np.abs(small - a.image.astype(float)).mean() < 4.0


def test_masks_cover_eyes_and_mouth():
    r = render_seed(6)
    assert r.eye_mask.shape == r.mouth_mask.shape == (128, 128)
    assert r.eye_mask.min() >= 0 and r.eye_mask.max() <= 1

    def at(mask, pts):
        return mask[np.round(pts[:, 1]).astype(int), np.round(pts[:, 0]).astype(int)]

    assert at(r.eye_mask, r.landmarks[36:48]).min() > 0.5
    assert at(r.mouth_mask, r.landmarks[48:68]).min() > 0.5
    assert at(r.eye_mask, r.landmarks[48:68]).max() == 0 and 0.02 < r.eye_mask.mean() < 0.2


def test_closed_eye_hides_the_eyeball():
    p = params_for_seed(8)
    open_img = render_face(replace(p, eye_open_left=1.0)).image.astype(int)
    shut = render_face(replace(p, eye_open_left=0.0))
    lm = shut.landmarks
    cx, cy = np.round(lm[36:42].mean(axis=0)).astype(int)
    patch_open = open_img[cy - 2 : cy + 3, cx - 4 : cx + 5]
    patch_shut = shut.image.astype(int)[cy - 2 : cy + 3, cx - 4 : cx + 5]
    assert np.abs(patch_open - patch_shut).mean() > 20
