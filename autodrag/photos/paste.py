"""Paste an edited aligned crop back into the photo through the inverse alignment transform.

The blend weight (alpha) lives in crop space: a face region (an ellipse inside the crop, the
convex hull of given crop landmarks, or the caller's `region_crop`), feathered, and, when
`original_crop` is given, limited to where the edited crop differs from it (dilated, feathered).
It is warped to the photo with the crop; the output is computed only where alpha > 0 and every
other pixel is copied from the input, so `mask_upright` (alpha > 0) marks every pixel that may
differ.  `io.compose_output` then writes it in the stored orientation and mode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from autodrag.photos.align import AlignTransform, sample_affine

__all__ = ["PasteResult", "change_region", "ellipse_region", "hull_region", "paste_back"]

DEFAULT_FEATHER_FRACTION = 1.0 / 32.0  # feather width as a fraction of the crop side
_ALPHA_FLOOR = 1.0 / 1024.0  # weights below this are set to exactly 0 (they change no 8-bit pixel)


@dataclass
class PasteResult:
    """The photo with the crop pasted in, and where it may differ from the input."""

    rgb: np.ndarray  # uint8 [H, W, 3] upright
    mask_upright: np.ndarray  # bool [H, W]: pixels that may differ from the input (alpha > 0)
    alpha: np.ndarray  # float32 [H, W] blend weight in [0, 1]


def ellipse_region(size: int, feather_px: float) -> np.ndarray:
    """float32 [size, size]: 1 inside an ellipse fitting the aligned face, falling to exactly 0."""
    c = (size - 1) / 2.0
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    ax, ay = 0.40 * size, 0.46 * size  # FFHQ crops: face and hair-line within this
    r = np.sqrt(((xs - c) / ax) ** 2 + ((ys - c - 0.03 * size) / ay) ** 2)
    dist = (1.0 - r) * min(ax, ay)  # ~ pixels inside the boundary
    return _smooth_ramp(dist / max(feather_px, 1e-6))


def hull_region(landmarks_crop: np.ndarray, size: int, feather_px: float, grow: float = 0.08) -> np.ndarray:
    """float32 [size, size]: the landmarks' convex hull grown by `grow` x size (forehead kept), feathered."""
    pts = np.asarray(landmarks_crop, dtype=np.float64)
    centre = pts.mean(axis=0)
    top = pts[17:27].copy()  # brows, lifted to cover the forehead
    top[:, 1] -= 0.5 * (pts[:, 1].max() - pts[17:27, 1].mean())
    pts = np.concatenate([pts, top])
    radius = np.linalg.norm(pts - centre, axis=1, keepdims=True)
    pts = centre + (pts - centre) * (1.0 + grow * size / np.maximum(radius, 1e-6))
    from scipy.spatial import ConvexHull

    hull = pts[ConvexHull(pts).vertices]
    img = Image.new("L", (size, size), 0)
    ImageDraw.Draw(img).polygon([(float(x), float(y)) for x, y in hull], fill=255)
    return feather(np.asarray(img, dtype=np.float32) / 255.0, feather_px)


def change_region(
    edited: np.ndarray, original: np.ndarray, feather_px: float, threshold: float = 2.0
) -> np.ndarray:
    """float32 [size, size]: where `edited` differs from `original` by > threshold levels, grown and feathered."""
    diff = np.abs(edited.astype(np.int16) - original.astype(np.int16)).max(axis=2) > threshold
    if not diff.any():
        return np.zeros(diff.shape, np.float32)
    grown = ndimage.binary_dilation(diff, iterations=max(1, int(math.ceil(feather_px))))
    return feather(grown.astype(np.float32), feather_px)


