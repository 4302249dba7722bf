"""Photo files in and out: an upright RGB view for processing, and output in the stored layout.

`load_photo` keeps the image as stored (`Photo.original`: mode, size, orientation) and adds an
upright 8-bit RGB view (`Photo.rgb`, EXIF orientation applied like `ImageOps.exif_transpose`).
`compose_output` maps an edited upright RGB image back: pixels outside the changed mask are
copied from the stored pixel data (never round-tripped through RGB), inside it the edit is
converted to the stored mode; alpha is never touched.  `save_photo` writes atomically; the
default output format is lossless (PNG, or TIFF for modes PNG cannot hold) so the untouched
pixels stay byte-identical.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from autodrag.atomic import write_atomic

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "Photo",
    "PhotoError",
    "compose_output",
    "default_output_suffix",
    "from_upright",
    "load_photo",
    "save_photo",
    "to_upright",
]

DEFAULT_MAX_PIXELS = 178_956_970  # Pillow's own decompression-bomb limit (about 179 MP)
ORIENTATION_TAG = 0x0112
_PNG_MODES = {"1", "L", "LA", "I;16", "I;16B", "I;16L", "P", "RGB", "RGBA"}
_SIXTEEN_BIT = {"I;16", "I;16B", "I;16L", "I"}


class PhotoError(ValueError):
    """A photo cannot be used: missing, unreadable, not an image, truncated, too large (one line)."""


@dataclass
class Photo:
    """A loaded photo: the stored image and an upright RGB view of it."""

    path: Path | None
    original: Image.Image  # as stored: mode, size and orientation kept, pixel data loaded
    rgb: np.ndarray  # uint8 [H, W, 3], upright (EXIF orientation applied), full resolution
    orientation: int  # EXIF orientation tag (1 = upright as stored / none)
    mode: str  # the stored mode ("RGB", "L", "RGBA", "I;16", "CMYK", ...)
    exif: bytes | None  # raw EXIF block to write back (keeps the orientation tag), None if absent
    alpha: np.ndarray | None = None  # uint8 [h, w] stored-orientation alpha (kept aside, never edited)

    @property
    def name(self) -> str:
        return str(self.path) if self.path is not None else "<image>"


# -- orientation ------------------------------------------------------------------------------


def to_upright(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply EXIF `orientation` (1-8) to an array [h, w, ...] as `ImageOps.exif_transpose` does."""
    a = np.asarray(array)
    ops = {
        1: lambda x: x,
        2: lambda x: x[:, ::-1],  # FLIP_LEFT_RIGHT
        3: lambda x: x[::-1, ::-1],  # ROTATE_180
        4: lambda x: x[::-1],  # FLIP_TOP_BOTTOM
        5: lambda x: np.swapaxes(x, 0, 1),  # TRANSPOSE
        6: lambda x: np.rot90(x, -1),  # ROTATE_270 (clockwise)
        7: lambda x: np.swapaxes(x, 0, 1)[::-1, ::-1],  # TRANSVERSE
        8: lambda x: np.rot90(x, 1),  # ROTATE_90 (counter-clockwise)
    }
    return np.ascontiguousarray(ops.get(int(orientation), ops[1])(a))


def from_upright(array: np.ndarray, orientation: int) -> np.ndarray:
    """Inverse of `to_upright`: an upright array back to the stored orientation."""
    inverse = {6: 8, 8: 6}.get(int(orientation), int(orientation))  # the others undo themselves
    return to_upright(array, inverse)


# -- loading ----------------------------------------------------------------------------------


def _fail(path: Path | str, what: str) -> PhotoError:
    return PhotoError(f"{path}: {what}")


def _rgb_view(img: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """8-bit RGB [h, w, 3] of a stored image (its orientation) and its alpha [h, w] if any."""
    mode = img.mode
    if mode in _SIXTEEN_BIT:
        values = np.asarray(img).astype(np.float64)
        gray = np.clip(np.rint(values / 257.0), 0, 255).astype(np.uint8)  # 0..65535 -> 0..255
        return np.repeat(gray[..., None], 3, axis=2), None
    if mode == "F":
        gray = np.clip(np.rint(np.asarray(img, dtype=np.float64)), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2), None
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in img.info):
        rgba = np.asarray(img.convert("RGBA"))
        alpha = np.asarray(img.getchannel("A")) if mode != "P" else rgba[..., 3].copy()
        return np.ascontiguousarray(rgba[..., :3]), alpha
    return np.asarray(img.convert("RGB")).copy(), None


