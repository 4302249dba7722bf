"""The landmark-detector interface and the landmark convention, written down once.

Convention at the landmark boundary (every backend and every consumer):

* A face's landmarks are a float array [68, 2] of **(x, y) pixels** of the image passed to
  ``detect``: x grows to the right (column), y grows down (row), and the centre of the top-left
  pixel is (0, 0), so the point (x, y) lies in pixel ``image[round(y), round(x)]``.
* Rows follow iBUG-68 as face-alignment returns it; row i is the 1-based point i + 1:
  1-17 jaw from the image-left ear over the chin to the image-right ear; 18-22 image-left brow
  (outer end first), 23-27 image-right brow (inner end first); 28-31 nose bridge top to tip;
  32-36 nostrils image-left to image-right; 37-42 image-left eye (the subject's right eye):
  37 outer corner, 38-39 upper lid, 40 inner corner, 41-42 lower lid; 43-48 image-right eye:
  43 inner corner, 44-45 upper lid, 46 outer corner, 47-48 lower lid (both eyes run clockwise
  on screen from their image-left corner); 49-60 outer lips (49 image-left corner, 52 top
  centre, 55 image-right corner, 58 bottom centre), 61-68 inner lips (61 and 65 corners,
  62-64 upper, 66-68 lower).  The outer eye corners 37 and 46 define the inter-ocular distance.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import numpy as np
import torch

__all__ = [
    "BROW_LEFT",
    "BROW_RIGHT",
    "EYE_LEFT",
    "EYE_RIGHT",
    "IBUG68_MIRROR",
    "JAW",
    "LIPS_INNER",
    "LIPS_OUTER",
    "NOSE_BRIDGE",
    "NOSTRILS",
    "NUM_LANDMARKS",
    "OUTER_EYE_CORNERS",
    "LandmarkDetector",
    "available_detectors",
    "check_image",
    "create_detector",
    "register_detector",
]

NUM_LANDMARKS = 68
# 0-based row ranges; "left"/"right" mean image-left / image-right.
JAW = slice(0, 17)
BROW_LEFT = slice(17, 22)
BROW_RIGHT = slice(22, 27)
NOSE_BRIDGE = slice(27, 31)
NOSTRILS = slice(31, 36)
EYE_LEFT = slice(36, 42)
EYE_RIGHT = slice(42, 48)
LIPS_OUTER = slice(48, 60)
LIPS_INNER = slice(60, 68)
OUTER_EYE_CORNERS = (36, 45)  # 0-based rows of points 37 and 46


def _mirror_permutation() -> np.ndarray:
    pairs = [(i, 16 - i) for i in range(8)]  # jaw
    pairs += [(17 + i, 26 - i) for i in range(5)]  # brows
    pairs += [(31, 35), (32, 34)]  # nostrils
    pairs += [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]  # eyes
    pairs += [(48, 54), (49, 53), (50, 52), (55, 59), (56, 58)]  # outer lips
    pairs += [(60, 64), (61, 63), (65, 67)]  # inner lips
    perm = np.arange(NUM_LANDMARKS)
    for a, b in pairs:
        perm[a], perm[b] = b, a
    return perm


# Row order of the horizontally mirrored face: mirrored[i] = original[IBUG68_MIRROR[i]] (then x -> W-1-x).
IBUG68_MIRROR: np.ndarray = _mirror_permutation()


def check_image(image: np.ndarray) -> np.ndarray:
    """Validate an RGB uint8 image [H, W, 3] and return it as a numpy array."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB uint8 image [H, W, 3], got {image.dtype} {tuple(image.shape)}")
    return image


class LandmarkDetector(ABC):
    """Finds the 68 landmarks of the one face in an image (see the module docstring)."""

    fast: bool = False  # Cheap enough (a few ms on a CPU) to re-run at every drag step.

    @abstractmethod
    def detect(self, image: np.ndarray) -> np.ndarray:
        """Landmarks of the face in `image`.

        Args:
            image: uint8 [H, W, 3] RGB.
        Returns:
            float32 [68, 2] (x, y) pixels of `image`.
        """

    differentiable: bool = False  # `detect_tensor` is implemented (presets can guide a drag with it).

    def detect_tensor(self, image: torch.Tensor) -> torch.Tensor:
        """Landmarks [68, 2] (x, y) of a synthesis image [1, 3, H, W] in [-1, 1], differentiable in the image."""
        raise NotImplementedError(f"{type(self).__name__} has no differentiable read-out")

    def detect_many(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Landmarks of several images, float32 [N, 68, 2]; backends may batch this."""
        return (
            np.stack([self.detect(im) for im in images]) if len(images) else np.zeros((0, 68, 2), np.float32)
        )


_FACTORIES: dict[str, Callable[..., LandmarkDetector]] = {}


def register_detector(name: str) -> Callable:
    """Class/function decorator: make a detector factory available as backend `name`."""

    def deco(factory: Callable[..., LandmarkDetector]) -> Callable[..., LandmarkDetector]:
        _FACTORIES[name] = factory
        return factory

    return deco


def available_detectors() -> list[str]:
    """Names of the registered backends (a backend registers when its module is imported)."""
    return sorted(_FACTORIES)


def create_detector(name: str, **kwargs) -> LandmarkDetector:
    """Instantiate backend `name` (kwargs go to its factory)."""
    if name not in _FACTORIES:
        raise KeyError(f"unknown landmark backend {name!r}; available: {available_detectors()}")
    return _FACTORIES[name](**kwargs)
