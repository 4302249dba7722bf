"""Face geometry: the 68 landmarks and every drawn outline, from one set of curves.

All shapes are computed in *face units* before the pose: x to the image right, y down, origin at
the image centre, 1.0 = the image side.  Landmarks are samples of the very curves that outline the
drawn parts, so they are exact by construction (for example, a closed eye's upper-lid samples
coincide with its lower-lid samples).  `render.py` maps everything to pixels with `pose_affine`.

Landmark order is iBUG-68 as face-alignment returns it, described once in
`autodrag.landmarks.base`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autodrag.toyfaces.params import FaceParams

__all__ = ["FaceShapes", "apply_affine", "face_shapes", "pose_affine"]

# Layout constants, face units (image side = 1, origin at the image centre, y down).
EYE_Y = -0.05  # eye line (corners of both eyes)
EYE_CX = 0.135  # |x| of each eye centre
TOP_Y = -0.40  # top of the skull (skin), before hair
EAR_LEVEL = 0.03  # jaw landmarks 1 and 17 sit this far below the eye line
N_DENSE = 48  # samples per drawn curve


@dataclass
class FaceShapes:
    """Landmarks and outlines of one face in face units (all float64 arrays of (x, y) rows)."""

    landmarks: np.ndarray  # [68, 2] iBUG-68, 0-based rows
    face: np.ndarray  # skin outline: forehead arc + jaw
    neck: np.ndarray  # neck polygon
    shoulders: np.ndarray  # clothes polygon
    ears: list[np.ndarray]  # outer ear ellipses
    ear_inner: list[np.ndarray]  # darker inner-ear ellipses
    hair_back: np.ndarray  # hair behind the head
    hair_front: np.ndarray  # hair cap / locks in front of the face
    hair_shine: np.ndarray  # lighter band on the crown
    brows: list[np.ndarray]  # brow polygons (image-left, image-right)
    eye_sockets: list[np.ndarray]  # slightly darker skin around each eye
    eye_openings: list[np.ndarray]  # visible eyeball (upper lid curve + lower lid curve)
    irises: list[np.ndarray]  # iris circles (clipped to the openings when drawn)
    pupils: list[np.ndarray]  # pupil circles (clipped)
    glints: list[np.ndarray]  # specular highlights (clipped)
    lash_lines: list[np.ndarray]  # dark upper-lid bands
    lower_lids: list[np.ndarray]  # thin lower-lid bands
    creases: list[np.ndarray]  # upper-lid creases
    nose_shade: np.ndarray  # side of the nose bridge
    nose_tip: np.ndarray  # lighter nose tip
    nostrils: list[np.ndarray]  # dark nostril holes
    nose_base: np.ndarray  # ala / columella shadow band
    under_nose: np.ndarray  # shadow between nose and lip
    cheeks: list[np.ndarray]  # blush ellipses
    upper_lip: np.ndarray  # upper lip polygon
    lower_lip: np.ndarray  # lower lip polygon
    mouth_inner: np.ndarray  # dark mouth opening (inner lips)
    teeth: np.ndarray  # upper teeth (clipped to the opening)
    tongue: np.ndarray  # tongue (clipped to the opening)
    lip_seam: np.ndarray  # thin dark band along the line where the lips meet
    chin_shadow: np.ndarray  # shadow under the lower lip
    eye_mask_ellipses: list[np.ndarray]  # [3] centre x, centre y, (semi-axis x, semi-axis y) rows
    mouth_mask_ellipse: np.ndarray  # same layout, for the mouth region


def _ellipse(cx: float, cy: float, ax: float, ay: float, n: int = 28) -> np.ndarray:
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    return np.stack([cx + ax * np.cos(t), cy + ay * np.sin(t)], axis=1)


def _band(center: np.ndarray, half_width: np.ndarray) -> np.ndarray:
    """Polygon of a stroke of varying half width along a polyline [K, 2]."""
    d = np.gradient(center, axis=0)
    n = np.stack([-d[:, 1], d[:, 0]], axis=1)
    n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-12
    hw = np.broadcast_to(half_width, center.shape[:1])[:, None]
    return np.concatenate([center + n * hw, (center - n * hw)[::-1]], axis=0)


def _resample_by_length(curve: np.ndarray, count: int) -> np.ndarray:
    """`count` points equally spaced along a dense polyline (ends included)."""
    seg = np.linalg.norm(np.diff(curve, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    target = np.linspace(0.0, s[-1], count)
    return np.stack([np.interp(target, s, curve[:, 0]), np.interp(target, s, curve[:, 1])], axis=1)


def _jaw(p: FaceParams, drop: float) -> tuple[np.ndarray, float, float]:
    """Dense jaw curve from the image-left ear to the image-right ear, its half width and top y."""
    half_w = 0.265 + 0.035 * p.jaw_width
    top = EYE_Y + EAR_LEVEL
    chin = 0.32 + 0.045 * p.face_length + drop
    exponent = 1.2 - 0.65 * p.jaw_width  # superellipse-like: >1 pointed chin, <1 boxy/round jaw
    theta = np.linspace(np.pi, 0.0, 4 * N_DENSE + 1)
    c, s = np.cos(theta), np.sin(theta)
    x = half_w * np.sign(c) * np.abs(c) ** exponent
    y = top + (chin - top) * s
    return np.stack([x, y], axis=1), half_w, top


@dataclass
class _EyeParts:
    """One eye's landmarks (37-42 or 43-48 order) and drawn parts."""

    marks: np.ndarray  # [6, 2]
    opening: np.ndarray  # visible eyeball polygon
    iris: np.ndarray
    pupil: np.ndarray
    glint: np.ndarray
    lash: np.ndarray
    lower_lid: np.ndarray
    crease: np.ndarray
    socket: np.ndarray


