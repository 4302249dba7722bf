"""Datasets of one source rendering and many target styles, for the multi-style model.

Layout: ``root/A/<name>.png`` (the source, e.g. a plain font) and ``root/B/<style>/<name>.png``
(the same text in each style). ``train/`` and ``val/`` subfolders are used when present.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from torch.utils.data import Dataset

from autodrag.pix2pix.datasets import SampleKey
from autodrag.pix2pix.errors import DatasetError, FontError, format_paths
from autodrag.pix2pix.handwriting.fonts import load_font, missing_glyphs, render_text, resolve_font
from autodrag.pix2pix.images import Size, list_images, load_image, to_tensor

__all__ = ["FontStylesReport", "StyleDataset", "StyleItem", "make_font_styles_dataset", "style_names_in"]


def style_names_in(root: str | Path) -> list[str]:
    """The style folders under ``root/B``, sorted."""
    b_dir = Path(root) / "B"
    if not b_dir.is_dir():
        raise DatasetError(f"{root} has no B/ folder of styles (expected B/<style>/<name>.png)")
    return sorted(p.name for p in b_dir.iterdir() if p.is_dir())


@dataclass(frozen=True)
class StyleItem:
    """One (source, target, style) triple on disk."""

    name: str  # file stem shared by source and target
    source: Path  # image in A/
    target: Path  # image in B/<style>/
    label: int  # index of the style in the model's style list


class StyleDataset(Dataset):
    """``{"A": [Ca,H,W], "B": [Cb,H,W], "label": int, "name": str}`` for every style image.

    Args:
        root: Folder with A/ and B/<style>/.
        style_names: The model's styles; a folder's label is its position in this list.
        source_channels: Channels to read A as.
        target_channels: Channels to read B as.

    Raises:
        DatasetError: No styles, a style folder not in ``style_names``, targets with no source.
    """

    def __init__(
        self, root: str | Path, style_names: Sequence[str], source_channels: int = 1, target_channels: int = 1
    ) -> None:
        root = Path(root)
        sources = {p.stem: p for p in list_images(root / "A")} if (root / "A").is_dir() else {}
        found = style_names_in(root)
        unknown = [s for s in found if s not in style_names]
        if unknown:
            raise DatasetError(f"style folders not known to the model: {format_paths(unknown)}")
        items, orphans = [], []
        for style in found:
            for target in list_images(root / "B" / style):
                if target.stem not in sources:
                    orphans.append(f"{style}/{target.name}")
                    continue
                items.append(
                    StyleItem(target.stem, sources[target.stem], target, list(style_names).index(style))
                )
        if orphans:
            raise DatasetError(f"targets with no source image in {root / 'A'}: {format_paths(orphans)}")
        if not items:
            raise DatasetError(f"no style images under {root / 'B'}")
        self.items = items
        self.source_channels, self.target_channels = source_channels, target_channels

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, key: int | SampleKey) -> dict:
        index = int(key[0]) if isinstance(key, (tuple, list)) else int(key)
        item = self.items[index]
        return {
            "A": to_tensor(load_image(item.source, self.source_channels)),
            "B": to_tensor(load_image(item.target, self.target_channels)),
            "label": item.label,
            "name": item.name,
        }


@dataclass
class FontStylesReport:
    """What :func:`make_font_styles_dataset` wrote and skipped."""

    root: Path  # the dataset folder
    styles: list[str] = field(default_factory=list)  # style folder names, one per font
    texts: int = 0  # texts rendered in every style
    skipped: dict[str, list[str]] = field(default_factory=dict)  # text -> fonts lacking one of its glyphs


def make_font_styles_dataset(
    out_dir: str | Path,
    texts: Sequence[str],
    source_font: str,
    style_fonts: Sequence[str],
    size: Size = (64, 64),
    height_fraction: float = 0.7,
) -> FontStylesReport:
    """Render each text in ``source_font`` (A/) and in every style font (B/<font stem>/).

    Texts that any of the fonts cannot draw are skipped and reported. Files are named
    ``0000.png``, ``0001.png``... with the texts listed in ``texts.txt``.

    Raises:
        FontError: A font cannot be loaded.
    """
    out_dir = Path(out_dir)
    fonts = [source_font, *style_fonts]
    loaded = [load_font(spec, max(1, int(height_fraction * size[1]))) for spec in fonts]
    names = []
    for spec in style_fonts:
        path = resolve_font(spec)
        names.append(path.stem if path is not None else str(spec))
    if len(set(names)) != len(names):
        raise FontError(f"two style fonts share a name: {', '.join(names)}")
    report = FontStylesReport(out_dir, names)
    kept: list[str] = []
    for text in texts:
        lacking = [str(spec) for spec, font in zip(fonts, loaded) if missing_glyphs(font, text)]
        if lacking:
            report.skipped[text] = lacking
        else:
            kept.append(text)
    (out_dir / "A").mkdir(parents=True, exist_ok=True)
    for i, text in enumerate(kept):
        render_text(text, source_font, size, height_fraction)[0].save(out_dir / "A" / f"{i:04d}.png")
        for spec, name in zip(style_fonts, names):
            (out_dir / "B" / name).mkdir(parents=True, exist_ok=True)
            render_text(text, spec, size, height_fraction)[0].save(out_dir / "B" / name / f"{i:04d}.png")
    (out_dir / "texts.txt").write_text("".join(f"{t}\n" for t in kept), encoding="utf-8")
    report.texts = len(kept)
    return report
