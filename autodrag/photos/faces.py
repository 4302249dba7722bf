"""Find the faces of a photo and their 68 landmarks at the photo's own resolution.

Backends:

* ``dlib``: HOG boxes on a copy downscaled to `max_side`, then the shape predictor on the full
  resolution photo inside the box scaled back up (landmarks at full resolution, no rescaling).
* ``fan``: face-alignment with its SFD face detector on the downscaled copy; points scaled back.
* ``toy``: the bundled detector, made to search: from a few start squares (the whole image and a
  3 x 3 grid of smaller squares), run it on the square's 128 px crop, fit the similarity that maps
  its mean face onto the points, re-crop there, and repeat with the 3 starts of sharpest heatmaps
  (at most 4 times, until the points move < 2 % of the eye distance).  A face scores by its heatmap peaks (mean peak softmax mass) and
  how well the points fit the mean face's shape; below `TOY_MIN_SCORE` it is not a face.
  One face at most (the best start).
* ``auto``: dlib; with ``fallback="toy"`` the toy search runs when dlib finds nothing.

Every face is checked (`check_face`): eye distance >= `min_iod` photo pixels, and all 68 points
inside the photo (a face running off the border is an error; the alignment square itself may
leave the photo: `align_face` reflects the photo there).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch
from PIL import Image

from autodrag.landmarks.detection import FaceDetection
from autodrag.photos.align import AlignTransform, align_face, fit_similarity
from autodrag.photos.io import PhotoError
from autodrag.pixels import rescale_points

__all__ = [
    "BACKENDS",
    "MIN_IOD",
    "TOY_MIN_SCORE",
    "FaceError",
    "check_face",
    "find_faces",
    "select_face",
    "toy_framing",
    "toy_search",
]

BACKENDS = ("auto", "dlib", "fan", "toy")
MIN_IOD = 32.0  # smallest eye distance (eye centres, photo pixels) worth editing
TOY_MIN_SCORE = 0.3  # toy search: toy photos scored 0.49-0.65, noise/textures/real photos <= 0.17
BORDER_TOLERANCE = 1.0  # landmarks may sit this many pixels outside the photo (detector jitter)


class FaceError(PhotoError):
    """No usable face: none found, too small, cut by the border, or a --face index out of range."""


def _downscale(rgb: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """A copy with max side <= max_side and its factor f (photo = (small + 0.5) * f - 0.5)."""
    h, w = rgb.shape[:2]
    f = max(h, w) / float(max_side)
    if f <= 1.0:
        return rgb, 1.0
    size = (max(1, round(w / f)), max(1, round(h / f)))
    small = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX))
    return small, w / size[0]


def _up(xy: np.ndarray, f: float) -> np.ndarray:
    return rescale_points(np.asarray(xy, dtype=np.float64), f)


def check_face(face: FaceDetection, image_size: tuple[int, int], min_iod: float = MIN_IOD) -> str | None:
    """Why `face` cannot be used in an image of (width, height), or None when it can."""
    w, h = image_size
    iod = face.inter_ocular
    if iod < min_iod:
        return (
            f"face too small: eye distance {iod:.1f} px < {min_iod:g} px (use a larger photo or crop closer)"
        )
    pts = face.landmarks
    t = BORDER_TOLERANCE
    outside = (pts[:, 0] < -t) | (pts[:, 1] < -t) | (pts[:, 0] > w - 1 + t) | (pts[:, 1] > h - 1 + t)
    if outside.any():
        return f"face cut by the photo border: {int(outside.sum())} of 68 landmarks lie outside the image"
    return None


# -- dlib / fan -------------------------------------------------------------------------------


def _dlib_faces(rgb: np.ndarray, max_side: int) -> list[FaceDetection]:
    from autodrag.landmarks.dlib_backend import DlibDetector

    det = DlibDetector()
    small, f = _downscale(rgb, max_side)
    faces = det.detect_faces(small)
    if f == 1.0:
        return faces
    out = []
    for face in faces:  # box back to full resolution, shape predictor there
        x0, y0 = _up(face.box[:2], f)
        x1, y1 = _up(face.box[2:], f)
        box = (float(x0), float(y0), float(x1), float(y1))
        out.append(FaceDetection(box=box, landmarks=det.shape(rgb, box), score=face.score))
    return out


def _fan_faces(rgb: np.ndarray, max_side: int) -> list[FaceDetection]:
    import warnings

    from autodrag.landmarks.fan import FanDetector

    det = FanDetector(use_face_detector=True)
    small, f = _downscale(rgb, max_side)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        found = det._fa.get_landmarks_from_image(np.ascontiguousarray(small), return_bboxes=True)
    if not found or found[0] is None:
        return []
    points, _, boxes = found
    out = []
    for pts, box in zip(points, boxes):
        corners = _up(np.asarray(box[:4], dtype=np.float64).reshape(2, 2), f).ravel()
        out.append(
            FaceDetection(
                box=tuple(float(v) for v in corners),
                landmarks=_up(np.asarray(pts)[:, :2], f).astype(np.float32),
                score=float(box[4]) if len(box) > 4 else 1.0,
            )
        )
    return out


# -- toy ----------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _toy_model():
    from autodrag.landmarks.toy import ToyLandmarkDetector

    return ToyLandmarkDetector()


def toy_framing(size: int) -> np.ndarray:
    """Mean landmarks [68, 2] of toy faces framed at `size` px (the framing the toy detector knows)."""
    return _toy_model().framing(size)


@torch.inference_mode()
def _toy_read(crops: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks [N, 68, 2] (crop pixels) and mean heatmap peak mass [N] of 128 px crops."""
    from autodrag.landmarks.heatmap_net import soft_argmax

    det = _toy_model()
    x = torch.stack([torch.from_numpy(c.astype(np.float32)).permute(2, 0, 1) / 127.5 - 1.0 for c in crops])
    logits = det.model(x.to(det.device))
    pts = soft_argmax(logits, det.model.config.stride).cpu().numpy()
    n, k, h, w = logits.shape
    prob = torch.softmax(logits.reshape(n, k, h * w).float(), dim=-1).reshape(n, k, h, w)
    # mass within the 3x3 cells around each peak: a sharp single peak -> 1, a diffuse map -> small
    pooled = torch.nn.functional.avg_pool2d(prob, 3, stride=1, padding=1) * 9
    peak = pooled.reshape(n, k, -1).max(dim=-1).values.mean(dim=-1)
    return pts, peak.cpu().numpy()


