"""FFHQ-style face alignment: 68 landmarks -> an oriented square -> a size x size crop.

The recipe (the FFHQ data set's, implemented here from its description): eye centres are the
means of each eye's 6 points, the mouth centre the mean of the mouth corners (rows 48 and 54);
``x = eye_to_eye - rot90(eye_to_mouth)`` normalised and scaled by
``max(2.0 |eye_to_eye|, 1.8 |eye_to_mouth|)``, ``y = rot90(x)``, centre
``c = eye_avg + 0.1 eye_to_mouth``; the crop square has the corners ``c -x -y`` (top left),
``c -x +y``, ``c +x +y``, ``c +x -y``.

Coordinates: (x, y) pixels with pixel centres at integers, in the photo and in the crop.  The
square's corners are the crop's outer pixel *edges*, so crop pixel centre u maps to the photo
point ``c - x - y + (2u + 1) / size * (x or y)``.  `AlignTransform` holds that affine exactly.
Sampling: a box pre-shrink by an integer factor when the square is much larger than the crop,
reflect padding where the square leaves the photo, then a bilinear affine sample on a grid
`supersample` times finer than the crop, box-filtered down (anti-aliasing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from autodrag.landmarks.base import LIPS_OUTER
from autodrag.landmarks.detection import eye_centres

__all__ = [
    "HUMAN_EYE_TO_MOUTH_RATIO",
    "AlignTransform",
    "AlignedFace",
    "align_face",
    "alignment_quad",
    "face_anchor_points",
    "fit_similarity",
    "sample_affine",
    "template_points",
]

HUMAN_EYE_TO_MOUTH_RATIO = 1.15  # |eye_to_eye| / |eye_to_mouth| of a typical frontal face (template_points)
MOUTH_CORNERS = (LIPS_OUTER.start, LIPS_OUTER.start + 6)  # rows 48 and 54 (points 49 and 55)


def _rot90(v: np.ndarray) -> np.ndarray:
    """Rotate (x, y) by +90 degrees the way the recipe does: flipud(v) * [-1, 1] = (-y, x)."""
    return np.array([-v[1], v[0]], dtype=np.float64)


def face_anchor_points(landmarks: np.ndarray) -> np.ndarray:
    """(image-left eye centre, image-right eye centre, mouth centre), float64 [3, 2] (x, y)."""
    pts = np.asarray(landmarks, dtype=np.float64)
    left, right = eye_centres(pts)
    mouth = (pts[MOUTH_CORNERS[0]] + pts[MOUTH_CORNERS[1]]) / 2.0
    return np.stack([left, right, mouth])


def alignment_quad(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The recipe's square: (centre c, half-axis x, half-axis y), each float64 (x, y) photo pixels."""
    left, right, mouth = face_anchor_points(landmarks)
    eye_avg = (left + right) / 2.0
    eye_to_eye = right - left
    eye_to_mouth = mouth - eye_avg
    x = eye_to_eye - _rot90(eye_to_mouth)
    norm = float(np.hypot(*x))
    if norm < 1e-6:
        raise ValueError("degenerate landmarks: the eyes and mouth coincide")
    x = x / norm * max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8)
    return eye_avg + eye_to_mouth * 0.1, x, _rot90(x)


