"""Presets turn landmarks into handles/targets that, applied to the landmarks, make the expression."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from autodrag.drag.coords import rowcol_to_xy, xy_to_rowcol
from autodrag.landmarks import measures
from autodrag.landmarks.ibug import point
from autodrag.presets import PRESETS, PresetError, plan_edit
from autodrag.toyfaces.params import FaceParams
from autodrag.toyfaces.render import RenderConfig, render_face

RES = 128


def _face(**params) -> np.ndarray:
    """Exact landmarks of a rendered toy face, (x, y)."""
    base = FaceParams(eye_open_left=0.7, eye_open_right=0.7, mouth_open=0.6, jaw_width=0.6, rotation=0.0)
    return render_face(replace(base, **params), RenderConfig(resolution=RES, supersample=1)).landmarks


def _applied(plan) -> np.ndarray:
    """The landmarks with every handle moved onto its target (what a perfect drag would give)."""
    lm = plan.landmarks_xy.copy()
    np.testing.assert_allclose(lm[plan.handle_rows], plan.handles_xy)  # each handle is its landmark
    lm[plan.handle_rows] = plan.targets_xy
    return lm


def test_xy_rowcol_swap_is_one_tested_function():
    xy = np.array([[10.5, 3.0], [0.0, 127.0]])
    np.testing.assert_array_equal(xy_to_rowcol(xy), [[3.0, 10.5], [127.0, 0.0]])
    np.testing.assert_array_equal(rowcol_to_xy(xy_to_rowcol(xy)), xy)
    with pytest.raises(ValueError):
        xy_to_rowcol(np.zeros((3, 3)))


def test_close_eyes_meets_at_midpoints():
    lm = _face()
    plan = plan_edit(lm, "close_eyes", 1.0, (RES, RES))
    assert len(plan.handles_xy) == 8
    after = _applied(plan)
    for side in ("left", "right"):
        assert measures.eye_aspect_ratio(lm, side) > 0.2
        assert measures.eye_aspect_ratio(after, side) < 1e-6
    np.testing.assert_allclose(plan.targets_xy[0], (lm[37] + lm[41]) / 2, atol=1e-5)  # 38 and 42 meet midway


def test_widen_eyes_grows_the_opening_by_strength():
    lm = _face()
    after = _applied(plan_edit(lm, "widen_eyes", 0.5, (RES, RES)))
    for side in ("left", "right"):
        assert measures.eye_aspect_ratio(after, side) == pytest.approx(
            1.5 * measures.eye_aspect_ratio(lm, side), rel=1e-4
        )
    # 38 moves away from 42 along the ray 38 -> 42
    plan = plan_edit(lm, "widen_eyes", 0.5, (RES, RES))
    ray = lm[41] - lm[37]
    assert np.dot(plan.targets_xy[0] - lm[37], ray) < 0


def test_close_and_open_mouth():
    lm = _face(mouth_open=0.8)
    closed = _applied(plan_edit(lm, "close_mouth", 1.0, (RES, RES)))
    assert measures.inner_mouth_gap(lm) > 0.1 and measures.inner_mouth_gap(closed) < 1e-6
    shut = _face(mouth_open=0.0)
    opened = _applied(plan_edit(shut, "open_mouth", 1.0, (RES, RES)))
    gap_px = np.linalg.norm(opened[62] - opened[66])
    assert gap_px >= 0.6 * np.linalg.norm(shut[51] - shut[57])
    np.testing.assert_allclose(opened[62], shut[51], atol=1e-4)  # 63 -> 52
    np.testing.assert_allclose(opened[66], shut[57], atol=1e-4)  # 67 -> 58
    # neighbours 62/64 move part of the way, corners 61/65 stay
    moved = np.linalg.norm(opened - shut, axis=1)
    assert 0 < moved[61] < moved[62] and 0 < moved[63] < moved[62] and moved[60] == moved[64] == 0
    # ... along an oval through the corners, so the plan itself meets the success rule with room for a
    # sub-pixel miss (a linear fall-off asked for ~67% of the lip height, the rule wants 60%)
    from autodrag.presets.measures import face_measures

    before, after = face_measures(shut), face_measures(opened)
    assert after["inner_gap_px"] >= 0.75 * before["outer_lip_height_px"]


def test_slim_face_narrows_the_jaw_by_eight_percent():
    lm = _face()
    after = _applied(plan_edit(lm, "slim_face", 1.0, (RES, RES)))
    for a, b in [(2, 16), (3, 15), (4, 14), (5, 13)]:
        before_d = np.linalg.norm(lm[a - 1] - lm[b - 1])
        after_d = np.linalg.norm(after[a - 1] - after[b - 1])
        assert after_d == pytest.approx(before_d - 0.08 * np.linalg.norm(lm[15] - lm[1]), rel=1e-4)
    assert measures.jaw_width(after) < 0.95 * measures.jaw_width(lm)


def test_smile_and_brows_move_up():
    lm = _face()
    smile = plan_edit(lm, "smile", 1.0, (RES, RES))
    assert np.all(smile.targets_xy[:, 1] < smile.handles_xy[:, 1])  # up = smaller y
    assert smile.targets_xy[0, 0] < smile.handles_xy[0, 0] and smile.targets_xy[1, 0] > smile.handles_xy[1, 0]
    brows = plan_edit(lm, "raise_brows", 1.0, (RES, RES))
    assert np.all(brows.targets_xy[:, 1] < brows.handles_xy[:, 1])


def test_mirror_symmetry():
    """A mirrored face gives the mirrored plan (presets treat both sides alike)."""
    from autodrag.landmarks.base import IBUG68_MIRROR

    lm = _face()
    mirrored = lm[IBUG68_MIRROR].copy()
    mirrored[:, 0] = RES - 1 - mirrored[:, 0]
    for name in PRESETS:
        a = plan_edit(lm, name, 1.0, (RES, RES))
        b = plan_edit(mirrored, name, 1.0, (RES, RES))
        np.testing.assert_allclose(a.mask, b.mask[:, ::-1])
        moved_a = np.sort(np.linalg.norm(a.targets_xy - a.handles_xy, axis=1))
        moved_b = np.sort(np.linalg.norm(b.targets_xy - b.handles_xy, axis=1))
        np.testing.assert_allclose(moved_a, moved_b, atol=1e-3)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_mask_covers_the_moves_and_little_else(name):
    lm = _face()
    plan = plan_edit(lm, name, 1.0, (RES, RES))
    for x, y in np.concatenate([plan.handles_xy, plan.targets_xy]):
        assert plan.mask[int(round(y)), int(round(x))]
    assert plan.mask.mean() < 0.3
    assert plan_edit(lm, name, 1.0, (RES, RES), mask=False).mask.all()
    np.testing.assert_array_equal(plan.handles_rc, plan.handles_xy[:, ::-1])


def test_presets_combine():
    lm = _face()
    both = plan_edit(lm, "close_eyes,smile", 1.0, (RES, RES))
    assert both.presets == ["close_eyes", "smile"] and len(both.handles_xy) == 10
    eyes = plan_edit(lm, "close_eyes", 1.0, (RES, RES))
    assert (both.mask >= eyes.mask).all() and both.mask.sum() > eyes.mask.sum()


@pytest.mark.parametrize(
    "presets,strength,landmarks,message",
    [
        ("frown", 1.0, None, "unknown preset 'frown'; known: close_eyes"),
        ("close_eyes", 1.6, None, r"strength must be in \[0.0, 1.5\]"),
        ("close_eyes", -0.1, None, "strength must be in"),
        ("close_eyes", 1.0, "outside", "landmarks outside the 128x128 image: points 1"),
        ("close_eyes", 1.0, "nan", "NaN"),
        ("", 1.0, None, "no preset given"),
    ],
)
def test_bad_input(presets, strength, landmarks, message):
    lm = _face()
    if landmarks == "outside":
        lm[0] = [-10, 5]
    if landmarks == "nan":
        lm[3] = np.nan
    with pytest.raises(PresetError, match=message):
        plan_edit(lm, presets, strength, (RES, RES))


def rows(*points: int) -> list[int]:
    """1-based iBUG point numbers (as the presets' docs name them) -> 0-based rows."""
    return [point(n) for n in points]


def test_point_numbers_and_rows():
    from autodrag.landmarks import ibug

    assert rows(1, 38, 68) == [0, 37, 67] and ibug.number(37) == 38
    assert (
        tuple(range(17)) == ibug.JAW
        and tuple(range(36, 48)) == ibug.EYES
        and ibug.OUTER_EYE_CORNERS == (36, 45)
    )
    with pytest.raises(ValueError, match="numbered 1..68"):
        point(0)


def test_open_mouth_success_is_judged_against_the_lips_before_the_edit():
    """A face that opened its mouth as far as the preset asked passes, even though its outer lips moved out too."""
    from autodrag.presets.measures import face_measures

    shut, opened = _face(mouth_open=0.0), _face(mouth_open=1.0)
    before, after = face_measures(shut), face_measures(opened)
    assert after["inner_gap_px"] >= 0.6 * before["outer_lip_height_px"]
    assert PRESETS["open_mouth"].success(before, after)
    assert not PRESETS["open_mouth"].success(before, face_measures(_face(mouth_open=0.1)))


def test_widen_eyes_opens_a_closed_eye_by_its_upper_lid():
    """A shut eye has no opening to grow: its upper lid rises by 15% of the eye width (x strength) instead.

    The lower lid is no handle then: two handles on one pixel pulled apart would cancel in the drag.
    """
    lm = _face(eye_open_left=0.0, eye_open_right=0.0)
    assert measures.eye_aspect_ratio(lm, "left") < 0.02
    after = _applied(plan_edit(lm, "widen_eyes", 1.0, (RES, RES)))
    for side in ("left", "right"):
        assert 0.12 < measures.eye_aspect_ratio(after, side) < 0.2
    plan = plan_edit(lm, "widen_eyes", 1.0, (RES, RES))
    assert after[37, 1] < lm[37, 1] - 1  # upper lid 38 up
    assert sorted(plan.handle_rows) == rows(38, 39, 44, 45)  # lower lids are no handles...
    np.testing.assert_allclose(plan.anchors_xy, lm[rows(42, 41, 48, 47)])  # ...but anchors that stay
    assert (
        plan.anchors_rc is not None and plan_edit(_face(), "widen_eyes", 1.0, (RES, RES)).anchors_rc is None
    )


def test_anchor_points_are_declared_per_preset_and_combine():
    """Closing eyes holds the eye corners; slimming the face holds the outer eye corners and the nose."""
    lm = _face()
    close = plan_edit(lm, "close_eyes", 1.0, (RES, RES))
    np.testing.assert_allclose(close.anchors_xy, lm[rows(37, 40, 43, 46)])
    slim = plan_edit(lm, "slim_face", 1.0, (RES, RES))
    np.testing.assert_allclose(slim.anchors_xy, lm[rows(37, 46, 31, 34)])
    both = plan_edit(lm, "close_eyes,slim_face", 1.0, (RES, RES))
    np.testing.assert_allclose(both.anchors_xy, np.concatenate([close.anchors_xy, slim.anchors_xy]))
    np.testing.assert_allclose(both.anchors_rc, both.anchors_xy[:, ::-1])
    assert not set(close.handle_rows) & set(PRESETS["close_eyes"].anchor_rows)  # no anchor is a handle


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_is_one_complete_declaration(name):
    """Each registered preset plans on a neutral face, its declared rows are used, its tuning is a valid
    DragConfig change, and its success rule reads only measures `face_measures` reports."""
    from autodrag.drag import DragConfig
    from autodrag.presets.measures import face_measures
    from autodrag.presets.wiring import preset_drag_config

    preset = PRESETS[name]
    lm = _face()
    plan = plan_edit(lm, name, 1.0, (RES, RES))
    assert plan.presets == [name] and len(plan.handle_rows) > 0
    assert not np.allclose(plan.handles_xy, plan.targets_xy)  # it moves something
    np.testing.assert_allclose(plan.anchors_xy, lm[list(preset.anchor_rows)])
    assert plan.mask[
        np.round(lm[list(preset.mask_rows), 1]).astype(int),
        np.round(lm[list(preset.mask_rows), 0]).astype(int),
    ].all()  # its mask rows may move
    assert not plan.mask.all()
    assert preset_drag_config(presets=name) != DragConfig()
    m = face_measures(lm)
    assert isinstance(preset.success(m, m), bool) and preset.success_text


def test_preset_declarations_are_validated():
    from autodrag.presets import Preset, PresetError, get_preset

    fields = {
        "name": "x",
        "label": "X",
        "rule": PRESETS["smile"].rule,
        "mask_radius": 0.2,
        "success_text": "-",
        "success": lambda b, a: True,
    }
    with pytest.raises(PresetError, match="lrr is no DragConfig field"):
        Preset(**fields, mask_rows=(1,), tuning=(("lrr", 1e-2),))
    with pytest.raises(PresetError, match="lr must be a positive number"):
        Preset(**fields, mask_rows=(1,), tuning=(("lr", -1.0),))
    with pytest.raises(PresetError, match=r"rows \[68\] are outside"):
        Preset(**fields, mask_rows=(68,))
    with pytest.raises(TypeError):  # keywords only
        Preset("x", "X", PRESETS["smile"].rule, (1,), 0.2, "-", lambda b, a: True)
    with pytest.raises(PresetError, match="unknown preset 'frown'; known: close_eyes"):
        get_preset("frown")
