"""Safe upload decoding: limits, bombs, non-images, corrupt files."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from autodrag.web.uploads import UploadError, UploadLimits, decode_image
from tests.web.conftest import png_header


def _png(array: np.ndarray, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt)
    return buffer.getvalue()


def test_decodes_a_png_and_a_jpeg_to_rgb():
    array = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    np.testing.assert_array_equal(decode_image(_png(array)), array)
    gray = decode_image(_png(array[..., 0], "JPEG"))
    assert gray.shape == (20, 30, 3) and gray.dtype == np.uint8


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"hello, I am a text file", "not an image"),
        (png_header(20000, 20000), "too large to decode safely"),  # Pillow's own bomb limit, before any pixel
        (png_header(9000, 10), "9000x10 is too large"),  # our side limit
        (
            _png(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8))[:3000],
            "corrupt or truncated",
        ),
    ],
)
def test_bad_uploads_raise_one_line_errors(data, message):
    with pytest.raises(UploadError, match=message) as info:
        decode_image(data, name="face.png")
    assert str(info.value).startswith("face.png: ") and "\n" not in str(info.value)


def test_size_and_pixel_limits():
    data = _png(np.zeros((40, 40, 3), np.uint8))
    with pytest.raises(UploadError, match="over the 0 MB limit"):
        decode_image(data, limits=UploadLimits(max_bytes=10))
    with pytest.raises(UploadError, match="40x40 is too large"):
        decode_image(data, limits=UploadLimits(max_pixels=1000))
    with pytest.raises(UploadError, match="PNG images are not accepted"):
        decode_image(data, limits=UploadLimits(formats=("JPEG",)))
