"""Safe decoding of uploaded images: size-limited, decompression-bomb-proof, clear errors.

`decode_image` is what every upload path calls (the photo upload of `autodrag.photos` included): it
checks the byte count, reads only the header to check the format and dimensions, and decodes only
then, so a 20000x20000 PNG of a few kilobytes is refused before a single pixel is allocated.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["UploadError", "UploadLimits", "UploadTooLarge", "decode_image"]


class UploadError(ValueError):
    """An upload was refused; the message is one line meant for the page."""


class UploadTooLarge(UploadError):
    """The upload's byte count is over the limit (HTTP 413)."""


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = 20 * 2**20  # request body
    max_side: int = 8192  # width or height, pixels
    max_pixels: int = 40_000_000  # width x height
    formats: tuple[str, ...] = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF")


def decode_image(data: bytes, name: str = "upload", limits: UploadLimits = UploadLimits()) -> np.ndarray:
    """Bytes of an image file -> uint8 [H, W, 3] RGB (EXIF orientation applied).

    Raises:
        UploadError: too large a file, not an image, an unsupported format, too many pixels, or a corrupt file.
    """
    if len(data) > limits.max_bytes:
        raise UploadTooLarge(
            f"{name}: {len(data) / 2**20:.1f} MB is over the {limits.max_bytes / 2**20:.0f} MB limit"
        )
    if not data:
        raise UploadError(f"{name}: the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise UploadError(f"{name}: too large to decode safely ({str(exc).split(',')[0]})") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise UploadError(f"{name}: not an image ({type(exc).__name__})") from None
    width, height = image.size
    if image.format not in limits.formats:
        raise UploadError(f"{name}: {image.format} images are not accepted (use {', '.join(limits.formats)})")
    if max(width, height) > limits.max_side or width * height > limits.max_pixels:
        raise UploadError(
            f"{name}: {width}x{height} is too large (at most {limits.max_side} px a side and "
            f"{limits.max_pixels / 1e6:.0f} megapixels)"
        )
    if width < 1 or height < 1:
        raise UploadError(f"{name}: the image has no pixels")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
            image = ImageOps.exif_transpose(image).convert("RGB")
    except Exception as exc:  # any decoder failure is the file's fault, never the server's
        raise UploadError(f"{name}: the image is corrupt or truncated ({type(exc).__name__})") from None
    return np.asarray(image, dtype=np.uint8).copy()
