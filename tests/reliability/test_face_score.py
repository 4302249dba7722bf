"""Face/no-face confidence of the bundled landmark detector: faces score high, noise is "no face found"."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autodrag.images import to_uint8
from autodrag.landmarks.fan import NoFaceFound
from autodrag.landmarks.toy import MIN_FACE_SCORE, ToyLandmarkDetector
from autodrag.latents import ws_from_seed
from autodrag.networks import load_generator


@pytest.fixture(scope="module")
def detector():
    return ToyLandmarkDetector()


def test_faces_score_high_and_noise_low(detector):
    G = load_generator(None)
    with torch.no_grad():
        faces = [to_uint8(G.synthesis(ws_from_seed(G, s, 1.0)[None], noise_mode="const")) for s in range(4)]
    rng = np.random.default_rng(1)
    noise = [
        rng.integers(0, 256, (128, 128, 3), dtype=np.uint8),
        np.full((128, 128, 3), 128, np.uint8),
        rng.integers(0, 256, (300, 200, 3), dtype=np.uint8),
    ]
    face_scores, noise_scores = detector.face_scores(faces), detector.face_scores(noise)
    assert face_scores.min() > 2 * MIN_FACE_SCORE and noise_scores.max() < MIN_FACE_SCORE / 2
    assert detector.detect(faces[0], min_score=MIN_FACE_SCORE).shape == (68, 2)
    with pytest.raises(NoFaceFound, match="no face found"):
        detector.detect(noise[0], min_score=MIN_FACE_SCORE)
    assert detector.detect(noise[0]).shape == (68, 2)  # off by default: the drag loop's tracking is unchanged
