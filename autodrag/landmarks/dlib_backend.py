"""dlib as a landmark backend for photos: HOG face boxes + the 68-point shape predictor.

Boxes come from ``dlib.get_frontal_face_detector()`` (HOG + linear SVM, upright frontal faces);
landmarks from ``dlib.shape_predictor`` with the ``shape_predictor_68_face_landmarks.dat`` model
shipped by the ``face-recognition-models`` package (located on disk; its ``__init__`` needs
setuptools' ``pkg_resources`` and is never imported). dlib's 68 points are in iBUG-68 order, the
same rows as ours, and dlib puts pixel centres at integers like we do (measured: mirroring an
image and the points back moves them by < 0.1 px), so its integer (x, y) are used as they are.

Licence: the 68-point model was trained on the iBUG 300-W data set, whose licence excludes
commercial use; the model inherits that restriction.  dlib itself is Boost-licensed.

Install: ``pip install dlib-bin face-recognition-models`` (or ``dlib`` built from source).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

from autodrag.landmarks.base import LandmarkDetector, check_image, register_detector
from autodrag.landmarks.detection import FaceDetection
from autodrag.landmarks.fan import NoFaceFound

__all__ = ["DlibDetector", "DlibMissing", "NoFaceFound", "shape_model_path"]

INSTALL_HINT = "install them with `pip install dlib-bin face-recognition-models`"
MODEL_NAME = "shape_predictor_68_face_landmarks.dat"


class DlibMissing(RuntimeError):
    """dlib or the 68-point shape model is not installed."""


def shape_model_path() -> Path:
    """Path of face-recognition-models' 68-point model (found without importing the package)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise DlibMissing(f"the dlib backend needs the package face-recognition-models; {INSTALL_HINT}")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "models" / MODEL_NAME
        if path.is_file():
            return path
    raise DlibMissing(f"face-recognition-models is installed but has no models/{MODEL_NAME}; reinstall it")


@lru_cache(maxsize=1)
def _load() -> tuple[object, object]:
    try:
        import dlib
    except ImportError as exc:
        raise DlibMissing(
            f"the dlib backend needs the packages dlib-bin and face-recognition-models; {INSTALL_HINT}"
        ) from exc
    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(shape_model_path()))


@register_detector("dlib")
class DlibDetector(LandmarkDetector):
    """Faces and 68 landmarks from dlib (see the module docstring); CPU only."""

    def __init__(self, device: str = "cpu", upsample: int = 1, min_score: float = 0.4) -> None:
        """
        Args:
            device: ignored (dlib runs on the CPU); accepted so `detector_for` can pass it.
            upsample: times the HOG detector doubles the image first (1 finds faces down to ~40 px).
            min_score: HOG SVM score a box needs (dlib's own default 0.0 also returns weak false hits).
        Raises:
            DlibMissing: dlib or the model file is not installed (the message names the packages).
        """
        self._hog, self._shape = _load()
        self.upsample = int(upsample)
        self.min_score = float(min_score)

    def shape(self, image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
        """The 68 landmarks float32 [68, 2] (x, y) of the face in `box` (x0, y0, x1, y1) of `image`."""
        import dlib

        rect = dlib.rectangle(*(int(round(v)) for v in box))
        shape = self._shape(np.ascontiguousarray(check_image(image)), rect)
        return np.array([[shape.part(i).x, shape.part(i).y] for i in range(68)], dtype=np.float32)

    def detect_faces(self, image: np.ndarray) -> list[FaceDetection]:
        """Every face whose HOG score reaches `min_score`, largest box first."""
        image = np.ascontiguousarray(check_image(image))
        rects, scores, _ = self._hog.run(image, self.upsample, self.min_score)
        faces = []
        for rect, score in zip(rects, scores):
            box = (float(rect.left()), float(rect.top()), float(rect.right()), float(rect.bottom()))
            faces.append(FaceDetection(box=box, landmarks=self.shape(image, box), score=float(score)))
        return sorted(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]), reverse=True)

    def detect(self, image: np.ndarray) -> np.ndarray:
        """Landmarks of the largest face; `NoFaceFound` when there is none."""
        faces = self.detect_faces(image)
        if not faces:
            h, w = np.asarray(image).shape[:2]
            raise NoFaceFound(f"no face found in the {w}x{h} image")
        return faces[0].landmarks