@dataclass
class _MouthParts:
    """The 20 mouth landmarks (49-68) and the drawn mouth parts."""

    marks: np.ndarray  # [20, 2]
    upper_lip: np.ndarray
    lower_lip: np.ndarray
    inner: np.ndarray
    teeth: np.ndarray
    tongue: np.ndarray
    seam: np.ndarray
    chin_shadow: np.ndarray


def _eye(p_open: float, cx: float, width: float, gaze: float, outer_is_left: bool) -> _EyeParts:
    """Lid curves, landmarks and drawn parts of one eye.  t runs image-left -> image-right."""
    t = np.linspace(0.0, 1.0, N_DENSE)
    tau = t if outer_is_left else 1.0 - t  # 0 at the outer corner, 1 at the inner corner
    x = cx - width / 2 + width * t
    base = EYE_Y + 0.004 * (tau - 0.5) + 0.006 * np.sin(np.pi * t)  # closed-lid line, sags slightly
    skew = 1.0 - (1.0 - tau) ** 0.85  # upper-lid peak a little towards the nose
    bump_up = np.sin(np.pi * skew) ** 0.7
    bump_lo = np.sin(np.pi * tau) ** 0.9
    upper = np.stack([x, base - p_open * 0.34 * width * bump_up], axis=1)
    lower = np.stack([x, base + p_open * 0.16 * width * bump_lo], axis=1)
    # Landmarks at t = 0, ~1/3, ~2/3, 1 on the upper lid and ~2/3, ~1/3 on the lower lid (image
    # order).  Both lids share `base` and the sample index, so they coincide when the eye is closed.
    k = (N_DENSE - 1) / 3.0
    i1, i2 = round(k), round(2 * k)
    marks = np.stack([upper[0], upper[i1], upper[i2], upper[-1], lower[i2], lower[i1]])
    opening = np.concatenate([upper, lower[::-1][1:-1]], axis=0)
    iris_r = 0.21 * width
    icx = cx + gaze * 0.17 * width
    icy = EYE_Y + 0.004 - 0.05 * width * p_open
    lash_w = (0.0035 + 0.003 * np.sin(np.pi * t) ** 0.5) * (1.0 + 0.3 * (1.0 - tau))
    lash_center = upper - np.stack([np.zeros_like(t), 0.6 * lash_w], axis=1)
    if outer_is_left:  # a small wing flicks out and up from the outer corner
        wing = upper[0] + np.array([-0.012, -0.006])
        lash_center = np.concatenate([wing[None], lash_center])
        lash_w = np.concatenate([[0.0005], lash_w])
    else:
        wing = upper[-1] + np.array([0.012, -0.006])
        lash_center = np.concatenate([lash_center, wing[None]])
        lash_w = np.concatenate([lash_w, [0.0005]])
    crease_y = upper[:, 1] - (0.016 + 0.012 * (1.0 - p_open)) * np.sin(np.pi * t) ** 0.8 - 0.004
    crease = np.stack([x, crease_y], axis=1)[4:-4]
    lower_band = lower + np.stack([np.zeros_like(t), np.full_like(t, 0.0018)], axis=1)
    return _EyeParts(
        marks=marks,
        opening=opening,
        iris=_ellipse(icx, icy, iris_r, iris_r, 32),
        pupil=_ellipse(icx, icy, 0.45 * iris_r, 0.45 * iris_r, 20),
        glint=_ellipse(icx - 0.35 * iris_r, icy - 0.4 * iris_r, 0.2 * iris_r, 0.2 * iris_r, 12),
        lash=_band(lash_center, lash_w),
        lower_lid=_band(lower_band, np.full(len(t), 0.0014)),
        crease=_band(crease, np.full(len(crease), 0.0016)),
        socket=_ellipse(
            cx + (0.08 if outer_is_left else -0.08) * width, EYE_Y - 0.012, 0.68 * width, 0.05 + 0.1 * width
        ),
    )


