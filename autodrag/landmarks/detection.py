"""One detected face in an image: its box, its 68 landmarks and a detector score (photo backends)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autodrag.landmarks.base import EYE_LEFT, EYE_RIGHT

__all__ = ["FaceDetection", "eye_centres", "inter_ocular"]


@dataclass
class FaceDetection:
    """A face found in an image, in that image's (x, y) pixels (pixel centres at integers)."""

    box: tuple[float, float, float, float]  # (x0, y0, x1, y1)
    landmarks: np.ndarray  # float32 [68, 2] (x, y), iBUG-68 rows
    score: float  # the backend's confidence (higher = surer; scales differ between backends)

    @property
    def inter_ocular(self) -> float:
        """Distance between the two eye centres in pixels (the size used to rank and check faces)."""
        return inter_ocular(self.landmarks)


def eye_centres(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of each eye's 6 points: (image-left eye, image-right eye), float64 (x, y)."""
    pts = np.asarray(landmarks, dtype=np.float64)
    return pts[EYE_LEFT].mean(axis=0), pts[EYE_RIGHT].mean(axis=0)


def inter_ocular(landmarks: np.ndarray) -> float:
    """Distance between the eye centres (means of each eye's 6 points), pixels."""
    left, right = eye_centres(landmarks)
    return float(np.linalg.norm(right - left))
