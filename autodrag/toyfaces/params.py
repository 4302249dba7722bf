"""z -> renderer parameters: the one fixed, documented map from a latent to a toy face.

The map is what the bundled generator is trained to reproduce, so it must never change silently:

1. ``zn = autodrag.latents.normalize_z(z)`` -- the normalised z the mapping network actually sees.
2. ``u_i = Phi(zn_i)`` -- each component through the standard normal CDF, giving roughly uniform
   values in (0, 1) (``zn`` lies on a sphere of radius sqrt(Z_DIM), whose marginals are close to
   N(0, 1) for Z_DIM = 30).
3. Expression-like parameters (``ends=True``) are warped by the arcsine map
   ``v = (1 - cos(pi u)) / 2``, which piles probability mass near both ends (about 14% of faces
   have each such parameter within 5% of its low end, and 14% within 5% of its high end), so
   closed eyes, open mouths, slim and round jaws are all common in the training data.
4. ``value_i = low_i + (high_i - low_i) * v_i``.

Component ``i`` of z drives parameter ``i`` and nothing else; every component is used, so the
generator's ``z_dim`` equals ``Z_DIM``.  Because ``zn`` is normalised, changing one component of a
raw z rescales all the others a little; ``z_with_params`` builds latents in which chosen parameters
take exact values and the others keep their values up to that unavoidable common rescaling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from statistics import NormalDist

import numpy as np

from autodrag.latents import normalize_z, z_from_seed

__all__ = [
    "PARAM_SPECS",
    "Z_DIM",
    "FaceParams",
    "ParamSpec",
    "params_for_seed",
    "params_from_uniform",
    "params_from_z",
    "uniform_from_params",
    "z_with_params",
]

_STD_NORMAL = NormalDist()


@dataclass(frozen=True)
class ParamSpec:
    """How one z component becomes one renderer parameter."""

    name: str  # field name in FaceParams
    low: float  # parameter value at u = 0
    high: float  # parameter value at u = 1
    ends: bool  # True: arcsine warp (extra mass near low and high); False: uniform in [low, high]
    doc: str  # one line for the documentation table


def _param(low: float, high: float, default: float, doc: str, ends: bool = False) -> float:
    """A FaceParams field carrying its own spec (name filled in below)."""
    return field(default=default, metadata={"spec": (low, high, ends, doc)})


@dataclass(frozen=True)
class FaceParams:
    """Everything the renderer needs for one face.  Field order == z component order.

    Lengths are in face units (fractions of the image side, before the pose's scale); "left" and
    "right" mean image-left and image-right.
    """

    # --- expressions (arcsine-warped: both ends common) ---
    eye_open_left: float = _param(
        0.0, 1.0, 0.65, "image-left eye (landmarks 37-42): 0 closed .. 1 wide", True
    )
    eye_open_right: float = _param(
        0.0, 1.0, 0.65, "image-right eye (landmarks 43-48): 0 closed .. 1 wide", True
    )
    mouth_open: float = _param(0.0, 1.0, 0.0, "inner-lip gap: 0 closed .. 1 wide open (jaw drops too)", True)
    smile: float = _param(-0.4, 1.0, 0.2, "mouth-corner lift: -0.4 frown .. 1 broad smile", True)
    jaw_width: float = _param(
        0.0, 1.0, 0.5, "lower-face shape: 0 slim, pointed chin .. 1 round, wide jaw", True
    )
    brow_height: float = _param(0.0, 1.0, 0.4, "brows: 0 low .. 1 raised", True)
    # --- shape ---
    brow_tilt: float = _param(-1.0, 1.0, 0.0, "inner brow ends: -1 down (stern) .. 1 up (worried)")
    gaze_x: float = _param(-1.0, 1.0, 0.0, "iris offset: -1 looking image-left .. 1 image-right")
    eye_size: float = _param(0.0, 1.0, 0.5, "eye width 0.115 .. 0.15")
    brow_thickness: float = _param(0.0, 1.0, 0.5, "brow stroke 0.014 .. 0.026")
    nose_length: float = _param(0.0, 1.0, 0.5, "eye line to nose tip 0.105 .. 0.145")
    nose_width: float = _param(0.0, 1.0, 0.5, "nostril span 0.08 .. 0.13")
    mouth_width: float = _param(0.0, 1.0, 0.5, "mouth half-width 0.095 .. 0.125 (before smile/opening)")
    lip_thickness: float = _param(0.0, 1.0, 0.5, "lip thickness: thin .. full")
    face_length: float = _param(0.0, 1.0, 0.5, "chin height: short .. long face")
    hair_length: float = _param(0.0, 1.0, 0.5, "0 cropped at the temples .. 1 past the shoulders", True)
    hair_volume: float = _param(0.0, 1.0, 0.5, "hair thickness around the head: flat .. big")
    fringe: float = _param(0.0, 1.0, 0.3, "0 high arched hairline .. 1 straight bangs above the brows", True)
    # --- colours ---
    skin_tone: float = _param(0.0, 1.0, 0.3, "skin: 0 light .. 1 dark")
    skin_warmth: float = _param(0.0, 1.0, 0.5, "skin undertone: 0 cool/pink .. 1 warm/yellow")
    hair_lightness: float = _param(0.0, 1.0, 0.3, "hair: 0 black .. 0.5 brown .. 1 blond")
    hair_warmth: float = _param(0.0, 1.0, 0.3, "hair: 0 ash .. 1 red")
    iris_hue: float = _param(0.0, 1.0, 0.2, "iris: 0 brown .. hazel .. green .. 1 blue")
    lip_tint: float = _param(0.0, 1.0, 0.5, "lips: 0 skin-like .. 1 red")
    bg_hue: float = _param(0.0, 1.0, 0.6, "background hue (cyclic); clothes take the opposite hue")
    bg_lightness: float = _param(0.0, 1.0, 0.6, "background: 0 dark .. 1 light")
    # --- pose (in-plane) ---
    rotation: float = _param(-10.0, 10.0, 0.0, "degrees, positive = counter-clockwise on screen")
    scale: float = _param(0.92, 1.08, 1.0, "face size factor")
    shift_x: float = _param(-0.03, 0.03, 0.0, "face centre offset, fraction of the image width")
    shift_y: float = _param(-0.03, 0.03, 0.0, "face centre offset, fraction of the image height")

    def as_array(self) -> np.ndarray:
        """Values in z-component order, float64 [Z_DIM]."""
        return np.array([getattr(self, spec.name) for spec in PARAM_SPECS], dtype=np.float64)


PARAM_SPECS: tuple[ParamSpec, ...] = tuple(ParamSpec(f.name, *f.metadata["spec"]) for f in fields(FaceParams))
Z_DIM: int = len(PARAM_SPECS)
_LOW = np.array([s.low for s in PARAM_SPECS])
_HIGH = np.array([s.high for s in PARAM_SPECS])
_ENDS = np.array([s.ends for s in PARAM_SPECS])
_INDEX = {s.name: i for i, s in enumerate(PARAM_SPECS)}
_Z_CLAMP = 3.0  # largest |zn_i| that z_with_params writes (Phi(-3) = 0.00135)


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    return 0.5 * (
        1.0 + np.vectorize(math.erf, otypes=[np.float64])(np.asarray(x, np.float64) / math.sqrt(2.0))
    )


def _as_batch(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float32)
    if z.ndim == 1:
        z = z[None]
    if z.ndim != 2 or z.shape[1] != Z_DIM:
        raise ValueError(f"z must have shape [N, {Z_DIM}] or [{Z_DIM}], got {tuple(z.shape)}")
    return z


def params_from_uniform(u: np.ndarray) -> FaceParams:
    """Parameters for one vector of uniforms u in [0, 1], shape [Z_DIM] (steps 3-4 above)."""
    u = np.clip(np.asarray(u, dtype=np.float64).reshape(Z_DIM), 0.0, 1.0)
    v = np.where(_ENDS, 0.5 - 0.5 * np.cos(np.pi * u), u)
    values = _LOW + (_HIGH - _LOW) * v
    return FaceParams(**{spec.name: float(x) for spec, x in zip(PARAM_SPECS, values)})


def uniform_from_params(params: FaceParams) -> np.ndarray:
    """Inverse of `params_from_uniform`: float64 [Z_DIM] in [0, 1]."""
    v = np.clip((params.as_array() - _LOW) / (_HIGH - _LOW), 0.0, 1.0)
    return np.where(_ENDS, np.arccos(1.0 - 2.0 * v) / np.pi, v)


def params_from_z(z: np.ndarray) -> list[FaceParams]:
    """Parameters for each row of z (raw or already normalised; it is normalised here).

    Args:
        z: float [N, Z_DIM] or [Z_DIM].
    Returns:
        N FaceParams.
    """
    u = _normal_cdf(normalize_z(_as_batch(z)))
    return [params_from_uniform(row) for row in u]


def params_for_seed(seed: int) -> FaceParams:
    """The face of `seed`: params of `z_from_seed(seed, Z_DIM)`, the z that `generate --seeds` uses."""
    return params_from_z(z_from_seed(seed, Z_DIM))[0]


def z_with_params(z: np.ndarray, **values: float) -> np.ndarray:
    """A normalised z whose parameters named in `values` take those values.

    The chosen components are clamped to |zn_i| <= 3, so a range end is reached to within
    1e-5 of the range for arcsine-warped parameters (0.14% for uniform ones).

    The other components keep their direction and are rescaled together so that the result stays
    on the normalisation sphere (rms 1); their parameters therefore move slightly.  Use it for
    sweeps such as ``[z_with_params(z, eye_open_left=v) for v in np.linspace(0, 1, 9)]``.

    Args:
        z: float [Z_DIM] or [1, Z_DIM].
        **values: parameter name -> value inside its [low, high] range.
    Returns:
        float32 [1, Z_DIM].
    """
    zn = normalize_z(_as_batch(z))[0].astype(np.float64)
    base = params_from_z(zn)[0]
    unknown = set(values) - set(_INDEX)
    if unknown:
        raise ValueError(f"unknown parameter(s) {sorted(unknown)}; known: {list(_INDEX)}")
    u = uniform_from_params(replace(base, **values))
    fixed = np.zeros(Z_DIM, dtype=bool)
    for name in values:
        i = _INDEX[name]
        fixed[i] = True
        zn[i] = float(
            np.clip(_STD_NORMAL.inv_cdf(float(np.clip(u[i], 1e-12, 1.0 - 1e-12))), -_Z_CLAMP, _Z_CLAMP)
        )
    budget = Z_DIM - np.sum(zn[fixed] ** 2)
    rest = np.sum(zn[~fixed] ** 2)
    if budget <= 0.0 or rest <= 0.0:
        raise ValueError("requested values are too extreme to fit on the normalisation sphere")
    zn[~fixed] *= math.sqrt(budget / rest)
    return zn[None].astype(np.float32)
