"""Toy photos: exact landmarks, textured background; the toy backend finds and aligns their faces."""

from __future__ import annotations

import numpy as np
import pytest

from autodrag.landmarks.detection import inter_ocular
from autodrag.photos.align import align_face, face_anchor_points, template_points
from autodrag.photos.faces import FaceError, find_faces
from autodrag.toyfaces.photos import TOY_EYE_TO_MOUTH_RATIO, render_toy_photo, textured_background
from autodrag.toyfaces.render import RenderConfig, render_seed


def test_landmarks_follow_the_face_exactly():
    tp = render_toy_photo(5)
    render = render_seed(5, RenderConfig(256, 4))
    assert 256 <= tp.rgb.shape[0] <= 384 and 256 <= tp.rgb.shape[1] <= 384
    assert (
        0.4 <= tp.params["face_side"] / min(tp.rgb.shape[:2]) <= 0.9 and abs(tp.params["rotation_deg"]) <= 20
    )
    ref = align_face(render.image, render.landmarks, 128).crop.astype(float)
    inner = (slice(40, 100), slice(30, 98))  # eyes, nose, mouth of the aligned face

    def diff(shift):
        return np.abs(align_face(tp.rgb, tp.landmarks + shift, 128).crop[inner] - ref[inner]).mean()

    exact, off = diff(0.0), diff(np.array([2.0, 0.0]) * tp.params["face_side"] / 256)
    assert exact < 6.0 and off > exact * 1.5


def test_background_is_textured():
    tp = render_toy_photo(2)
    corner = tp.rgb[:30, :30].astype(float)
    assert corner.std(axis=(0, 1)).mean() > 5.0


def test_toy_backend_finds_and_aligns_toy_faces():
    found, errors = 0, []
    for seed in range(5):  # all 50: scripts/bench_photos_align.py
        tp = render_toy_photo(seed)
        faces = find_faces(tp.rgb, "toy")
        found += len(faces) == 1
        nme = np.linalg.norm(faces[0].landmarks - tp.landmarks, axis=1).mean() / inter_ocular(tp.landmarks)
        assert nme < 0.05, seed
        al = align_face(tp.rgb, faces[0].landmarks, 256)
        errors.append(
            np.linalg.norm(
                face_anchor_points(al.landmarks_crop) - template_points(256, TOY_EYE_TO_MOUTH_RATIO), axis=1
            ).mean()
            / 256
        )
    assert found == 5 and np.mean(errors) < 0.02


def test_toy_backend_finds_a_face_touching_the_border():
    """Toy photo 21's brows sit 10 px under the top edge: the search pads its crops by repeating the
    border (a reflection mirrored the brows above the edge, and the points followed the mirror)."""
    tp = render_toy_photo(21)
    assert tp.landmarks[:, 1].min() < 12
    face = find_faces(tp.rgb, "toy")[0]  # no 'cut by the photo border' error
    assert np.linalg.norm(face.landmarks - tp.landmarks, axis=1).mean() / inter_ocular(tp.landmarks) < 0.05


@pytest.mark.parametrize("seed", [0, 1])
def test_toy_backend_no_face_in_a_texture(seed):
    with pytest.raises(FaceError, match="no face found"):
        find_faces(textured_background(np.random.default_rng(seed), 300, 280), "toy")
    with pytest.raises(FaceError, match="no face found"):
        find_faces(np.random.default_rng(seed).integers(0, 255, (256, 256, 3), dtype=np.uint8), "toy")