def toy_search(rgb: np.ndarray, iterations: int = 4) -> FaceDetection | None:
    """The toy detector's best face in `rgb` (see the module docstring), or None.

    The score is ``peak mass * exp(-shape residual / (0.05 * eye distance))``, in [0, 1].
    """
    size = _toy_model().size
    mean = toy_framing(size)
    h, w = rgb.shape[:2]
    starts = [(w / 2 - 0.5, h / 2 - 0.5, max(w, h))]  # (centre x, centre y, side)
    side = 0.6 * min(w, h)
    for fy in (0.3, 0.5, 0.7):
        for fx in (0.3, 0.5, 0.7):
            starts.append((fx * w - 0.5, fy * h - 0.5, side))
    transforms = []
    for cx, cy, s in starts:  # crop (size px) -> photo: scale s/size, centred
        f = s / size
        transforms.append(
            AlignTransform(np.array([[f, 0, cx - f * (size - 1) / 2], [0, f, cy - f * (size - 1) / 2]]), size)
        )
    points = [None] * len(transforms)
    active = list(range(len(transforms)))
    peaks = np.zeros(len(transforms))
    first = True
    for _ in range(iterations + 1):
        # Edge padding: a reflected border mirrors brows and hair next to a face at the edge, and the
        # detector followed the mirror (toy photo 21: 2.6 px mean error, 3 points off the photo; 0.8 px).
        crops = [align_face(rgb, mean, size, transform=transforms[i], pad="edge").crop for i in active]
        pts, peak = _toy_read(crops)
        still = []
        for j, i in enumerate(active):
            photo_pts = transforms[i].to_photo(pts[j])
            moved = np.inf if points[i] is None else np.abs(photo_pts - points[i]).max()
            points[i], peaks[i] = photo_pts, peak[j]
            m, _ = fit_similarity(mean, photo_pts)
            iod = _iod(photo_pts)
            if not np.isfinite(m).all() or iod < 1e-3:
                continue
            transforms[i] = AlignTransform(m, size)
            if moved > 0.02 * iod:
                still.append(i)
        if first:  # keep the 3 most promising starts after the first look
            keep = set(sorted(active, key=lambda i: -peaks[i])[:3])
            still = [i for i in still if i in keep]
            points = [p if i in keep else None for i, p in enumerate(points)]
            first = False
        active = still
        if not active:
            break
    best = None
    for i, pts_i in enumerate(points):
        if pts_i is None:
            continue
        iod = _iod(pts_i)
        _, resid = fit_similarity(mean, pts_i)
        score = float(peaks[i] * np.exp(-resid / max(0.05 * iod, 1e-6) / 4.0))
        if best is None or score > best.score:
            x0, y0 = pts_i.min(axis=0)
            x1, y1 = pts_i.max(axis=0)
            best = FaceDetection(
                box=(float(x0), float(y0), float(x1), float(y1)),
                landmarks=pts_i.astype(np.float32),
                score=score,
            )
    return best


