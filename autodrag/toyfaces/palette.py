"""Face colours from the colour parameters (skin, hair, iris, lips, background, clothes)."""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

from autodrag.toyfaces.params import FaceParams

__all__ = ["Palette", "face_palette"]

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Palette:
    """8-bit RGB colours of one face."""

    skin: RGB  # face, ears
    skin_shadow: RGB  # neck, face rim, nose side
    skin_dark: RGB  # nostrils' rim, lid lines, ear insides
    blush: RGB  # cheeks
    hair: RGB  # hair in front of the face
    hair_back: RGB  # hair behind the head (a shade darker)
    hair_shine: RGB  # crown highlight
    brow: RGB  # brows
    iris: RGB  # iris ring
    lips: RGB  # lips
    mouth: RGB  # inside of the mouth
    teeth: RGB  # teeth
    tongue: RGB  # tongue
    eye_white: RGB  # sclera
    lash: RGB  # upper lash line
    bg_top: RGB  # background at the top edge
    bg_bottom: RGB  # background at the bottom edge
    clothes: RGB  # shoulders


def _lerp_stops(stops: np.ndarray, t: float) -> np.ndarray:
    """Piecewise-linear colour ramp through `stops` [K, 3] for t in [0, 1]."""
    x = np.linspace(0.0, 1.0, len(stops))
    return np.array([np.interp(t, x, stops[:, c]) for c in range(3)])


def _rgb(c: np.ndarray) -> RGB:
    c = np.clip(np.asarray(c) * 255.0 + 0.5, 0, 255).astype(int)
    return int(c[0]), int(c[1]), int(c[2])


_SKIN = np.array(
    [[0.98, 0.85, 0.76], [0.90, 0.71, 0.58], [0.72, 0.52, 0.38], [0.45, 0.30, 0.21], [0.30, 0.20, 0.14]]
)
_HAIR = np.array(
    [[0.07, 0.06, 0.06], [0.22, 0.14, 0.09], [0.45, 0.31, 0.19], [0.72, 0.57, 0.36], [0.90, 0.80, 0.58]]
)
_IRIS = np.array([[0.30, 0.17, 0.08], [0.48, 0.36, 0.16], [0.32, 0.48, 0.28], [0.28, 0.45, 0.70]])


def face_palette(p: FaceParams) -> Palette:
    """Colours of the face `p` (deterministic)."""
    skin = _lerp_stops(_SKIN, p.skin_tone)
    skin = skin * (1.0 + 0.06 * (p.skin_warmth - 0.5) * np.array([0.4, 0.3, -1.5]))
    skin_shadow = skin * np.array([0.86, 0.80, 0.80])
    hair = _lerp_stops(_HAIR, p.hair_lightness)
    red = np.clip(hair * np.array([1.45, 0.85, 0.55]) + np.array([0.12, 0.02, 0.0]), 0, 1)
    hair = hair + (red - hair) * p.hair_warmth * 0.8
    lips = skin * np.array([0.92, 0.66, 0.66])
    lips = lips + (np.array([0.72, 0.22, 0.28]) - lips) * (0.15 + 0.6 * p.lip_tint)
    hue = p.bg_hue % 1.0
    value = 0.32 + 0.6 * p.bg_lightness
    bg = np.array(colorsys.hsv_to_rgb(hue, 0.35, value))
    clothes = np.array(colorsys.hsv_to_rgb((hue + 0.5) % 1.0, 0.5, 0.75 - 0.35 * p.bg_lightness))
    return Palette(
        skin=_rgb(skin),
        skin_shadow=_rgb(skin_shadow),
        skin_dark=_rgb(skin * np.array([0.55, 0.42, 0.40])),
        blush=_rgb(skin + (lips - skin) * 0.25),
        hair=_rgb(hair),
        hair_back=_rgb(hair * 0.78),
        hair_shine=_rgb(hair + (1.0 - hair) * 0.08),
        brow=_rgb(np.minimum(hair * 0.75, skin * 0.55)),
        iris=_rgb(_lerp_stops(_IRIS, p.iris_hue)),
        lips=_rgb(lips),
        mouth=_rgb(np.array([0.22, 0.06, 0.07])),
        teeth=_rgb(np.array([0.93, 0.91, 0.86])),
        tongue=_rgb(np.array([0.72, 0.32, 0.34])),
        eye_white=_rgb(np.array([0.94, 0.93, 0.90])),
        lash=_rgb(np.minimum(hair * 0.5, 0.12) + 0.02),
        bg_top=_rgb(bg * 1.08),
        bg_bottom=_rgb(bg * 0.85),
        clothes=_rgb(clothes),
    )
