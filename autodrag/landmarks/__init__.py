"""Facial landmarks: the detector interface (`base`), backends (`toy`, ...) and measures."""

__all__: list[str] = []