def _iod(pts: np.ndarray) -> float:
    from autodrag.landmarks.detection import inter_ocular

    return inter_ocular(pts)


def _toy_faces(rgb: np.ndarray, max_side: int, min_score: float) -> list[FaceDetection]:
    face = toy_search(rgb)
    return [face] if face is not None and face.score >= min_score else []


# -- public -----------------------------------------------------------------------------------


def find_faces(
    rgb: np.ndarray,
    backend: str = "auto",
    max_side: int = 1024,
    min_iod: float = MIN_IOD,
    fallback: str | None = None,
    toy_min_score: float = TOY_MIN_SCORE,
) -> list[FaceDetection]:
    """The usable faces of an upright RGB photo, largest (eye distance) first.

    Args:
        rgb: uint8 [H, W, 3].
        backend: 'auto' (= dlib), 'dlib', 'fan' or 'toy' (see the module docstring).
        max_side: detect on a copy at most this large; landmarks are at the photo's resolution.
        min_iod: smallest eye distance in photo pixels.
        fallback: 'toy' = with 'auto', use the toy search when dlib finds no face.
        toy_min_score: the toy search's face/no-face threshold.
    Raises:
        FaceError: no face found, or every face found is too small or cut by the border.
        ValueError: unknown backend.
    """
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an RGB uint8 image [H, W, 3], got {rgb.dtype} {rgb.shape}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown face backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if fallback not in (None, "toy"):
        raise ValueError(f"unknown fallback {fallback!r}; only 'toy' (or None)")
    h, w = rgb.shape[:2]
    name = "dlib" if backend == "auto" else backend
    if name == "dlib":
        faces = _dlib_faces(rgb, max_side)
        if not faces and backend == "auto" and fallback == "toy":
            name, faces = "toy", _toy_faces(rgb, max_side, toy_min_score)
    elif name == "fan":
        faces = _fan_faces(rgb, max_side)
    else:
        faces = _toy_faces(rgb, max_side, toy_min_score)
    if not faces:
        raise FaceError(f"no face found in the {w}x{h} photo (landmark backend {name})")
    faces = sorted(faces, key=lambda f: f.inter_ocular, reverse=True)
    problems = [check_face(f, (w, h), min_iod) for f in faces]
    usable = [f for f, p in zip(faces, problems) if p is None]
    if not usable:
        extra = f" (and {len(faces) - 1} other face(s) not usable either)" if len(faces) > 1 else ""
        raise FaceError(f"{problems[0]}{extra}")
    return usable


def select_face(faces: Sequence[FaceDetection], index: int = 0) -> FaceDetection:
    """`--face N`: face N of `find_faces`' list (0 = the largest).

    Raises:
        FaceError: N out of range (the message says how many faces there are).
    """
    n = len(faces)
    if not 0 <= index < n:
        which = (
            "no faces"
            if n == 0
            else (
                "only 1 face (use --face 0)"
                if n == 1
                else f"{n} faces (use --face 0 to {n - 1}; 0 = the largest)"
            )
        )
        raise FaceError(f"--face {index} is out of range: the photo has {which}")
    return faces[index]
