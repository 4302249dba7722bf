"""Draw a toy face: anti-aliased RGB image, exact 68 landmarks, eye and mouth region masks.

Shapes come from `geometry.face_shapes` (face units) and colours from `palette.face_palette`;
this module only maps them to pixels (pose), draws them with Pillow on a canvas
`supersample` times larger than the output and box-filters it down (anti-aliasing).

Coordinates: landmarks are (x, y) float pixels of the output image, the centre of the top-left
pixel at (0, 0) (so a point at x lies in pixel column round(x)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from autodrag.latents import z_from_seed
from autodrag.toyfaces.geometry import FaceShapes, apply_affine, face_shapes, pose_affine
from autodrag.toyfaces.palette import face_palette
from autodrag.toyfaces.params import Z_DIM, FaceParams, params_from_z

__all__ = ["RenderConfig", "Rendering", "mean_landmarks", "render_face", "render_seed", "render_z"]


@dataclass(frozen=True)
class RenderConfig:
    """How to rasterise a face."""

    resolution: int = 128  # output side in pixels (128 and 256 are the sizes we train on)
    supersample: int = 4  # canvas = resolution * supersample, box-filtered down (anti-aliasing)


@dataclass
class Rendering:
    """One rendered face."""

    image: np.ndarray  # uint8 [H, W, 3]
    landmarks: np.ndarray  # float32 [68, 2] iBUG-68 (x, y) pixels, pixel centres at integers
    eye_mask: np.ndarray  # float32 [H, W] in [0, 1]: both eye regions (lids and brows' lower edge)
    mouth_mask: np.ndarray  # float32 [H, W] in [0, 1]: lips and the area the open mouth can reach
    params: FaceParams  # what was rendered


class _Canvas:
    """A Pillow canvas that takes polygons in face units."""

    def __init__(self, image: Image.Image, to_canvas: np.ndarray):
        self.image = image
        self.to_canvas = to_canvas
        self.draw = ImageDraw.Draw(image)

    def fill(self, pts: np.ndarray, color: tuple[int, ...] | int) -> None:
        self.draw.polygon(apply_affine(self.to_canvas, pts).ravel().tolist(), fill=color)


def _background(size: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    t = np.linspace(0.0, 1.0, size)[:, None, None]
    column = (np.array(top)[None, None] * (1.0 - t) + np.array(bottom)[None, None] * t).astype(np.uint8)
    return Image.fromarray(column).resize((size, size), Image.Resampling.NEAREST)


def _ellipse_mask(ellipses: list[np.ndarray], to_px: np.ndarray, res: int) -> np.ndarray:
    """Soft union of ellipses (face units [[cx, cy], [ax, ay]]) on the output grid, float32 [H, W]."""
    inv = np.linalg.inv(to_px[:, :2])
    ys, xs = np.mgrid[0:res, 0:res].astype(np.float64)
    pix = np.stack([xs - to_px[0, 2], ys - to_px[1, 2]], axis=-1)
    face = pix @ inv.T  # [H, W, 2] face units
    px_per_unit = float(np.sqrt(abs(np.linalg.det(to_px[:, :2]))))
    out = np.zeros((res, res), dtype=np.float64)
    for (cx, cy), (ax, ay) in ellipses:
        r = np.sqrt(((face[..., 0] - cx) / ax) ** 2 + ((face[..., 1] - cy) / ay) ** 2)
        out = np.maximum(out, np.clip((1.0 - r) * min(ax, ay) * px_per_unit + 0.5, 0.0, 1.0))
    return out.astype(np.float32)


def _draw(c: _Canvas, s: FaceShapes, p: FaceParams) -> None:
    """Paint all parts in back-to-front order."""
    col = face_palette(p)
    c.fill(s.hair_back, col.hair_back)
    c.fill(s.shoulders, col.clothes)
    c.fill(s.neck, col.skin_shadow)
    for ear, inner in zip(s.ears, s.ear_inner):
        c.fill(ear, col.skin)
        c.fill(inner, col.skin_shadow)
    c.fill(s.face, col.skin)
    for cheek in s.cheeks:
        c.fill(cheek, col.blush)
    for socket in s.eye_sockets:
        c.fill(socket, col.skin_shadow if p.skin_tone > 0.5 else _mix(col.skin, col.skin_shadow, 0.5))
    c.fill(s.chin_shadow, _mix(col.skin, col.skin_shadow, 0.6))
    c.fill(s.under_nose, _mix(col.skin, col.skin_shadow, 0.5))
    for opening in s.eye_openings:
        c.fill(opening, col.eye_white)
    c.fill(s.mouth_inner, col.mouth)

    # Iris, pupil, glint, teeth and tongue are drawn on a copy and pasted through the openings.
    layer = _Canvas(c.image.copy(), c.to_canvas)
    for iris, pupil, glint in zip(s.irises, s.pupils, s.glints):
        layer.fill(iris, col.iris)
        layer.fill(pupil, (12, 10, 10))
        layer.fill(glint, (250, 250, 250))
    layer.fill(s.tongue, col.tongue)
    layer.fill(s.teeth, col.teeth)
    clip = _Canvas(Image.new("L", c.image.size, 0), c.to_canvas)
    for opening in s.eye_openings:
        clip.fill(opening, 255)
    clip.fill(s.mouth_inner, 255)
    c.image.paste(layer.image, (0, 0), clip.image)

    for crease, lower, lash in zip(s.creases, s.lower_lids, s.lash_lines):
        c.fill(crease, _mix(col.skin_shadow, col.skin_dark, 0.4))
        c.fill(lower, _mix(col.skin_shadow, col.skin_dark, 0.5))
        c.fill(lash, col.lash)
    for brow in s.brows:
        c.fill(brow, col.brow)
    c.fill(s.nose_shade, col.skin_shadow)
    c.fill(s.nose_base, _mix(col.skin_shadow, col.skin_dark, 0.35))
    c.fill(s.nose_tip, _mix(col.skin, (255, 255, 255), 0.12))
    for nostril in s.nostrils:
        c.fill(nostril, col.skin_dark)
    c.fill(s.upper_lip, _mix(col.lips, col.skin_dark, 0.12))
    c.fill(s.lower_lip, col.lips)
    c.fill(s.lip_seam, _mix(col.lips, col.skin_dark, 0.6))
    c.fill(s.hair_front, col.hair)
    c.fill(s.hair_shine, col.hair_shine)


def _mix(a: tuple[int, ...], b: tuple[int, ...], t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))  # type: ignore[return-value]


def render_face(params: FaceParams, config: RenderConfig = RenderConfig()) -> Rendering:
    """Render one face.

    Args:
        params: the face (see `params.FaceParams`).
        config: output size and anti-aliasing.
    Returns:
        A `Rendering` with image, landmarks [68, 2] (x, y) and the two region masks.
    """
    res, ss = config.resolution, config.supersample
    shapes = face_shapes(params)
    to_px = pose_affine(params, res)
    to_canvas = to_px * ss
    to_canvas[:, 2] += (ss - 1) / 2.0  # canvas pixel centres of output pixel (0, 0) average here
    palette = face_palette(params)
    canvas = _Canvas(_background(res * ss, palette.bg_top, palette.bg_bottom), to_canvas)
    _draw(canvas, shapes, params)
    image = canvas.image.reduce(ss) if ss > 1 else canvas.image
    return Rendering(
        image=np.asarray(image, dtype=np.uint8).copy(),
        landmarks=apply_affine(to_px, shapes.landmarks).astype(np.float32),
        eye_mask=_ellipse_mask(shapes.eye_mask_ellipses, to_px, res),
        mouth_mask=_ellipse_mask([shapes.mouth_mask_ellipse], to_px, res),
        params=params,
    )


def render_z(z: np.ndarray, config: RenderConfig = RenderConfig()) -> list[Rendering]:
    """Render the face of each row of z (float [N, Z_DIM]; normalised inside, as G sees it)."""
    return [render_face(p, config) for p in params_from_z(z)]


def render_seed(seed: int, config: RenderConfig = RenderConfig()) -> Rendering:
    """Render the face for `seed`: the z `generate --seeds` uses, z_from_seed(seed, Z_DIM)."""
    return render_z(z_from_seed(seed, Z_DIM), config)[0]


def mean_landmarks(resolution: int, count: int = 64) -> np.ndarray:
    """Mean landmarks float64 [68, 2] (x, y) of the renders of seeds 0..count-1 at `resolution` px.

    This is the framing the bundled detector was trained on; it ships in the detector's JSON
    (`framing`), where the toy face search and the bundled model's photo alignment read it.
    """
    z = np.concatenate([z_from_seed(s, Z_DIM) for s in range(count)])
    return np.mean(
        [apply_affine(pose_affine(p, resolution), face_shapes(p).landmarks) for p in params_from_z(z)], axis=0
    )
