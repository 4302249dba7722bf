"""Image files <-> tensors, and the random jitter applied identically to both images of a pair.

Tensors are float32 [C, H, W] in [-1, 1]; ``channels`` is 1 (grey) or 3 (RGB). Transparent
pixels are composited onto white, since signature scans often come as PNGs with alpha.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from autodrag.pix2pix.errors import ImageReadError

__all__ = [
    "IMAGE_EXTENSIONS",
    "JitterConfig",
    "JitterParams",
    "Size",
    "apply_jitter",
    "list_images",
    "load_image",
    "parse_size",
    "read_image_size",
    "sample_jitter",
    "to_pil",
    "to_tensor",
]

IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
Size = tuple[int, int]  # (width, height) in pixels, PIL's convention


def parse_size(text: str) -> Size:
    """Parse ``"500x200"`` (width x height) or ``"256"`` (square) into ``(width, height)``."""
    parts = text.lower().replace(" ", "").split("x")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"size must look like WIDTHxHEIGHT or N, got {text!r}") from None
    if len(numbers) == 1:
        numbers = numbers * 2
    if len(numbers) != 2 or min(numbers) < 1:
        raise ValueError(f"size must look like WIDTHxHEIGHT or N with positive numbers, got {text!r}")
    return numbers[0], numbers[1]


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly inside ``folder`` (by extension), sorted by name."""
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def read_image_size(path: str | Path) -> Size:
    """Read an image's ``(width, height)`` from its header and check the file decodes.

    Raises:
        ImageReadError: The file is not a readable image.
    """
    try:
        with Image.open(path) as img:
            size = img.size
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(path, str(exc) or type(exc).__name__) from exc
    return size


def load_image(path: str | Path, channels: int) -> Image.Image:
    """Decode ``path`` into an ``L`` (channels=1) or ``RGB`` (channels=3) image on white.

    Raises:
        ImageReadError: The file is missing, truncated or not an image.
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    try:
        with Image.open(path) as img:
            img.load()
            return flatten_alpha(img).convert("L" if channels == 1 else "RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(path, str(exc) or type(exc).__name__) from exc


def flatten_alpha(img: Image.Image) -> Image.Image:
    """Composite an image with transparency onto a white background."""
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img


def to_tensor(img: Image.Image) -> torch.Tensor:
    """PIL ``L``/``RGB`` image -> float32 tensor [C, H, W] in [-1, 1]."""
    array = np.asarray(img, dtype=np.float32) / 127.5 - 1.0
    if array.ndim == 2:
        array = array[None]
    else:
        array = array.transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(array))


def to_pil(tensor: torch.Tensor) -> Image.Image:
    """Tensor [C, H, W] in [-1, 1] (C = 1 or 3) -> PIL ``L``/``RGB`` image."""
    array = ((tensor.detach().float().cpu().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8).numpy()
    if array.shape[0] == 1:
        return Image.fromarray(np.ascontiguousarray(array[0]))
    return Image.fromarray(np.ascontiguousarray(array.transpose(1, 2, 0)))


@dataclass
class JitterConfig:
    """Training-time augmentation shared by the two images of a pair."""

    load_size: Size | None = None  # resize both images to this (width, height) first; None keeps them
    crop_size: Size | None = None  # then crop this (width, height): random in training, centred otherwise
    flip: bool = False  # random horizontal flip in training (off for text: it would mirror letters)


@dataclass(frozen=True)
class JitterParams:
    """One draw of the jitter, applied to both A and B."""

    crop_left: int  # x of the crop window's left edge after resizing
    crop_top: int  # y of the crop window's top edge after resizing
    flip: bool  # mirror horizontally


def sample_jitter(cfg: JitterConfig, size: Size, rng: np.random.Generator | None) -> JitterParams:
    """Draw crop offsets and flip for an image of ``size``; ``rng=None`` gives the centred, unflipped view."""
    width, height = cfg.load_size or size
    crop_w, crop_h = cfg.crop_size or (width, height)
    if crop_w > width or crop_h > height:
        raise ValueError(f"crop size {crop_w}x{crop_h} is larger than the image ({width}x{height})")
    if rng is None:
        return JitterParams((width - crop_w) // 2, (height - crop_h) // 2, False)
    left = int(rng.integers(0, width - crop_w + 1))
    top = int(rng.integers(0, height - crop_h + 1))
    flip = bool(cfg.flip and rng.random() < 0.5)
    return JitterParams(left, top, flip)


def apply_jitter(img: Image.Image, cfg: JitterConfig, params: JitterParams) -> Image.Image:
    """Resize, crop and flip one image of a pair as ``params`` say."""
    if cfg.load_size is not None and img.size != tuple(cfg.load_size):
        img = img.resize(tuple(cfg.load_size), Image.Resampling.BICUBIC)
    if cfg.crop_size is not None:
        crop_w, crop_h = cfg.crop_size
        img = img.crop(
            (params.crop_left, params.crop_top, params.crop_left + crop_w, params.crop_top + crop_h)
        )
    if params.flip:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return img
