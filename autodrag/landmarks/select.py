"""Pick the landmark backend for a generator: the bundled detector for the bundled model, FAN otherwise."""

from __future__ import annotations

from autodrag.landmarks.base import LandmarkDetector, create_detector

__all__ = ["BACKENDS", "detector_for"]

BACKENDS = ("auto", "toy", "fan", "dlib")


def detector_for(backend: str, bundled_model: bool, device: str = "cpu") -> LandmarkDetector:
    """'auto' -> 'toy' for the bundled generator, 'fan' (face-alignment) for any other checkpoint."""
    import autodrag.landmarks.dlib_backend
    import autodrag.landmarks.fan
    import autodrag.landmarks.toy  # noqa: F401  (registers 'toy')

    if backend not in BACKENDS:
        raise ValueError(f"unknown landmark backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    name = ("toy" if bundled_model else "fan") if backend == "auto" else backend
    return create_detector(name, device=device)
