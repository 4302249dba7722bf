"""The signature pipeline's font side: resolving fonts, missing glyphs, centred rendering."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from autodrag.pix2pix.errors import FontError
from autodrag.pix2pix.handwriting.fonts import (
    available_fonts,
    load_font,
    missing_glyphs,
    names_from_dir,
    render_names,
    render_text,
    resolve_font,
)


def _ink_box(img: Image.Image) -> tuple[int, int, int, int]:
    ink = np.argwhere(np.asarray(img) < 128)
    (top, left), (bottom, right) = ink.min(0), ink.max(0)
    return int(left), int(top), int(right), int(bottom)


def test_resolve_default_and_errors(tmp_path: Path) -> None:
    assert resolve_font("default") is None
    with pytest.raises(FontError, match="not found"):
        resolve_font("NoSuchFont-Regular")
    fake = tmp_path / "fake.ttf"
    fake.write_text("this is not a font")
    with pytest.raises(FontError, match="fake.ttf is not a font file"):
        load_font(fake, 20)


def test_resolve_system_font_by_name() -> None:
    fonts = available_fonts()
    if not fonts:
        pytest.skip(reason="no font files in the standard font folders (install fonts-dejavu-core)")
    first = fonts[0]
    assert resolve_font(first.stem.lower()) == first
    assert resolve_font(first.name) == first
    assert resolve_font(str(first)) == first


def test_missing_glyphs_are_detected() -> None:
    font = load_font("default", 40)  # Pillow's bundled Latin font has no CJK
    assert missing_glyphs(font, "Ada 张三") == ["张", "三"]
    assert missing_glyphs(font, "Ada Lovelace") == []


def test_render_is_centred_black_on_white_at_0_6_height() -> None:
    img, shrunk = render_text("Hi", "default", (500, 200))
    assert img.size == (500, 200) and img.mode == "L" and not shrunk
    values = set(np.unique(np.asarray(img)).tolist())
    assert 0 in values and 255 in values
    left, top, right, bottom = _ink_box(img)
    assert abs((left + right) / 2 - 250) <= 2 and abs((top + bottom) / 2 - 100) <= 2
    assert 0.35 * 200 < bottom - top < 0.6 * 200  # cap height of a 120 px font


def test_long_names_shrink_to_fit() -> None:
    img, shrunk = render_text("Bartholomew Featherstonehaugh-Cholmondeley", "default", (500, 200))
    left, _, right, _ = _ink_box(img)
    assert shrunk and left >= 10 and right <= 490


def test_render_names_reports_missing_and_invalid(tmp_path: Path) -> None:
    report = render_names(["Ada", "张三", "a/b", "Ada"], "default", tmp_path / "out", (100, 40))
    assert [p.name for p in report.written] == ["Ada.png"]
    assert report.missing == {"张三": ["张", "三"]}
    assert report.invalid == ["a/b", "Ada"]
    assert not (tmp_path / "out" / "张三.png").exists()
    assert any("张三" in line for line in report.lines())


def test_names_from_dir_keep_target_file_names(tmp_path: Path) -> None:
    for name in ("Ada Lovelace.png", "Grace.jpg"):
        Image.new("RGB", (10, 10), "white").save(tmp_path / name)
    names, files = names_from_dir(tmp_path)
    assert names == ["Ada Lovelace", "Grace"] and files == ["Ada Lovelace.png", "Grace.jpg"]
    report = render_names(names, "default", tmp_path / "gen", (120, 48), files)
    assert sorted(p.name for p in (tmp_path / "gen").iterdir()) == ["Ada Lovelace.png", "Grace.jpg"]
    assert Image.open(tmp_path / "gen" / "Grace.jpg").size == (120, 48) and len(report.written) == 2