def _brow(p: FaceParams, cx: float, width: float, outer_is_left: bool) -> tuple[np.ndarray, np.ndarray]:
    """Five landmarks (outer -> inner) and the polygon of one brow."""
    tau = np.linspace(0.0, 1.0, N_DENSE)  # 0 outer end .. 1 inner end
    side = -1.0 if outer_is_left else 1.0  # direction of the outer end
    x = cx + side * (0.6 * width - 1.05 * width * tau)
    y_base = EYE_Y - (0.068 + 0.045 * p.brow_height)
    y = y_base - 0.02 * np.sin(np.pi * (0.15 + 0.75 * tau)) - 0.02 * p.brow_tilt * (tau - 0.5)
    center = np.stack([x, y], axis=1)
    marks = center[np.round(np.linspace(0, N_DENSE - 1, 5)).astype(int)]
    thick = (0.014 + 0.012 * p.brow_thickness) * (0.45 + 0.55 * np.sin(np.pi * (0.1 + 0.9 * tau)) ** 0.3)
    return marks, _band(center, thick / 2)


def _mouth(p: FaceParams, y_m: float) -> _MouthParts:
    """Lip curves, the 20 mouth landmarks (49-68) and the drawn mouth parts."""
    half_w = (0.095 + 0.03 * p.mouth_width) * (1.0 + 0.12 * max(p.smile, 0.0)) * (1.0 - 0.1 * p.mouth_open)
    xh = np.linspace(-1.0, 1.0, 2 * N_DENSE + 1)  # normalised x, -1 at the image-left corner
    seam = y_m - 0.032 * p.smile * xh**2
    gap = 0.13 * p.mouth_open * np.clip(1.0 - (xh / 0.9) ** 2, 0.0, None) ** 0.6
    up_in = seam - 0.25 * gap
    lo_in = seam + 0.75 * gap
    envelope_u = np.clip(1.0 - xh**2, 0.0, None) ** 0.45
    bow = 1.0 - 0.25 * np.exp(-((xh / 0.14) ** 2))
    up_out = up_in - (0.016 + 0.012 * p.lip_thickness) * envelope_u * bow
    lo_out = lo_in + (0.022 + 0.014 * p.lip_thickness) * np.clip(1.0 - xh**2, 0.0, None) ** 0.6
    x = xh * half_w

    def at(curve: np.ndarray, xs: list[float]) -> np.ndarray:
        return np.stack([np.asarray(xs) * half_w, np.interp(xs, xh, curve)], axis=1)

    outer_top = at(up_out, [-1.0, -0.62, -0.28, 0.0, 0.28, 0.62, 1.0])  # 49-55
    outer_bot = at(lo_out, [0.62, 0.28, 0.0, -0.28, -0.62])  # 56-60
    inner_top = at(up_in, [-0.9, -0.45, 0.0, 0.45, 0.9])  # 61-65
    inner_bot = at(lo_in, [0.45, 0.0, -0.45])  # 66-68
    marks = np.concatenate([outer_top, outer_bot, inner_top, inner_bot])

    inside = np.abs(xh) <= 0.9
    xi, ui, li = x[inside], up_in[inside], lo_in[inside]
    top_pts = np.stack([x, up_out], 1)
    bot_pts = np.stack([x, lo_out], 1)
    upper_inner_pts = np.stack([xi, ui], 1)
    lower_inner_pts = np.stack([xi, li], 1)
    teeth_bottom = ui + np.minimum(0.024, 0.6 * (li - ui))
    tongue_y = float(np.interp(0.0, xh, lo_in))
    return _MouthParts(
        marks=marks,
        upper_lip=np.concatenate([top_pts, upper_inner_pts[::-1]]),
        lower_lip=np.concatenate([bot_pts, lower_inner_pts[::-1]]),
        inner=np.concatenate([upper_inner_pts, lower_inner_pts[::-1]]),
        teeth=np.concatenate([upper_inner_pts, np.stack([xi, teeth_bottom], 1)[::-1]]),
        tongue=_ellipse(0.0, tongue_y - 0.004, 0.6 * half_w, 0.035),
        seam=_band(np.stack([x, seam + 0.2 * gap], 1)[4:-4], np.full(len(x) - 8, 0.0018)),
        chin_shadow=_ellipse(0.0, float(np.max(lo_out)) + 0.022, 0.55 * half_w, 0.016, 24),
    )


