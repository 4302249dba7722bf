"""End to end on the bundled model: presets really change a bundled face (judged on re-detected landmarks)."""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture(scope="module")
def bundled():
    from autodrag.landmarks.toy import ToyLandmarkDetector
    from autodrag.networks import load_generator

    return load_generator(None), ToyLandmarkDetector()


def _first_open_eyed_seed(G, detector, psi: float = 0.7) -> tuple[int, torch.Tensor]:
    from autodrag.images import to_uint8
    from autodrag.landmarks.measures import eye_aspect_ratio
    from autodrag.latents import ws_from_seed

    for seed in range(50):
        ws = ws_from_seed(G, seed, psi)
        with torch.no_grad():
            lm = detector.detect(to_uint8(G.synthesis(ws[None], noise_mode="const")))
        if min(eye_aspect_ratio(lm, "left"), eye_aspect_ratio(lm, "right")) > 0.2:
            return seed, ws
    pytest.fail("no open-eyed face among the first 50 seeds")


@pytest.mark.slow  # one full preset drag on the bundled model (tens of seconds on a CPU core)
def test_close_eyes_closes_the_eyes_of_a_bundled_face(bundled):
    from autodrag.presets.edit import run_edit

    G, detector = bundled
    seed, ws = _first_open_eyed_seed(G, detector)
    result = run_edit(G, ws, detector, "close_eyes", 1.0, frame_every=0)
    assert result.measures_before["ear_left"] > 0.2 and result.measures_before["ear_right"] > 0.2
    assert result.measures_after["ear_left"] < 0.08 and result.measures_after["ear_right"] < 0.08, (
        seed,
        result.md_px,
    )
    assert result.md_px <= 0.02 * G.img_resolution


@pytest.mark.slow  # one full preset drag on the bundled model (tens of seconds on a CPU core)
def test_slim_face_narrows_the_jaw_and_leaves_the_eyes_where_they_are(bundled):
    """The jaw narrows by >= 5% of the inter-ocular distance; the eyes (anchored) move apart or together < 2%."""
    from autodrag.landmarks.measures import interocular_distance
    from autodrag.latents import ws_from_seed
    from autodrag.presets.edit import run_edit

    G, detector = bundled
    result = run_edit(G, ws_from_seed(G, 0, 0.7), detector, "slim_face", 1.0, frame_every=0)
    assert result.measures_after["jaw_width"] <= 0.95 * result.measures_before["jaw_width"], result.md_px
    iod_before, iod_after = (
        interocular_distance(result.landmarks_before),
        interocular_distance(result.landmarks_after),
    )
    assert abs(iod_after / iod_before - 1) < 0.02
    assert result.md_px <= 0.02 * G.img_resolution
    np.testing.assert_allclose(result.plan.anchors_xy, result.landmarks_before[[36, 45, 30, 33]])


@pytest.mark.slow  # one full preset drag on the bundled model (tens of seconds on a CPU core)
def test_widen_eyes_opens_a_shut_eye_of_a_bundled_face(bundled):
    """The first face with a shut eye (EAR < 0.07) gets it open: the landmark guide, not motion alone."""
    from autodrag.images import to_uint8
    from autodrag.landmarks.measures import eye_aspect_ratio
    from autodrag.latents import ws_from_seed
    from autodrag.presets.edit import run_edit

    G, detector = bundled
    for seed in range(100):
        ws = ws_from_seed(G, seed, 0.7)
        with torch.no_grad():
            lm = detector.detect(to_uint8(G.synthesis(ws[None], noise_mode="const")))
        if eye_aspect_ratio(lm, "left") < 0.07:
            break
    else:
        pytest.fail("no face with a shut left eye among the first 100 seeds")
    result = run_edit(G, ws, detector, "widen_eyes", 1.0, frame_every=0)
    assert result.measures_after["ear_left"] >= 1.3 * result.measures_before["ear_left"] + 0.03, seed
    assert result.md_px <= 0.02 * G.img_resolution
    # the eyeball shows: the opening between the lids got darker/whiter, not just the lid line moving
    assert result.success["widen_eyes"], (seed, result.measures_after)


@pytest.mark.slow  # one full preset drag on the bundled model (tens of seconds on a CPU core)
def test_smile_lifts_the_mouth_corners_not_the_whole_mouth(bundled):
    """The corners rise >= 3% of the inter-ocular distance over the lips' middle, which stays (anchored)."""
    from autodrag.latents import ws_from_seed
    from autodrag.presets.edit import run_edit

    G, detector = bundled
    result = run_edit(G, ws_from_seed(G, 1, 0.7), detector, "smile", 1.0, frame_every=0)
    assert result.measures_after["mouth_corner_lift"] >= result.measures_before["mouth_corner_lift"] + 0.03
    middle = [51, 57, 62, 66]  # 52, 58, 63, 67
    assert np.abs(result.landmarks_after[middle] - result.landmarks_before[middle]).max() < 1.0
    corners = [48, 54]
    assert (
        result.landmarks_before[corners, 1] - result.landmarks_after[corners, 1]
    ).min() > 1.0  # up, in pixels
    assert result.success["smile"]
