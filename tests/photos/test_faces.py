"""Finding faces: dlib on a real photo, errors for no / small / cut faces, --face N."""

from __future__ import annotations

import numpy as np
import pytest

from autodrag.landmarks.detection import FaceDetection
from autodrag.photos.align import align_face, face_anchor_points, template_points
from autodrag.photos.faces import FaceError, find_faces, select_face
from autodrag.toyfaces.photos import textured_background

pytest.importorskip(
    "dlib", reason="the dlib backend needs dlib-bin (pip install dlib-bin face-recognition-models)"
)
skimage_data = pytest.importorskip("skimage.data", reason="scikit-image provides the astronaut photo")


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return np.ascontiguousarray(skimage_data.astronaut())


def test_astronaut_one_face_aligned_to_the_template(astronaut):
    faces = find_faces(astronaut, "dlib")
    assert len(faces) == 1
    al = align_face(astronaut, faces[0].landmarks, 256)
    pts = face_anchor_points(al.landmarks_crop)
    d = pts[1] - pts[0]
    assert abs(np.degrees(np.arctan2(d[1], d[0]))) < 1.0
    assert np.abs(pts - template_points(256)).max() < 0.02 * 256


def test_downscaled_detection_keeps_full_resolution_landmarks(astronaut):
    full = find_faces(astronaut, "dlib")[0]
    small = find_faces(astronaut, "dlib", max_side=256)[0]
    assert np.abs(small.landmarks - full.landmarks).mean() < 0.05 * full.inter_ocular


def test_errors(astronaut):
    with pytest.raises(FaceError, match="no face found"):
        find_faces(textured_background(np.random.default_rng(3), 320, 300), "dlib")
    with pytest.raises(FaceError, match="too small"):
        find_faces(astronaut, "dlib", min_iod=100)
    with pytest.raises(FaceError, match="cut by the photo border") as exc:
        find_faces(np.ascontiguousarray(astronaut[:, 190:]), "dlib")
    assert "\n" not in str(exc.value)
    with pytest.raises(ValueError, match="unknown face backend"):
        find_faces(astronaut, "nope")


def test_select_face():
    faces = [FaceDetection((0, 0, 1, 1), np.zeros((68, 2), np.float32), 1.0)]
    assert select_face(faces, 0) is faces[0]
    with pytest.raises(FaceError, match="--face 1 is out of range: the photo has only 1 face"):
        select_face(faces, 1)
    with pytest.raises(FaceError, match="out of range"):
        select_face(faces, -1)