@dataclass(frozen=True)
class AlignTransform:
    """The exact affine between crop (x, y) and photo (x, y) pixels (pixel centres at integers)."""

    crop_to_photo: np.ndarray  # float64 [2, 3]: photo = M[:, :2] @ crop + M[:, 2]
    size: int  # crop side in pixels

    @classmethod
    def from_quad(cls, centre: np.ndarray, x: np.ndarray, y: np.ndarray, size: int) -> AlignTransform:
        linear = np.stack([2.0 * x / size, 2.0 * y / size], axis=1)  # columns: d(photo)/du, d(photo)/dv
        offset = centre - x - y + (x + y) / size
        return cls(np.concatenate([linear, offset[:, None]], axis=1), int(size))

    @property
    def photo_to_crop(self) -> np.ndarray:
        """float64 [2, 3] inverse affine: crop = M[:, :2] @ photo + M[:, 2]."""
        inv = np.linalg.inv(self.crop_to_photo[:, :2])
        return np.concatenate([inv, (-inv @ self.crop_to_photo[:, 2])[:, None]], axis=1)

    @property
    def scale(self) -> float:
        """Photo pixels per crop pixel."""
        return float(math.sqrt(abs(np.linalg.det(self.crop_to_photo[:, :2]))))

    def to_photo(self, xy: np.ndarray) -> np.ndarray:
        """Crop points [..., 2] (x, y) -> photo points."""
        m = self.crop_to_photo
        return np.asarray(xy, dtype=np.float64) @ m[:, :2].T + m[:, 2]

    def to_crop(self, xy: np.ndarray) -> np.ndarray:
        """Photo points [..., 2] (x, y) -> crop points."""
        m = self.photo_to_crop
        return np.asarray(xy, dtype=np.float64) @ m[:, :2].T + m[:, 2]

    def photo_quad(self) -> np.ndarray:
        """The crop square's outer corners in the photo, float64 [4, 2]: TL, BL, BR, TR."""
        s = self.size - 0.5
        return self.to_photo(np.array([[-0.5, -0.5], [-0.5, s], [s, s], [s, -0.5]]))

    def to_dict(self) -> dict:
        """JSON-safe form (`from_dict` reads it back exactly)."""
        return {"size": self.size, "crop_to_photo": [[float(v) for v in row] for row in self.crop_to_photo]}

    @classmethod
    def from_dict(cls, data: dict) -> AlignTransform:
        try:
            matrix = np.asarray(data["crop_to_photo"], dtype=np.float64)
            size = int(data["size"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not an alignment transform: {exc}") from exc
        if matrix.shape != (2, 3) or size < 1 or not np.isfinite(matrix).all():
            raise ValueError(f"not an alignment transform: crop_to_photo {matrix.shape}, size {size}")
        return cls(matrix, size)


@dataclass
class AlignedFace:
    """An aligned crop and how it maps to the photo."""

    crop: np.ndarray  # uint8 [size, size, 3]
    transform: AlignTransform
    landmarks_crop: np.ndarray  # float32 [68, 2] (x, y) crop pixels


def template_points(size: int, eye_to_mouth_ratio: float = HUMAN_EYE_TO_MOUTH_RATIO) -> np.ndarray:
    """Where the recipe puts (left eye, right eye, mouth centre) in the crop, float64 [3, 2] (x, y).

    Exact for a face whose eye-to-mouth vector is perpendicular to the eye line, given
    ``r = eye_to_mouth_ratio = |eye_to_eye| / |eye_to_mouth|`` (the recipe's square depends on r).
    For r >= 0.9 (the usual case; the eye term of the scale wins) the eyes sit at +-1/4 of the half
    side from the centre, the eye line 0.05 / r half sides above it and the mouth 0.45 / r below.
    The default r = 1.15 is a frontal adult face as dlib marks it (skimage's astronaut: 1.16);
    toy faces average 1.29 (`autodrag.toyfaces.photos.TOY_EYE_TO_MOUTH_RATIO`).  Changing r by dr moves the mouth
    by about 0.225 dr / r^2 crop widths.
    """
    r = float(eye_to_mouth_ratio)
    d, m = r, 1.0  # |eye_to_eye|, |eye_to_mouth|
    s = max(2.0 * d, 1.8 * m)  # the half side, in the same units
    half = size / 2.0
    points = np.array([[-d / 2.0, -0.1 * m], [d / 2.0, -0.1 * m], [0.0, 0.9 * m]]) / s  # in half sides
    return half + points * half - 0.5


def _reflect_region(rgb: np.ndarray, x0: int, y0: int, x1: int, y1: int, pad: str = "reflect") -> np.ndarray:
    """rgb[y0:y1, x0:x1] where the window may leave the image: the outside is reflected in (or, with
    pad="edge", the border pixels repeated)."""
    h, w = rgb.shape[:2]
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if cx0 >= cx1 or cy0 >= cy1:  # window entirely outside: reflect from the nearest edge row/col
        cx0, cx1 = min(max(x0, 0), w - 1), min(max(x0, 0), w - 1) + 1
        cy0, cy1 = min(max(y0, 0), h - 1), min(max(y0, 0), h - 1) + 1
    part = rgb[cy0:cy1, cx0:cx1]
    pads = ((cy0 - y0, y1 - cy1), (cx0 - x0, x1 - cx1)) + ((0, 0),) * (rgb.ndim - 2)
    if any(p for pair in pads for p in pair):
        mode = pad if pad == "edge" or min(part.shape[:2]) > 1 else "edge"
        part = np.pad(part, pads, mode=mode)
    return part


def sample_affine(
    image: np.ndarray, out_to_image: np.ndarray, out_size: tuple[int, int], supersample: int = 1
) -> np.ndarray:
    """Bilinear sample of `image` (uint8 [H, W, C] or float32 [H, W]) at out pixel centres.

    Args:
        out_to_image: float64 [2, 3] affine from output (x, y) to image (x, y), centres at integers.
        out_size: (width, height) of the output.
        supersample: sample a k x finer grid and box-average it (anti-aliasing when shrinking).
    Returns:
        The output array (uint8 or float32); points outside the image read 0.
    """
    k = max(1, int(supersample))
    w, h = out_size
    fine = out_to_image.copy()
    if k > 1:  # fine pixel s covers out pixel (s - (k - 1) / 2) / k
        fine[:, :2] = out_to_image[:, :2] / k
        fine[:, 2] = out_to_image[:, 2] - out_to_image[:, :2] @ np.full(2, (k - 1) / (2.0 * k))
    # Pillow's AFFINE maps output edge coordinates to input edge coordinates (centres at +0.5).
    a = fine[:, :2]
    c = fine[:, 2] + 0.5 - a @ np.array([0.5, 0.5])
    data = (a[0, 0], a[0, 1], c[0], a[1, 0], a[1, 1], c[1])
    arr = np.asarray(image)
    if arr.dtype == np.uint8 and arr.ndim == 3:  # per channel in float: Pillow's 8-bit bilinear truncates
        chans = [_sample_float(arr[..., c], data, w, h, k) for c in range(arr.shape[2])]
        return np.clip(np.rint(np.stack(chans, axis=2)), 0, 255).astype(np.uint8)
    if arr.ndim != 2:
        raise ValueError(
            f"sample_affine takes uint8 images or float [H, W] masks, got {arr.dtype} {arr.shape}"
        )
    return _sample_float(arr, data, w, h, k)


def _sample_float(plane: np.ndarray, data: tuple, w: int, h: int, k: int) -> np.ndarray:
    src = Image.fromarray(np.ascontiguousarray(plane, dtype=np.float32), mode="F")
    out = np.asarray(src.transform((w * k, h * k), Image.Transform.AFFINE, data, Image.Resampling.BILINEAR))
    if k > 1:
        out = out.reshape(h, k, w, k).mean(axis=(1, 3))
    return out.astype(np.float32)


def align_face(
    rgb: np.ndarray,
    landmarks: np.ndarray,
    size: int,
    supersample: int = 2,
    transform: AlignTransform | None = None,
    pad: str = "reflect",
) -> AlignedFace:
    """Cut the FFHQ-style aligned crop of a face.

    Args:
        rgb: uint8 [H, W, 3] photo (upright).
        landmarks: [68, 2] (x, y) photo pixels of the face.
        size: crop side (the generator's resolution).
        supersample: anti-aliasing factor of the final affine sample (after the integer pre-shrink).
        transform: use this transform instead of the one the recipe gives (e.g. re-cutting a crop).
        pad: where the square leaves the photo: "reflect" (FFHQ's way) or "edge" (repeat the border).
    Returns:
        The crop, the exact transform and the landmarks in crop pixels.
    """
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an RGB uint8 image [H, W, 3], got {rgb.dtype} {rgb.shape}")
    if transform is None:
        transform = AlignTransform.from_quad(*alignment_quad(landmarks), size)
    size = transform.size
    shrink = max(1, int(math.floor(transform.scale / 2.0)))  # box pre-shrink, keeps >= 2 photo px/crop px
    quad = transform.photo_quad()
    margin = 2 * shrink + 2
    x0, y0 = (np.floor(quad.min(axis=0)) - margin).astype(int)
    x1, y1 = (np.ceil(quad.max(axis=0)) + margin + 1).astype(int)
    x1 = x0 + int(math.ceil((x1 - x0) / shrink)) * shrink  # whole shrink blocks
    y1 = y0 + int(math.ceil((y1 - y0) / shrink)) * shrink
    region = _reflect_region(rgb, x0, y0, x1, y1, pad)
    if shrink > 1:  # region pixel j covers photo pixels x0 + shrink*j ... + shrink - 1
        region = np.asarray(Image.fromarray(region).reduce(shrink))
    # crop -> region (shrunk) coordinates: region = (photo - x0 - (shrink - 1) / 2) / shrink
    m = transform.crop_to_photo.copy()
    m[:, 2] -= np.array([x0, y0]) + (shrink - 1) / 2.0
    m /= shrink
    residual = transform.scale / shrink  # photo (shrunk) pixels per crop pixel, < 4
    k = min(4, max(int(supersample), math.ceil(residual))) if residual > 0.75 else 1
    crop = sample_affine(region, m, (size, size), supersample=k)
    return AlignedFace(
        crop=crop, transform=transform, landmarks_crop=transform.to_crop(landmarks).astype(np.float32)
    )


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares similarity M [2, 3] with dst ~ M(src), and the RMS residual."""
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - ms, dst - md
    zs = a[:, 0] + 1j * a[:, 1]
    zd = b[:, 0] + 1j * b[:, 1]
    k = np.vdot(zs, zd) / np.vdot(zs, zs)  # complex scale-rotation
    lin = np.array([[k.real, -k.imag], [k.imag, k.real]])
    m = np.concatenate([lin, (md - lin @ ms)[:, None]], axis=1)
    resid = float(np.sqrt(np.mean(np.sum((src @ lin.T + m[:, 2] - dst) ** 2, axis=1))))
    return m, resid
