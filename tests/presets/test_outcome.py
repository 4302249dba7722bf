"""End to end on the bundled model: the eyes of a bundled face really close (re-detected landmarks)."""

from __future__ import annotations

import pytest
import torch




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


def test_close_eyes_closes_the_eyes_of_a_bundled_face():
    from autodrag.landmarks.toy import ToyLandmarkDetector
    from autodrag.networks import load_generator
    from autodrag.presets.edit import run_edit

    G = load_generator(None)
    detector = ToyLandmarkDetector()
    seed, ws = _first_open_eyed_seed(G, detector)
    result = run_edit(G, ws, detector, "close_eyes", 1.0, frame_every=0)
    assert result.measures_before["ear_left"] > 0.2 and result.measures_before["ear_right"] > 0.2
    assert result.measures_after["ear_left"] < 0.08 and result.measures_after["ear_right"] < 0.08, (seed, result.md_px)
    assert result.md_px <= 0.02 * G.img_resolution
