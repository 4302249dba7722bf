"""Photo I/O: EXIF orientation, modes, byte-identical untouched pixels, bad files."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from autodrag.photos.io import (
    PhotoError,
    compose_output,
    default_output_suffix,
    from_upright,
    load_photo,
    save_photo,
    to_upright,
)

RNG = np.random.default_rng(0)


def _exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_exif_transpose(orientation):
    a = RNG.integers(0, 255, (5, 7, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "PNG", exif=_exif(orientation))
    buf.seek(0)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(buf)))
    assert np.array_equal(to_upright(a, orientation), expected)
    assert np.array_equal(from_upright(expected, orientation), a)


def _image(mode: str) -> Image.Image:
    rgb = Image.fromarray(RNG.integers(0, 255, (24, 32, 3), dtype=np.uint8))
    if mode == "I;16":
        return Image.frombytes("I;16", (32, 24), RNG.integers(0, 65535, (24, 32)).astype("<u2").tobytes())
    img = rgb.convert(mode)
    if mode in ("LA", "RGBA"):
        img.putalpha(Image.fromarray(RNG.integers(0, 255, (24, 32), dtype=np.uint8)))
    return img


@pytest.mark.parametrize("mode", ["RGB", "L", "LA", "RGBA", "P", "I;16", "CMYK"])
def test_compose_keeps_mode_size_exif_and_untouched_pixels(tmp_path, mode):
    src = tmp_path / f"in{'.tiff' if mode == 'CMYK' else '.png'}"
    # (TIFF orientation tags are not covered: Pillow 13 applies them on load for some modes only)
    _image(mode).save(src, **({} if mode == "CMYK" else {"exif": _exif(6)}))
    photo = load_photo(src)
    orientation = 1 if mode == "CMYK" else 6
    assert photo.mode == mode and photo.orientation == orientation and photo.rgb.dtype == np.uint8
    assert photo.rgb.shape == ((24, 32, 3) if orientation == 1 else (32, 24, 3))  # upright
    edited = photo.rgb.copy()
    mask = np.zeros(photo.rgb.shape[:2], bool)
    mask[4:12, 3:9] = True
    edited[mask] = (250, 20, 20)
    out_path = tmp_path / f"out{default_output_suffix(photo)}"
    save_photo(out_path, compose_output(photo, edited, mask))
    back = Image.open(out_path)
    assert back.getexif().get(0x0112, 1) == orientation  # (read before load: Pillow drops a TIFF's tag)
    back.load()
    assert back.mode == mode and back.size == photo.original.size
    assert load_photo(out_path).orientation == orientation
    stored_in, stored_out = np.asarray(photo.original), np.asarray(back)
    mask_s = from_upright(mask, orientation)
    assert np.array_equal(stored_in[~mask_s], stored_out[~mask_s])
    assert not np.array_equal(stored_in[mask_s], stored_out[mask_s])
    if mode in ("LA", "RGBA"):  # alpha untouched, even inside the mask
        assert np.array_equal(stored_in[..., -1], stored_out[..., -1])
    if mode == "I;16":  # scaled up: 8-bit luma * 257
        luma = np.asarray(Image.fromarray(from_upright(edited, orientation)).convert("L"), dtype=np.int64)
        assert np.array_equal(stored_out[mask_s].astype(np.int64), luma[mask_s] * 257)
    if mode == "RGB":
        assert np.array_equal(load_photo(out_path).rgb[mask], edited[mask])


def test_sixteen_bit_scaled_to_eight(tmp_path):
    values = np.array([[0, 257, 65535, 32896]], dtype="<u2")
    Image.frombytes("I;16", (4, 1), values.tobytes()).save(tmp_path / "a.png")
    assert load_photo(tmp_path / "a.png").rgb[0, :, 0].tolist() == [0, 1, 255, 128]


def _one_line_naming(exc: pytest.ExceptionInfo, path) -> None:
    msg = str(exc.value)
    assert "\n" not in msg and str(path) in msg


def test_bad_inputs(tmp_path):
    cases = {}
    (tmp_path / "notes.jpg").write_text("this is not an image\n")
    cases["notes.jpg"] = "not an image"
    (tmp_path / "empty.png").write_bytes(b"")
    cases["empty.png"] = "empty file"
    buf = io.BytesIO()
    Image.fromarray(RNG.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    cases["cut.jpg"] = "truncated"
    cases["missing.png"] = "no such file"
    for name, what in cases.items():
        with pytest.raises(PhotoError, match=what) as exc:
            load_photo(tmp_path / name)
        _one_line_naming(exc, tmp_path / name)
    Image.new("RGB", (100, 100)).save(tmp_path / "big.png")
    with pytest.raises(PhotoError, match="too large") as exc:
        load_photo(tmp_path / "big.png", max_pixels=5000)
    _one_line_naming(exc, tmp_path / "big.png")
    assert load_photo(tmp_path / "big.png", max_pixels=10_000).rgb.shape == (100, 100, 3)
    assert isinstance(exc.value, ValueError)


def test_save_is_atomic_and_checks_suffix(tmp_path):
    img = Image.new("RGB", (4, 4), (1, 2, 3))
    with pytest.raises(PhotoError, match="unknown image suffix"):
        save_photo(tmp_path / "x.nope", img)
    save_photo(tmp_path / "x.png", img)
    assert [p.name for p in tmp_path.iterdir()] == ["x.png"]  # no temp file left
