"""The one pixel-centre rescale (`autodrag.pixels`) and that no hand-written copy of it is left."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import numpy as np
import pytest
import torch

from autodrag.landmarks.heatmap_net import soft_argmax
from autodrag.pixels import rescale_points, size_ratio

ROOT = Path(__file__).resolve().parents[1]


def test_image_edges_map_to_image_edges_and_centres_to_centres():
    # A 4-pixel row spans [-0.5, 3.5]; at 8 pixels it spans [-0.5, 7.5].
    edges = rescale_points(np.array([-0.5, 3.5]), 8 / 4)
    assert edges.tolist() == [-0.5, 7.5]
    # Pixel 0 of the small image covers pixels 0 and 1 of the large one: its centre is 0.5.
    assert rescale_points(0.0, 2.0) == 0.5
    # Downscaling 512 -> 128: pixels 0..3 become pixel 0, whose centre is their mean 1.5 -> 0.
    assert rescale_points(1.5, 128 / 512) == 0.0


def test_round_trip_and_per_axis_scale():
    xy = np.random.RandomState(0).rand(10, 2).astype(np.float32) * 100
    to = size_ratio((90, 120), (256, 256))
    back = size_ratio((256, 256), (90, 120))
    np.testing.assert_allclose(rescale_points(rescale_points(xy, to), back), xy, atol=1e-4)
    # x follows the width ratio, y the height ratio.
    out = rescale_points(np.array([[89.5, -0.5]], np.float32), to)
    np.testing.assert_allclose(out, [[255.5, -0.5]], atol=1e-5)


@pytest.mark.parametrize(
    "points, scale, dtype",
    [
        (np.zeros((3, 2), np.float32), np.float32(2.0), np.float32),
        (np.zeros((3, 2), np.float32), size_ratio((1, 1), (3, 5)), np.float32),
        (np.zeros((3, 2), np.float64), 2.5, np.float64),
        (torch.zeros(3, 2), 4, torch.float32),
        (torch.zeros(3, 2, dtype=torch.float64), torch.tensor([2.0, 3.0]), torch.float64),
    ],
)
def test_keeps_the_dtype(points, scale, dtype):
    assert rescale_points(points, scale).dtype == dtype


def test_same_bits_as_the_formula_it_replaced():
    p = torch.randn(1000, 2, dtype=torch.float32) * 300
    s = torch.tensor([512 / 128, 384 / 128])
    assert torch.equal(rescale_points(p, s), (p + 0.5) * s - 0.5)
    q = p.numpy().astype(np.float64)
    assert np.array_equal(rescale_points(q, 3.7), (q + 0.5) * 3.7 - 0.5)


def test_size_ratio_rejects_empty_sizes():
    assert size_ratio((128, 64), (256, 256)).tolist() == [2.0, 4.0]
    with pytest.raises(ValueError, match="positive"):
        size_ratio((0, 64), (256, 256))


def test_soft_argmax_puts_a_cell_at_the_centre_of_its_pixels():
    logits = torch.full((1, 1, 8, 8), -1e4)
    logits[0, 0, 2, 5] = 1e4  # row 2, column 5; stride 4: columns 20..23, rows 8..11
    assert soft_argmax(logits, 4)[0, 0].tolist() == [21.5, 9.5]


def _code_lines(source: str) -> dict[int, str]:
    """Line number -> the line's code tokens joined by spaces (strings and comments left out)."""
    lines: dict[int, list[str]] = {}
    skip = {
        tokenize.STRING,
        tokenize.COMMENT,
        *(getattr(tokenize, n) for n in ("FSTRING_MIDDLE",) if hasattr(tokenize, n)),
    }
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in skip and tok.string.strip():
            lines.setdefault(tok.start[0], []).append(tok.string)
    return {n: " ".join(parts) for n, parts in lines.items()}


HAND_WRITTEN = re.compile(r"\+ 0?\.5 \) \* [^=]{1,60}?- 0?\.5\b")


def hand_written_copies(source: str) -> list[int]:
    return [n for n, code in _code_lines(source).items() if HAND_WRITTEN.search(code)]


def test_the_copy_finder_sees_code_not_text():
    assert hand_written_copies("y = (x + 0.5) * scale - 0.5\n") == [1]
    assert hand_written_copies("cx, cy = (x + .5) * s[0] - .5, 1\n") == [1]
    assert hand_written_copies('"""(p + 0.5) * s - 0.5"""\nz = 1  # (p + 0.5) * s - 0.5\n') == []
    assert hand_written_copies("pos = x0 + (col + 0.5) * scale\n") == []


def test_no_hand_written_copy_is_left():
    """`(p + 0.5) * s - 0.5` is written once, in autodrag/pixels.py (drag/coords.py's feature window adds an
    offset to it, `offset + (p + 0.5) * s - 0.5`, and stays as written)."""
    allowed = {"autodrag/pixels.py", "autodrag/drag/coords.py"}
    found = []
    for path in sorted((ROOT / "autodrag").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel not in allowed:
            found += [f"{rel}:{n}" for n in hand_written_copies(path.read_text())]
    assert not found, "use autodrag.pixels.rescale_points at: " + ", ".join(found)
