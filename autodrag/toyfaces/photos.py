"""Synthetic "photos" of the bundled model's kind of face, with exact landmarks (tests, benchmark).

A toy face (`toyfaces.render.render_seed` at 256 px) is cut out of its gradient background
(the pixels that differ from the renderer's known gradient, holes filled), scaled so its square
is 40-90 % of the shorter side of a 256-384 px canvas (at least `MIN_FACE_SIDE`), rotated by up
to +-20 degrees, shifted (the landmarks stay 5 % of the square inside the canvas) and composited
on a textured background: smooth colour noise, stripes and soft blobs.  The landmarks go through the same similarity, pixel centres at
integers in both images, so they are exact up to the renderer's own precision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from autodrag.photos.align import sample_affine
from autodrag.toyfaces.palette import face_palette
from autodrag.toyfaces.params import FaceParams
from autodrag.toyfaces.render import RenderConfig, render_seed

__all__ = ["TOY_EYE_TO_MOUTH_RATIO", "ToyPhoto", "face_region", "render_toy_photo", "textured_background"]

TOY_EYE_TO_MOUTH_RATIO = 1.29  # mean |eye_to_eye| / |eye_to_mouth| of toy faces (seeds 0-29: 1.11-1.50)
RENDER_SIZE = 256
MIN_FACE_SIDE = 135.0  # px: toy faces' eye distance is ~0.28 x the square side -> >= 37 px (MIN_IOD is 32)


@dataclass
class ToyPhoto:
    """A synthetic photo and its ground truth."""

    rgb: np.ndarray  # uint8 [H, W, 3]
    landmarks: np.ndarray  # float32 [68, 2] (x, y) photo pixels
    params: dict  # seed, canvas size, face square side, rotation (degrees), render -> photo affine
    face: FaceParams | None = None  # the rendered face's parameters


def face_region(image: np.ndarray, params: FaceParams, supersample: int) -> np.ndarray:
    """Soft mask float32 [H, W] of the non-background pixels of a toy render (1 = face or hair)."""
    res = image.shape[0]
    palette = face_palette(params)
    t = np.linspace(0.0, 1.0, res * supersample)[:, None]
    column = (np.array(palette.bg_top)[None] * (1.0 - t) + np.array(palette.bg_bottom)[None] * t).astype(
        np.uint8
    )
    background = column.astype(np.float64).reshape(res, supersample, 3).mean(axis=1)  # the renderer's reduce
    diff = np.abs(image.astype(np.float64) - background[:, None, :]).max(axis=2)
    solid = ndimage.binary_fill_holes(ndimage.binary_opening(diff > 8.0, iterations=1))
    soft = np.clip(diff / 24.0, 0.0, 1.0)  # anti-aliased edge pixels: partial cover
    return np.where(solid, 1.0, np.where(ndimage.binary_dilation(solid), soft, 0.0)).astype(np.float32)


def textured_background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """uint8 [H, W, 3]: smooth colour noise + stripes + soft blobs + fine grain."""
    coarse = rng.uniform(30, 225, size=(rng.integers(3, 7), rng.integers(3, 7), 3)).astype(np.float32)
    base = np.stack(
        [
            np.asarray(
                Image.fromarray(coarse[..., c], mode="F").resize((width, height), Image.Resampling.BICUBIC)
            )
            for c in range(3)
        ],
        axis=2,
    )
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    period = rng.uniform(8, 40)
    stripes = np.sin((xs * np.cos(angle) + ys * np.sin(angle)) * 2 * np.pi / period)
    base += stripes[..., None] * rng.uniform(10, 35) * rng.uniform(-1, 1, size=3).astype(np.float32)
    for _ in range(int(rng.integers(3, 9))):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        rx, ry = rng.uniform(8, 60, size=2)
        blob = np.exp(-(((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2) * 2.0)
        base = base * (1 - blob[..., None]) + blob[..., None] * rng.uniform(0, 255, size=3).astype(np.float32)
    base += rng.normal(0, 4, size=base.shape).astype(np.float32)
    return np.clip(np.rint(base), 0, 255).astype(np.uint8)


def render_toy_photo(seed: int, face_seed: int | None = None) -> ToyPhoto:
    """A toy photo: face `face_seed` (default: `seed`) placed by the random draws of `seed`."""
    rng = np.random.default_rng([seed, 7151])
    supersample = 4
    render = render_seed(seed if face_seed is None else face_seed, RenderConfig(RENDER_SIZE, supersample))
    width, height = (int(v) for v in rng.integers(256, 385, size=2))
    low = max(0.4, MIN_FACE_SIDE / min(width, height))  # keep the eye distance above faces.MIN_IOD
    side = rng.uniform(low, 0.9) * min(width, height)
    angle = rng.uniform(-20.0, 20.0)
    scale = side / RENDER_SIZE
    a = np.deg2rad(angle)
    linear = scale * np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])  # CCW on screen
    centre = np.array([RENDER_SIZE - 1, RENDER_SIZE - 1]) / 2.0
    rel = (render.landmarks.astype(np.float64) - centre) @ linear.T
    margin = max(3.0, 0.05 * side)  # detector jitter must not push points off the canvas
    lo = margin - rel.min(axis=0)
    hi = np.array([width - 1, height - 1]) - margin - rel.max(axis=0)
    shift = np.where(hi >= lo, rng.uniform(0, 1, size=2) * (hi - lo) + lo, (lo + hi) / 2)
    render_to_photo = np.concatenate([linear, (shift - linear @ centre)[:, None]], axis=1)
    inv = np.linalg.inv(linear)
    photo_to_render = np.concatenate([inv, (-inv @ render_to_photo[:, 2])[:, None]], axis=1)
    k = 2 if scale < 1 else 1
    face = sample_affine(render.image, photo_to_render, (width, height), supersample=k).astype(np.float32)
    alpha = sample_affine(
        face_region(render.image, render.params, supersample), photo_to_render, (width, height), supersample=k
    )
    # `face` is premultiplied by the in-image coverage (outside reads 0): un-premultiply via the cover
    cover = sample_affine(np.ones(render.image.shape[:2], np.float32), photo_to_render, (width, height), k)
    face = face / np.maximum(cover, 1e-6)[..., None]
    alpha = np.clip(alpha / np.maximum(cover, 1e-6), 0, 1) * (cover > 0.999)
    background = textured_background(rng, width, height).astype(np.float32)
    rgb = np.clip(np.rint(background * (1 - alpha[..., None]) + face * alpha[..., None]), 0, 255).astype(
        np.uint8
    )
    landmarks = (render.landmarks.astype(np.float64) @ linear.T + render_to_photo[:, 2]).astype(np.float32)
    params = {
        "seed": int(seed),
        "face_seed": int(seed if face_seed is None else face_seed),
        "width": width,
        "height": height,
        "face_side": float(side),
        "rotation_deg": float(angle),
        "render_to_photo": render_to_photo.tolist(),
    }
    return ToyPhoto(rgb=rgb, landmarks=landmarks, params=params, face=render.params)
