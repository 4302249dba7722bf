"""Geometric rules that turn 68 landmarks into drag handles and targets.

All points here are (x, y) pixels (the landmark convention, see `landmarks.base`); indices are
0-based rows (iBUG point n is row n - 1, named in `landmarks.ibug`). Directions that depend on the face ("up", "out") are
taken from the eye line, so a slightly rotated face is handled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from autodrag.landmarks import ibug

__all__ = [
    "Moves",
    "drag_with_falloff",
    "face_axes",
    "jaw_width_px",
    "meet_at_midpoints",
    "move_apart",
    "move_toward",
    "pairs_toward_each_other",
]


@dataclass
class Moves:
    """Handles and their targets, (x, y) pixels, float32 [K, 2] each, and the landmark row of each handle.

    Anchors are points whose content must stay where it is (a shut eye's lower lid while its upper lid rises).
    """

    handles: np.ndarray
    targets: np.ndarray
    rows: np.ndarray  # int [K]: 0-based landmark row each handle sits on
    anchors: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.float32))  # [A, 2] (x, y)
    anchor_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # [A] landmark rows

    def add_anchors(self, lm: np.ndarray, anchor_rows: list[int]) -> None:
        """Hold the landmarks `anchor_rows` (0-based) where they are in `lm`."""
        self.anchors = np.concatenate([self.anchors.reshape(-1, 2), lm[anchor_rows]]).astype(np.float32)
        self.anchor_rows = np.concatenate([self.anchor_rows, np.asarray(anchor_rows, dtype=np.int64)])

    @staticmethod
    def concat(moves: list[Moves]) -> Moves:
        return Moves(
            np.concatenate([m.handles for m in moves]).astype(np.float32),
            np.concatenate([m.targets for m in moves]).astype(np.float32),
            np.concatenate([m.rows for m in moves]).astype(np.int64),
            np.concatenate([m.anchors.reshape(-1, 2) for m in moves]).astype(np.float32),
            np.concatenate([m.anchor_rows for m in moves]).astype(np.int64),
        )


def _pair_rows(pairs: list[tuple[int, int]]) -> np.ndarray:
    return np.array([i for i, _ in pairs] + [j for _, j in pairs])


def face_axes(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors (right, up) of the face in image (x, y) coordinates, from the outer eye corners."""
    right = lm[ibug.RIGHT_EYE_OUTER] - lm[ibug.LEFT_EYE_OUTER]
    right = right / max(float(np.linalg.norm(right)), 1e-6)
    up = np.array([right[1], -right[0]])  # image y points down
    return right, up


def jaw_width_px(lm: np.ndarray) -> float:
    """Pixels between jaw points [2] and [16] (the widest mirrored pair the presets move)."""
    return float(np.linalg.norm(lm[ibug.JAW[-2]] - lm[ibug.JAW[1]]))


def meet_at_midpoints(lm: np.ndarray, pairs: list[tuple[int, int]], strength: float) -> Moves:
    """Both points of each pair move toward the pair's midpoint; strength 1 (or more) makes them meet."""
    s = min(strength, 1.0)  # past the midpoint the points would cross
    a, b = lm[[i for i, _ in pairs]], lm[[j for _, j in pairs]]
    mid = (a + b) / 2
    return Moves(
        np.concatenate([a, b]), np.concatenate([a + s * (mid - a), b + s * (mid - b)]), _pair_rows(pairs)
    )


def move_apart(
    lm: np.ndarray, pairs: list[tuple[int, int]], strength: float, min_gap_px: float = 0.0
) -> Moves:
    """Along each pair's ray a -> b, a and b move apart so their distance grows by strength x itself.

    A pair closer than `min_gap_px` (a shut eye) opens by strength x `min_gap_px` instead, and only
    `a` moves (away from b, or up the face when they coincide) while b is an anchor: two handles on
    one pixel pulled opposite ways would cancel, a free b lets the whole eye slide along with a, and a
    shut eye opens by its upper lid.
    """
    a, b = lm[[i for i, _ in pairs]], lm[[j for _, j in pairs]]
    gap = np.linalg.norm(b - a, axis=1, keepdims=True)
    _, up = face_axes(lm)
    direction = np.where(gap > 0.25 * max(min_gap_px, 1e-6), (b - a) / np.maximum(gap, 1e-6), -up)
    shut = gap[:, 0] < min_gap_px
    offset = direction * np.where(shut[:, None], min_gap_px * strength, gap * strength / 2)  # open: half each
    rows_a, rows_b = np.array([i for i, _ in pairs]), np.array([j for _, j in pairs])
    moves = Moves(
        np.concatenate([a, b[~shut]]),
        np.concatenate([a - offset, (b + offset)[~shut]]),
        np.concatenate([rows_a, rows_b[~shut]]),
    )
    moves.add_anchors(lm, list(rows_b[shut]))
    return moves


def move_toward(lm: np.ndarray, moving: list[int], goals: list[int], strength: float) -> Moves:
    """Each `moving` point goes the fraction `strength` of the way to its `goals` point."""
    a, g = lm[moving], lm[goals]
    return Moves(a, a + strength * (g - a), np.array(moving))


def drag_with_falloff(
    lm: np.ndarray, center: int, neighbours: list[int], anchor_a: int, anchor_b: int, displacement: np.ndarray
) -> Moves:
    """`center` moves by `displacement`; each neighbour by a share that falls to 0 at the anchors.

    The share follows an oval through the anchors, sqrt(1 - t^2) with t = (the neighbour's distance from
    the centre) / (the nearer anchor's), measured along the anchor line (for the lips: corners 61 and 65
    stay, 63 moves fully, and the open mouth is an ellipse rather than a diamond).
    """
    axis = lm[anchor_b] - lm[anchor_a]
    axis = axis / max(float(np.linalg.norm(axis)), 1e-6)
    handles, targets = [lm[center]], [lm[center] + displacement]
    for n in neighbours:
        along = float(np.dot(lm[n] - lm[center], axis))
        reach = float(np.dot((lm[anchor_b] if along > 0 else lm[anchor_a]) - lm[center], axis))
        t = along / reach if abs(reach) > 1e-6 else 1.0
        share = float(np.sqrt(max(0.0, 1 - t * t)))
        handles.append(lm[n])
        targets.append(lm[n] + share * displacement)
    return Moves(np.array(handles), np.array(targets), np.array([center, *neighbours]))


def pairs_toward_each_other(lm: np.ndarray, pairs: list[tuple[int, int]], distance_px: float) -> Moves:
    """Both points of each pair move `distance_px` toward each other along the line joining them."""
    a, b = lm[[i for i, _ in pairs]], lm[[j for _, j in pairs]]
    unit = (b - a) / np.maximum(np.linalg.norm(b - a, axis=1, keepdims=True), 1e-6)
    return Moves(
        np.concatenate([a, b]),
        np.concatenate([a + distance_px * unit, b - distance_px * unit]),
        _pair_rows(pairs),
    )
