"""Find fonts, detect glyphs a font lacks, and render names as black-on-white source images.

This is the first half of the font-to-signature pipeline: each person's name is drawn centred in
a plain font at 0.6 x the image height, in a file named like their signature scan, so that the
pair (rendered name, signature) can train pix2pix.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from autodrag.pix2pix.errors import FontError
from autodrag.pix2pix.images import Size, list_images

__all__ = [
    "DEFAULT_FONT",
    "FONT_DIRS",
    "FONT_SUFFIXES",
    "RenderReport",
    "available_fonts",
    "load_font",
    "missing_glyphs",
    "names_from_dir",
    "names_from_file",
    "render_names",
    "render_text",
    "resolve_font",
]

DEFAULT_FONT = "default"  # Pillow's bundled scalable font (Latin only)
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
FONT_DIRS: tuple[Path, ...] = tuple(
    Path(p).expanduser()
    for p in (
        "/usr/share/fonts",
        "/usr/local/share/fonts",
        "~/.fonts",
        "~/.local/share/fonts",
        "/Library/Fonts",
        "/System/Library/Fonts",
        os.path.join(os.environ.get("WINDIR", "C:/Windows"), "Fonts")
        if sys.platform == "win32"
        else "/nonexistent",
    )
)
# a code point no font maps (plane-16 private use): renders as the font's .notdef glyph
_PROBE = "\U0010fffd"


@lru_cache(maxsize=1)
def available_fonts() -> tuple[Path, ...]:
    """Font files under the standard font folders of this system, sorted by path."""
    found = []
    for folder in FONT_DIRS:
        if folder.is_dir():
            found += [p for p in folder.rglob("*") if p.suffix.lower() in FONT_SUFFIXES and p.is_file()]
    return tuple(sorted(found))


def resolve_font(spec: str | Path) -> Path | None:
    """Turn a font argument into a file: an existing path, or a file name / stem in the font folders.

    Args:
        spec: ``"/path/to/X.ttf"``, ``"DejaVuSans.ttf"``, ``"DejaVuSans"`` (case-insensitive), or
            ``"default"`` for Pillow's bundled font.

    Returns:
        The font file, or None for ``"default"``.

    Raises:
        FontError: Nothing matches.
    """
    if str(spec) == DEFAULT_FONT:
        return None
    path = Path(spec).expanduser()
    if path.is_file():
        return path
    wanted = str(spec).lower()
    for candidate in available_fonts():
        if candidate.name.lower() == wanted or candidate.stem.lower() == wanted:
            return candidate
    raise FontError(
        f"font {spec!r} not found as a file or in {', '.join(str(d) for d in FONT_DIRS if d.is_dir())}"
    )


def load_font(spec: str | Path, size: int) -> ImageFont.FreeTypeFont:
    """Load a scalable font at ``size`` pixels.

    Raises:
        FontError: The font is not found, or the file is not a font.
    """
    path = resolve_font(spec)
    if path is None:
        return ImageFont.load_default(size=size)
    try:
        return ImageFont.truetype(str(path), size=size)
    except OSError as exc:
        raise FontError(f"{path} is not a font file ({exc})") from exc


def _glyph_signature(font: ImageFont.FreeTypeFont, char: str) -> tuple:
    mask, offset = font.getmask2(char)
    return mask.size, offset, bytes(mask)


def missing_glyphs(font: ImageFont.FreeTypeFont, text: str) -> list[str]:
    """Characters of ``text`` the font has no glyph for (they would be drawn as .notdef boxes).

    A character is missing when its rendering is identical to that of a code point no font maps;
    whitespace is never reported.
    """
    notdef = _glyph_signature(font, _PROBE)
    missing: list[str] = []
    for char in dict.fromkeys(text):  # unique, in order
        if not char.isspace() and _glyph_signature(font, char) == notdef:
            missing.append(char)
    return missing


def render_text(
    text: str,
    font_spec: str | Path,
    size: Size = (500, 200),
    height_fraction: float = 0.6,
    margin: float = 0.04,
) -> tuple[Image.Image, bool]:
    """Draw ``text`` centred, black on white, at ``height_fraction`` x image height.

    Args:
        text: What to draw.
        font_spec: See :func:`resolve_font`.
        size: Output (width, height).
        height_fraction: Font size relative to the image height.
        margin: Fraction of the width kept free on each side; longer text is drawn smaller.

    Returns:
        ``(image, shrunk)``: an ``L`` image and whether the font was reduced to fit the width.
    """
    width, height = size
    font_size = max(1, int(height_fraction * height))
    font = load_font(font_spec, font_size)
    draw = ImageDraw.Draw(Image.new("L", size, 255))
    shrunk = False
    while True:
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        if right - left <= width * (1 - 2 * margin) or font_size <= 4:
            break
        font_size = max(4, int(font_size * width * (1 - 2 * margin) / (right - left)))
        font, shrunk = load_font(font_spec, font_size), True
    img = Image.new("L", size, 255)
    # centre the ink box, not the origin: textbbox offsets differ per font and string
    x = (width - (right - left)) / 2 - left
    y = (height - (bottom - top)) / 2 - top
    ImageDraw.Draw(img).text((x, y), text, fill=0, font=font)
    return img, shrunk


@dataclass
class RenderReport:
    """What :func:`render_names` did for every name."""

    written: list[Path] = field(default_factory=list)  # images created
    missing: dict[str, list[str]] = field(
        default_factory=dict
    )  # name -> characters the font lacks (not drawn)
    shrunk: list[str] = field(default_factory=list)  # names drawn smaller than 0.6 x height to fit
    invalid: list[str] = field(default_factory=list)  # names that cannot be file names, or duplicates

    def lines(self) -> list[str]:
        out = [f"wrote {len(self.written)} images"]
        out += [f"not drawn, font lacks {''.join(chars)!r}: {name}" for name, chars in self.missing.items()]
        out += [f"drawn smaller to fit the width: {name}" for name in self.shrunk]
        out += [f"skipped, invalid or duplicate name: {name!r}" for name in self.invalid]
        return out


def _valid_file_name(name: str) -> bool:
    return bool(name.strip()) and not any(c in name for c in "/\\\0") and name not in (".", "..")


def render_names(
    names: Sequence[str],
    font_spec: str | Path,
    out_dir: str | Path,
    size: Size = (500, 200),
    file_names: Sequence[str] | None = None,
    height_fraction: float = 0.6,
) -> RenderReport:
    """Render each name to ``out_dir/<file name>``; names with missing glyphs are reported, not drawn.

    Args:
        names: Texts to draw.
        font_spec: See :func:`resolve_font`.
        out_dir: Created if needed.
        size: Image (width, height).
        file_names: Output file names, one per name; default ``<name>.png``.
        height_fraction: Font size relative to the image height.

    Raises:
        FontError: The font cannot be loaded (raised before anything is written).
    """
    probe_font = load_font(font_spec, max(1, int(height_fraction * size[1])))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = RenderReport()
    seen: set[str] = set()
    for i, name in enumerate(names):
        file_name = file_names[i] if file_names is not None else f"{name}.png"
        if not _valid_file_name(name) or file_name in seen:
            report.invalid.append(name)
            continue
        seen.add(file_name)
        lacking = missing_glyphs(probe_font, name)
        if lacking:
            report.missing[name] = lacking
            continue
        img, shrunk = render_text(name, font_spec, size, height_fraction)
        if shrunk:
            report.shrunk.append(name)
        target = out_dir / file_name
        img.save(target)
        report.written.append(target)
    return report


def names_from_file(path: str | Path) -> list[str]:
    """One name per line (UTF-8); blank lines are ignored, surrounding spaces stripped."""
    return [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def names_from_dir(folder: str | Path) -> tuple[list[str], list[str]]:
    """Names and file names taken from the signature images in ``folder`` (name = file stem)."""
    files = list_images(folder)
    return [p.stem for p in files], [p.name for p in files]