def _exif_of(img: Image.Image) -> tuple[int, bytes | None]:
    exif = img.getexif()
    orientation = int(exif.get(ORIENTATION_TAG, 1) or 1)
    if orientation not in range(1, 9):
        orientation = 1
    raw = img.info.get("exif")
    if raw is None and img.format != "TIFF" and len(exif):
        raw = exif.tobytes()
    if raw is None and orientation != 1:  # e.g. a TIFF: keep only the orientation
        kept = Image.Exif()
        kept[ORIENTATION_TAG] = orientation
        raw = kept.tobytes()
    return orientation, raw


def load_photo(path: str | os.PathLike, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Photo:
    """Read a photo file (first frame of multi-frame files).

    Args:
        path: the image file.
        max_pixels: refuse images with more pixels than this (decompression bombs); None = no limit.
    Raises:
        PhotoError: missing or unreadable file, not an image, truncated/corrupt data, too many pixels.
    """
    path = Path(path)
    if not path.exists():
        raise _fail(path, "no such file")
    if path.is_dir():
        raise _fail(path, "is a folder, not an image file")
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise _fail(path, "PIL.ImageFile.LOAD_TRUNCATED_IMAGES is on; turn it off to detect truncated files")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
            w, h = img.size
            if max_pixels is not None and w * h > max_pixels:
                raise _fail(
                    path,
                    f"image too large: {w}x{h} = {w * h} pixels > the limit {max_pixels} "
                    "(a possible decompression bomb)",
                )
            orientation, exif = _exif_of(img)
            opened_size = img.size
            img.load()
            if img.format == "TIFF" and orientation in (5, 6, 7, 8) and img.size == opened_size:
                orientation, exif = 1, None  # Pillow turned this TIFF upright while loading it
    except PhotoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _fail(path, f"image too large (a possible decompression bomb): {exc}") from exc
    except UnidentifiedImageError as exc:
        what = "empty file (0 bytes), not an image" if path.stat().st_size == 0 else "not an image file"
        raise _fail(path, what) from exc
    except PermissionError as exc:
        raise _fail(path, f"cannot read the file: {exc.strerror or exc}") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        if "img" in locals():  # a failed load() leaves the file open
            img.close()
        raise _fail(path, f"truncated or corrupt image data ({exc})") from exc
    rgb, alpha = _rgb_view(img)
    return Photo(
        path=path,
        original=img,
        rgb=to_upright(rgb, orientation),
        orientation=orientation,
        mode=img.mode,
        exif=exif,
        alpha=alpha,
    )


def photo_from_array(rgb: np.ndarray) -> Photo:
    """A `Photo` around an in-memory uint8 RGB [H, W, 3] image (no file, upright, no EXIF)."""
    rgb = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
    return Photo(
        path=None, original=Image.fromarray(rgb), rgb=rgb.copy(), orientation=1, mode="RGB", exif=None
    )


# -- output -----------------------------------------------------------------------------------


def _edit_in_mode(photo: Photo, rgb_stored: np.ndarray) -> np.ndarray:
    """The edited RGB (stored orientation) as the stored mode's pixel array (colour channels only)."""
    mode = photo.mode
    edited = Image.fromarray(rgb_stored)
    if mode in _SIXTEEN_BIT:
        luma = np.asarray(edited.convert("L"), dtype=np.int64) * 257  # 0..255 -> 0..65535
        return luma.astype(np.asarray(photo.original).dtype)
    if mode == "F":
        return np.asarray(edited.convert("L"), dtype=np.float32)
    if mode in ("LA", "La"):
        return np.asarray(edited.convert("L"))
    if mode in ("RGBA", "RGBa"):
        return np.asarray(edited)
    if mode == "P":
        palette = photo.original.copy()
        return np.asarray(edited.quantize(palette=palette, dither=Image.Dither.NONE))
    if mode == "1":
        return np.asarray(edited.convert("L")) >= 128
    return np.asarray(edited.convert(mode))


def compose_output(
    photo: Photo, rgb_edited_upright: np.ndarray, changed_mask_upright: np.ndarray
) -> Image.Image:
    """The edited photo in its stored orientation, size and mode.

    Args:
        photo: the loaded photo.
        rgb_edited_upright: uint8 [H, W, 3] edited upright RGB (same size as `photo.rgb`).
        changed_mask_upright: bool [H, W], True where the edit may have changed a pixel.
    Returns:
        A Pillow image whose pixels outside the mask are the stored pixels, byte for byte, and
        inside it the edit converted to the stored mode (alpha untouched); `info["exif"]` holds
        the stored EXIF block (pass it to `save_photo`).
    """
    rgb = np.asarray(rgb_edited_upright)
    mask = np.asarray(changed_mask_upright, dtype=bool)
    if rgb.shape != photo.rgb.shape or rgb.dtype != np.uint8:
        raise ValueError(f"edited image must be uint8 {photo.rgb.shape}, got {rgb.dtype} {rgb.shape}")
    if mask.shape != photo.rgb.shape[:2]:
        raise ValueError(f"changed mask must be {photo.rgb.shape[:2]}, got {mask.shape}")
    original = photo.original
    stored = np.array(original)  # a copy of the stored pixel data in its own dtype and layout
    mask_s = from_upright(mask, photo.orientation)
    if mask_s.any():
        edit = _edit_in_mode(photo, from_upright(rgb, photo.orientation))
        if stored.ndim == 3 and edit.ndim == 2:  # LA: the L channel
            stored[..., 0][mask_s] = edit[mask_s]
        elif stored.ndim == 3 and edit.shape[-1] < stored.shape[-1]:
            stored[..., : edit.shape[-1]][mask_s] = edit[mask_s]
        elif stored.ndim == 3 and stored.shape[-1] == 4 and photo.mode in ("RGBA", "RGBa"):
            stored[..., :3][mask_s] = edit[..., :3][mask_s]  # alpha untouched
        else:
            stored[mask_s] = edit[mask_s]
    if photo.mode == "1":
        out = Image.fromarray(stored)  # bool arrays map to mode "1"
    else:
        out = Image.frombytes(photo.mode, original.size, np.ascontiguousarray(stored).tobytes())
    if photo.mode in ("P", "PA"):
        out.putpalette(original.getpalette())
    for key in ("transparency", "dpi", "icc_profile"):
        if key in original.info:
            out.info[key] = original.info[key]
    if photo.exif is not None:
        out.info["exif"] = photo.exif
    return out


def default_output_suffix(photo: Photo) -> str:
    """A lossless suffix that can hold the photo's mode: '.png', or '.tiff' (CMYK, YCbCr, LAB, ...)."""
    return ".png" if photo.mode in _PNG_MODES else ".tiff"


def save_photo(path: str | os.PathLike, image: Image.Image, exif: bytes | None = None) -> Path:
    """Write `image` atomically; the format follows the suffix; `exif` (default: image.info's) is kept.

    Raises:
        PhotoError: unknown suffix, or a format that cannot hold the image's mode.
    """
    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise _fail(path, f"unknown image suffix {path.suffix!r}; use .png or .tiff (lossless)")
    exif = image.info.get("exif") if exif is None else exif
    params: dict = {}
    if exif is not None and fmt in ("PNG", "JPEG", "TIFF", "WEBP"):
        params["exif"] = exif
    for key in ("transparency", "dpi", "icc_profile"):
        if key in image.info and fmt in ("PNG", "TIFF"):
            params[key] = image.info[key]
    if fmt == "TIFF":
        # uncompressed: Pillow decodes compressed TIFFs through libtiff, which applies the orientation tag
        params["compression"] = "raw"
        # No orientation tag is written to TIFFs: Pillow 13 applies TIFF orientation tags on load for
        # some modes (RGB) and not others (CMYK), so a tagged TIFF would not read back byte-identical.

    def write(tmp: Path) -> None:
        try:
            image.save(tmp, format=fmt, **params)
        except (OSError, ValueError, KeyError) as exc:
            raise _fail(path, f"cannot write a {image.mode} image as {fmt}: {exc}") from exc

    return write_atomic(path, write)