def face_shapes(p: FaceParams) -> FaceShapes:
    """Landmarks and outlines of the face `p`, in face units (see module docstring)."""
    eye_w = 0.115 + 0.035 * p.eye_size
    nose_len = 0.105 + 0.04 * p.nose_length
    nose_hw = 0.04 + 0.025 * p.nose_width
    tip_y = EYE_Y + nose_len
    nostril_y = tip_y + 0.02
    mouth_y = nostril_y + 0.07
    jaw_drop = 0.06 * p.mouth_open  # the chin follows the lower lip
    jaw_dense, half_w, ear_y = _jaw(p, jaw_drop)
    jaw_marks = _resample_by_length(jaw_dense, 17)

    phi = np.linspace(0.0, np.pi, 2 * N_DENSE)
    forehead = np.stack([-half_w * np.cos(phi), ear_y - (ear_y - TOP_Y) * np.sin(phi)], axis=1)
    face = np.concatenate([forehead, jaw_dense[::-1][1:-1]])

    eyes = [
        _eye(p.eye_open_left, -EYE_CX, eye_w, p.gaze_x, True),
        _eye(p.eye_open_right, EYE_CX, eye_w, p.gaze_x, False),
    ]
    brow_l, brow_poly_l = _brow(p, -EYE_CX, eye_w, True)
    brow_r, brow_poly_r = _brow(p, EYE_CX, eye_w, False)

    bridge = np.stack([np.zeros(4), np.linspace(EYE_Y, tip_y, 4)], axis=1)  # 28-31
    nostril_marks = np.stack(
        [
            np.array([-1.0, -0.5, 0.0, 0.5, 1.0]) * nose_hw,
            nostril_y + np.array([-0.008, 0.002, 0.006, 0.002, -0.008]),
        ],
        axis=1,
    )  # 32-36
    mouth = _mouth(p, mouth_y)

    landmarks = np.concatenate(
        [
            jaw_marks,
            brow_l,
            brow_r[::-1],
            bridge,
            nostril_marks,
            eyes[0].marks,
            eyes[1].marks,
            mouth.marks,
        ]
    )
    assert landmarks.shape == (68, 2)

    # Nose drawing.
    bt = np.linspace(0.0, 1.0, N_DENSE)
    shade_center = np.stack([-0.022 - 0.01 * bt**2, EYE_Y + 0.02 + bt * (nose_len - 0.03)], axis=1)
    nose_shade = _band(shade_center, 0.004 * np.sin(np.pi * bt) ** 0.5 + 0.0005)
    a = np.linspace(-1.0, 1.0, N_DENSE)
    base_curve = np.stack([a * nose_hw, nostril_y - 0.008 + 0.014 * (1.0 - a**2) ** 0.7], axis=1)
    nose_base = _band(base_curve, 0.003 + 0.002 * (1.0 - a**2))
    nostrils = [_ellipse(s * 0.55 * nose_hw, nostril_y + 0.0, 0.22 * nose_hw, 0.007, 16) for s in (-1.0, 1.0)]

    # Hair.
    vol = 0.015 + 0.06 * p.hair_volume
    hair_end = EYE_Y - 0.02 + (0.6 - EYE_Y) * p.hair_length
    temple_y = EYE_Y - 0.06
    ax, ay = half_w + vol, (ear_y - TOP_Y) + vol + 0.01
    top_arc = np.stack([-ax * np.cos(phi), ear_y - ay * np.sin(phi)], axis=1)
    back_end = max(hair_end, ear_y + 0.03)
    flare = 0.04 * p.hair_volume * p.hair_length
    hair_back = np.concatenate([[[-ax - flare, back_end]], top_arc, [[ax + flare, back_end]]])
    inner_x = half_w - 0.012
    mid_y = -0.30 + 0.09 * p.fringe
    power = 2.0 + 6.0 * p.fringe
    hx = np.linspace(inner_x, -inner_x, 2 * N_DENSE)
    hairline = np.stack([hx, mid_y + (temple_y - mid_y) * np.abs(hx / inner_x) ** power], axis=1)
    front_end = max(hair_end, temple_y)
    side = 0.008 + 0.5 * vol * min(1.0, 3.0 * p.hair_length)
    hair_front = np.concatenate(
        [
            [[-ax - flare, front_end]],
            top_arc,
            [[ax + flare, front_end]],
            [[inner_x + side * 0.0, front_end]],
            hairline,
            [[-inner_x, front_end]],
        ]
    )
    shine_phi = np.linspace(0.25 * np.pi, 0.75 * np.pi, N_DENSE)
    r_out, r_in = 0.94, 0.82
    shine = np.concatenate(
        [
            np.stack([-ax * r_out * np.cos(shine_phi), ear_y - ay * r_out * np.sin(shine_phi)], 1),
            np.stack([-ax * r_in * np.cos(shine_phi), ear_y - ay * r_in * np.sin(shine_phi)], 1)[::-1],
        ]
    )

    ear_y_c = EYE_Y + 0.07
    ears = [_ellipse(s * (half_w - 0.004), ear_y_c, 0.034, 0.068) for s in (-1.0, 1.0)]
    ear_inner = [_ellipse(s * (half_w + 0.006), ear_y_c, 0.016, 0.042) for s in (-1.0, 1.0)]
    neck_w = 0.5 * half_w + 0.02
    neck = np.array(
        [[-neck_w, ear_y + 0.1], [neck_w, ear_y + 0.1], [neck_w + 0.02, 0.62], [-neck_w - 0.02, 0.62]]
    )
    sx = np.linspace(-1.0, 1.0, 2 * N_DENSE)
    shoulders = np.concatenate(
        [
            np.stack([sx * 0.75, 0.43 + 0.1 * sx**2], 1),
            [[0.75, 0.7], [-0.75, 0.7]],
        ]
    )

    cheeks = [_ellipse(s * (EYE_CX + 0.01), mouth_y - 0.065, 0.045, 0.028, 20) for s in (-1.0, 1.0)]
    mouth_mask = np.array([[0.0, mouth_y + 0.03], [1.25 * 0.125 * 1.12, 0.115]])
    eye_masks = [
        np.array([[s * EYE_CX, EYE_Y - 0.012], [0.7 * eye_w + 0.01, 0.055 + 0.1 * eye_w]])
        for s in (-1.0, 1.0)
    ]
    return FaceShapes(
        landmarks=landmarks,
        face=face,
        neck=neck,
        shoulders=shoulders,
        ears=ears,
        ear_inner=ear_inner,
        hair_back=hair_back,
        hair_front=hair_front,
        hair_shine=shine,
        brows=[brow_poly_l, brow_poly_r],
        eye_sockets=[e.socket for e in eyes],
        eye_openings=[e.opening for e in eyes],
        irises=[e.iris for e in eyes],
        pupils=[e.pupil for e in eyes],
        glints=[e.glint for e in eyes],
        lash_lines=[e.lash for e in eyes],
        lower_lids=[e.lower_lid for e in eyes],
        creases=[e.crease for e in eyes],
        nose_shade=nose_shade,
        nose_tip=_ellipse(0.0, tip_y - 0.004, 0.55 * nose_hw, 0.016, 20),
        nostrils=nostrils,
        nose_base=nose_base,
        under_nose=_ellipse(0.0, nostril_y + 0.016, 0.7 * nose_hw, 0.01, 20),
        cheeks=cheeks,
        upper_lip=mouth.upper_lip,
        lower_lip=mouth.lower_lip,
        mouth_inner=mouth.inner,
        teeth=mouth.teeth,
        tongue=mouth.tongue,
        lip_seam=mouth.seam,
        chin_shadow=mouth.chin_shadow,
        eye_mask_ellipses=eye_masks,
        mouth_mask_ellipse=mouth_mask,
    )


def pose_affine(p: FaceParams, res: int) -> np.ndarray:
    """2x3 matrix mapping face units to output pixels (x, y); pixel centres at integers.

    Args:
        p: face parameters (rotation, scale, shift_x, shift_y are used).
        res: output image side in pixels.
    Returns:
        float64 [2, 3]: ``[x_px, y_px] = M[:, :2] @ [x, y] + M[:, 2]``.
    """
    a = np.deg2rad(p.rotation)
    rot = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])  # CCW on screen (y down)
    linear = res * p.scale * rot
    offset = res * (0.5 + np.array([p.shift_x, p.shift_y])) - 0.5
    return np.concatenate([linear, offset[:, None]], axis=1)


def apply_affine(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine to points [K, 2]."""
    return pts @ m[:, :2].T + m[:, 2]