def _smooth_ramp(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def feather(mask: np.ndarray, feather_px: float) -> np.ndarray:
    """Gaussian-feather a [0, 1] mask (truncated: exact zeros stay far from the region)."""
    if feather_px <= 0:
        return mask.astype(np.float32)
    out = ndimage.gaussian_filter(mask.astype(np.float32), sigma=feather_px / 2.0, truncate=3.0)
    out[out < _ALPHA_FLOOR] = 0.0
    return np.clip(out, 0.0, 1.0)


def paste_back(
    photo_rgb: np.ndarray,
    edited_crop: np.ndarray,
    original_crop: np.ndarray | None,
    transform: AlignTransform,
    region_crop: np.ndarray | None = None,
    feather_px: float | None = None,
    landmarks_crop: np.ndarray | None = None,
) -> PasteResult:
    """Blend `edited_crop` into the upright photo where the face region (and the change) is.

    Args:
        photo_rgb: uint8 [H, W, 3] upright photo (the one the crop was cut from).
        edited_crop: uint8 [size, size, 3] edited aligned crop.
        original_crop: the crop before the edit (same shape) or None; when given, only pixels the
            edit changed (> 2 levels, grown by the feather) are pasted: an unedited crop changes nothing.
        transform: the crop's `AlignTransform`.
        region_crop: float [size, size] in [0, 1], the region to paste (default: `hull_region` of
            `landmarks_crop` when given, else `ellipse_region`); it is feathered.
        feather_px: feather width in crop pixels (default size / 32).
        landmarks_crop: the face's landmarks in crop pixels (for the default hull region).
    Returns:
        `PasteResult`: the photo (pixels with alpha 0 copied from the input), the changed mask, alpha.
    """
    photo = np.asarray(photo_rgb)
    size = transform.size
    edited = np.asarray(edited_crop)
    if edited.shape != (size, size, 3) or edited.dtype != np.uint8:
        raise ValueError(f"edited crop must be uint8 [{size}, {size}, 3], got {edited.dtype} {edited.shape}")
    if photo.dtype != np.uint8 or photo.ndim != 3 or photo.shape[2] != 3:
        raise ValueError(f"photo must be uint8 [H, W, 3], got {photo.dtype} {photo.shape}")
    feather_px = size * DEFAULT_FEATHER_FRACTION if feather_px is None else float(feather_px)
    if region_crop is not None:
        region = np.asarray(region_crop, dtype=np.float32)
        if region.shape != (size, size):
            raise ValueError(f"region_crop must be [{size}, {size}], got {region.shape}")
        region = feather(np.clip(region, 0.0, 1.0), feather_px)
    elif landmarks_crop is not None:
        region = hull_region(landmarks_crop, size, feather_px)
    else:
        region = ellipse_region(size, feather_px)
    if original_crop is not None:
        original = np.asarray(original_crop)
        if original.shape != edited.shape:
            raise ValueError(f"original crop must be {edited.shape}, got {original.shape}")
        region = region * change_region(edited, original, feather_px)
    region[region < _ALPHA_FLOOR] = 0.0
    h, w = photo.shape[:2]
    out = photo.copy()
    alpha = np.zeros((h, w), np.float32)
    if not region.any():
        return PasteResult(rgb=out, mask_upright=np.zeros((h, w), bool), alpha=alpha)
    # photo window covering the crop square, clipped to the photo
    quad = transform.photo_quad()
    x0, y0 = np.maximum(np.floor(quad.min(axis=0)).astype(int) - 1, 0)
    x1, y1 = np.minimum(np.ceil(quad.max(axis=0)).astype(int) + 2, [w, h])
    if x0 >= x1 or y0 >= y1:
        return PasteResult(rgb=out, mask_upright=np.zeros((h, w), bool), alpha=alpha)
    window_to_crop = transform.photo_to_crop.copy()
    window_to_crop[:, 2] += window_to_crop[:, :2] @ np.array([x0, y0], dtype=np.float64)
    k = min(4, max(1, math.ceil(1.0 / transform.scale)))  # the crop is finer than the photo: average it
    size_wh = (int(x1 - x0), int(y1 - y0))
    a = sample_affine(region, window_to_crop, size_wh, supersample=k)
    a[a < _ALPHA_FLOOR] = 0.0
    a = np.clip(a, 0.0, 1.0)
    where = a > 0
    if where.any():
        pasted = np.stack(
            [sample_affine(edited[..., c].astype(np.float32), window_to_crop, size_wh, k) for c in range(3)],
            axis=2,
        )
        cover = sample_affine(np.ones((size, size), np.float32), window_to_crop, size_wh, k)
        pasted = pasted / np.maximum(cover, 1e-6)[..., None]  # undo the fade to 0 at the crop's edge
        win = out[y0:y1, x0:x1]
        blend = win[where].astype(np.float32) * (1 - a[where, None]) + pasted[where] * a[where, None]
        win[where] = np.clip(np.rint(blend), 0, 255).astype(np.uint8)
        alpha[y0:y1, x0:x1] = a
    return PasteResult(rgb=out, mask_upright=alpha > 0, alpha=alpha)
