"""What a run leaves for people to read: loss CSV, loss plot PNG, sample grids and HTML pages.

The plot is drawn with Pillow (one small panel per loss) to avoid a plotting dependency.
"""

from __future__ import annotations

import csv
import html
import math
from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont

from autodrag.atomic import write_atomic, write_text_atomic
from autodrag.pix2pix.images import to_pil

__all__ = ["CsvLog", "plot_losses", "save_grid", "write_image_table"]


class CsvLog:
    """Append-only CSV with fixed columns that a resumed run can cut back to its checkpoint."""

    def __init__(self, path: str | Path, columns: Sequence[str]) -> None:
        self.path, self.columns = Path(path), list(columns)
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("w", newline="") as fh:
                csv.writer(fh).writerow(self.columns)

    def append(self, row: dict[str, float | int | str]) -> None:
        with self.path.open("a", newline="") as fh:
            csv.writer(fh).writerow([_fmt(row.get(col, "")) for col in self.columns])

    def rows(self) -> list[dict[str, str]]:
        with self.path.open(newline="") as fh:
            return list(csv.DictReader(fh))

    def truncate(self, column: str, last: float) -> None:
        """Drop rows whose ``column`` exceeds ``last`` (rows written after the resumed checkpoint)."""
        kept = [r for r in self.rows() if r.get(column, "") == "" or float(r[column]) <= last]

        def write(tmp: Path) -> None:
            with tmp.open("w", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=self.columns)
                writer.writeheader()
                writer.writerows(kept)

        write_atomic(self.path, write)


def _fmt(value: float | str) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def plot_losses(
    csv_path: str | Path, png_path: str | Path, x_column: str = "step", skip: Sequence[str] = ("epoch", "lr")
) -> Path | None:
    """Plot every numeric column of ``csv_path`` against ``x_column``, one panel each.

    Returns:
        The PNG path, or None when the CSV has fewer than two rows.
    """
    with Path(csv_path).open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    if len(rows) < 2:
        return None
    names = [c for c in rows[0] if c != x_column and c not in skip]
    series = {}
    for name in names:
        points = [(float(r[x_column]), float(r[name])) for r in rows if r.get(name) not in ("", None)]
        points = [(x, y) for x, y in points if math.isfinite(y)]
        if len(points) >= 2:
            series[name] = points
    if not series:
        return None
    panel_w, panel_h, pad = 360, 180, 36
    cols = min(3, len(series))
    nrows = -(-len(series) // cols)
    img = Image.new("RGB", (cols * panel_w, nrows * panel_h), "white")
    draw = ImageDraw.Draw(img)
    font = _font(12)
    for k, (name, points) in enumerate(series.items()):
        ox, oy = (k % cols) * panel_w, (k // cols) * panel_h
        x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
        y0, y1 = min(p[1] for p in points), max(p[1] for p in points)
        x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1e-9)
        left, top, right, bottom = ox + pad + 14, oy + 22, ox + panel_w - 10, oy + panel_h - 24
        draw.rectangle([left, top, right, bottom], outline=(160, 160, 160))
        scaled = [
            (left + (x - x0) / (x1 - x0) * (right - left), bottom - (y - y0) / (y1 - y0) * (bottom - top))
            for x, y in points
        ]
        draw.line(scaled, fill=(200, 40, 40), width=1)
        draw.text((ox + 8, oy + 4), name, fill="black", font=font)
        draw.text((ox + 4, top), f"{y1:.3g}", fill=(90, 90, 90), font=font)
        draw.text((ox + 4, bottom - 12), f"{y0:.3g}", fill=(90, 90, 90), font=font)
        draw.text((left, bottom + 4), f"{x_column} {x0:g}", fill=(90, 90, 90), font=font)
        draw.text((right - 60, bottom + 4), f"{x1:g}", fill=(90, 90, 90), font=font)
    png_path = Path(png_path)
    img.save(png_path)
    return png_path


def save_grid(rows: Sequence[Sequence[torch.Tensor]], path: str | Path, labels: Sequence[str] = ()) -> Path:
    """Save a grid of images: one row per sample, one column per tensor [C,H,W] in [-1, 1].

    Args:
        rows: Per sample, the images to show side by side (e.g. input, output, target).
        path: PNG to write.
        labels: Column headings.
    """
    tiles = [[to_pil(t).convert("RGB") for t in row] for row in rows]
    cell_w = max(t.size[0] for row in tiles for t in row)
    cell_h = max(t.size[1] for row in tiles for t in row)
    head = 16 if labels else 0
    ncols = max(len(row) for row in tiles)
    gap = 2
    grid = Image.new(
        "RGB", (ncols * (cell_w + gap) - gap, head + len(tiles) * (cell_h + gap) - gap), (128, 128, 128)
    )
    draw = ImageDraw.Draw(grid)
    if labels:
        draw.rectangle([0, 0, grid.size[0], head], fill="white")
        for c, label in enumerate(labels):
            draw.text((c * (cell_w + gap) + 2, 2), label, fill="black", font=_font(11))
    for r, row in enumerate(tiles):
        for c, tile in enumerate(row):
            grid.paste(tile, (c * (cell_w + gap), head + r * (cell_h + gap)))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    grid.save(path)
    return path


def write_image_table(
    path: str | Path,
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    preamble: str = "",
) -> Path:
    """Write a static HTML page with a table; cells ending in an image suffix are shown as images.

    Args:
        path: The HTML file; image cells are paths relative to its folder.
        title: Page title and heading.
        headers: Column headings.
        rows: Cell texts or relative image paths.
        preamble: Trusted HTML inserted above the table (e.g. a loss plot).
    """

    def cell(value: str) -> str:
        if value.lower().endswith((".png", ".jpg", ".jpeg", ".gif")):
            src = html.escape(value, quote=True)
            return f'<td><a href="{src}"><img src="{src}" style="max-width:512px;image-rendering:pixelated"></a></td>'
        return f"<td>{html.escape(value)}</td>"

    lines = [
        "<!doctype html>",
        f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        preamble,
        "<table border='1' cellspacing='0' cellpadding='4'>",
        "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>",
    ]
    lines += ["<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows]
    lines.append("</table></body></html>")
    return write_text_atomic(path, "\n".join(lines) + "\n")
