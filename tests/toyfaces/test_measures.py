"""Landmark measures and the iBUG-68 mirror permutation."""

from __future__ import annotations

import numpy as np
import pytest

from autodrag.landmarks import measures as M
from autodrag.landmarks.base import IBUG68_MIRROR, NUM_LANDMARKS


def test_mirror_is_an_involution():
    assert sorted(IBUG68_MIRROR.tolist()) == list(range(NUM_LANDMARKS))
    np.testing.assert_array_equal(IBUG68_MIRROR[IBUG68_MIRROR], np.arange(NUM_LANDMARKS))
    assert IBUG68_MIRROR[36] == 45 and IBUG68_MIRROR[0] == 16 and IBUG68_MIRROR[8] == 8


def test_measures_on_a_hand_made_face():
    lm = np.zeros((68, 2))
    lm[36], lm[39] = (0, 0), (30, 0)  # left eye, 30 px wide
    lm[37], lm[38], lm[40], lm[41] = (10, -3), (20, -3), (20, 3), (10, 3)  # 6 px open
    lm[42:48] = lm[36:42] + (70, 0)
    lm[42:48, 1] *= 0  # right eye closed
    lm[45] = (100, 0)  # outer corner of the right eye -> IOD 100
    lm[48], lm[54] = (30, 60), (70, 60)
    lm[[61, 62, 63]] = [(40, 58), (50, 58), (60, 58)]
    lm[[67, 66, 65]] = [(40, 68), (50, 68), (60, 68)]
    lm[4], lm[12] = (-5, 70), (105, 70)
    assert M.interocular_distance(lm) == pytest.approx(100)
    assert M.eye_aspect_ratio(lm, "left") == pytest.approx(0.2)
    assert M.eye_aspect_ratio(lm, "right") == pytest.approx(0.0)
    assert M.inner_mouth_gap(lm) == pytest.approx(0.1)
    assert M.mouth_width(lm) == pytest.approx(0.4)
    assert M.jaw_width(lm) == pytest.approx(1.1)
    with pytest.raises(ValueError, match="side"):
        M.eye_aspect_ratio(lm, "up")


def test_batched_and_nme():
    lm = np.random.default_rng(0).uniform(0, 128, (5, 68, 2))
    assert M.eye_aspect_ratio(lm, "left").shape == (5,)
    np.testing.assert_allclose(M.nme(lm, lm), 0.0)
    shifted = lm + np.array([3.0, 4.0])
    np.testing.assert_allclose(M.nme(shifted, lm), 5.0 / M.interocular_distance(lm))
