"""The iBUG-68 points by name, as 0-based landmark rows: the one vocabulary for presets and measures.

Row i is the 1-based point i + 1 people use when talking about landmarks (`point(n)`, `number(row)`);
"left"/"right" mean image-left / image-right (see `landmarks.base` for the full layout). Regions are
tuples of rows, single points ints, lid and lip lines tuples ordered image-left to image-right.
"""

from __future__ import annotations

__all__ = [
    "BROWS",
    "BROW_LEFT",
    "BROW_RIGHT",
    "CHIN",
    "EYES",
    "EYE_CORNERS",
    "EYE_LEFT",
    "EYE_RIGHT",
    "INNER_LOWER",
    "INNER_UPPER",
    "JAW",
    "LEFT_EYE_INNER",
    "LEFT_EYE_OUTER",
    "LEFT_LOWER_LID",
    "LEFT_UPPER_LID",
    "LIPS",
    "LIPS_INNER",
    "LIPS_OUTER",
    "LOWER_LIP_BOTTOM",
    "MOUTH_INNER_LEFT",
    "MOUTH_INNER_RIGHT",
    "MOUTH_LEFT",
    "MOUTH_RIGHT",
    "NOSE_BRIDGE",
    "NOSE_TIP",
    "NOSTRILS",
    "NUM_LANDMARKS",
    "OUTER_EYE_CORNERS",
    "RIGHT_EYE_INNER",
    "RIGHT_EYE_OUTER",
    "RIGHT_LOWER_LID",
    "RIGHT_UPPER_LID",
    "SUBNASALE",
    "UPPER_LIP_TOP",
    "number",
    "point",
]

NUM_LANDMARKS = 68


def point(n: int) -> int:
    """The 0-based row of the 1-based iBUG point `n`."""
    if not 1 <= n <= NUM_LANDMARKS:
        raise ValueError(f"iBUG points are numbered 1..{NUM_LANDMARKS}, got {n}")
    return n - 1


def number(row: int) -> int:
    """The 1-based iBUG point number of the 0-based `row` (for messages and records)."""
    return int(row) + 1


# Regions (points in brackets).
JAW = tuple(range(0, 17))  # [1-17] image-left ear over the chin to the image-right ear
BROW_LEFT = tuple(range(17, 22))  # [18-22] outer end first
BROW_RIGHT = tuple(range(22, 27))  # [23-27] inner end first
BROWS = BROW_LEFT + BROW_RIGHT
NOSE_BRIDGE = tuple(range(27, 31))  # [28-31] top to tip
NOSTRILS = tuple(range(31, 36))  # [32-36] image-left to image-right
EYE_LEFT = tuple(range(36, 42))  # [37-42]
EYE_RIGHT = tuple(range(42, 48))  # [43-48]
EYES = EYE_LEFT + EYE_RIGHT
LIPS_OUTER = tuple(range(48, 60))  # [49-60]
LIPS_INNER = tuple(range(60, 68))  # [61-68]
LIPS = LIPS_OUTER + LIPS_INNER

# Single points.
CHIN = 8  # [9]
NOSE_TIP = 30  # [31]
SUBNASALE = 33  # [34] the middle of the nostrils
LEFT_EYE_OUTER, LEFT_EYE_INNER = 36, 39  # [37], [40]
RIGHT_EYE_INNER, RIGHT_EYE_OUTER = 42, 45  # [43], [46]
OUTER_EYE_CORNERS = (LEFT_EYE_OUTER, RIGHT_EYE_OUTER)  # they define the inter-ocular distance
EYE_CORNERS = (LEFT_EYE_OUTER, LEFT_EYE_INNER, RIGHT_EYE_INNER, RIGHT_EYE_OUTER)
LEFT_UPPER_LID, LEFT_LOWER_LID = (37, 38), (41, 40)  # [38, 39] above [42, 41]
RIGHT_UPPER_LID, RIGHT_LOWER_LID = (43, 44), (47, 46)  # [44, 45] above [48, 47]
MOUTH_LEFT, MOUTH_RIGHT = 48, 54  # [49], [55] the mouth corners
UPPER_LIP_TOP, LOWER_LIP_BOTTOM = 51, 57  # [52], [58] outer lips, middle
MOUTH_INNER_LEFT, MOUTH_INNER_RIGHT = 60, 64  # [61], [65] inner lip corners
INNER_UPPER, INNER_LOWER = (61, 62, 63), (67, 66, 65)  # [62, 63, 64] above [68, 67, 66]
