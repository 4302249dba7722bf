"""Paste back: unchanged pixels stay byte-identical; modes, size and EXIF orientation survive."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from autodrag.photos.align import align_face
from autodrag.photos.faces import find_faces
from autodrag.photos.io import compose_output, default_output_suffix, from_upright, load_photo, save_photo
from autodrag.photos.paste import paste_back
from autodrag.toyfaces.photos import render_toy_photo


@pytest.fixture(scope="module")
def toy():
    tp = render_toy_photo(3)
    return tp, align_face(tp.rgb, tp.landmarks, 128)


def _edit(crop: np.ndarray) -> np.ndarray:
    out = crop.copy()
    out[80:100, 45:83] = (20, 200, 40)  # paint over the mouth
    return out


def test_unedited_crop_changes_nothing(toy):
    tp, al = toy
    same = paste_back(tp.rgb, al.crop, al.crop, al.transform)
    assert np.array_equal(same.rgb, tp.rgb) and not same.mask_upright.any()
    plain = paste_back(tp.rgb, al.crop, None, al.transform, landmarks_crop=al.landmarks_crop)
    assert np.array_equal(plain.rgb[~plain.mask_upright], tp.rgb[~plain.mask_upright])
    diff = np.abs(plain.rgb.astype(int) - tp.rgb.astype(int))[plain.mask_upright]
    assert plain.mask_upright.sum() > 1000 and diff.mean() < 3.0


def test_edit_changes_pixels_only_inside_the_mask(toy):
    tp, al = toy
    res = paste_back(tp.rgb, _edit(al.crop), al.crop, al.transform)
    changed = np.any(res.rgb != tp.rgb, axis=2)
    assert changed.sum() > 100 and not (changed & ~res.mask_upright).any()
    mouth = tp.landmarks[48:60].mean(axis=0)
    ys, xs = np.nonzero(res.mask_upright)
    assert np.hypot(xs.mean() - mouth[0], ys.mean() - mouth[1]) < 0.1 * tp.params["face_side"]
    assert res.alpha.min() >= 0 and res.alpha.max() <= 1 and np.array_equal(res.mask_upright, res.alpha > 0)


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "I;16", "CMYK"])
def test_modes_round_trip_through_paste(tmp_path, toy, mode):
    tp, _ = toy
    img = Image.fromarray(tp.rgb)
    if mode == "I;16":
        img = Image.frombytes(
            "I;16", img.size, (np.asarray(img.convert("L"), np.uint16) * 257).astype("<u2").tobytes()
        )
    elif mode == "RGBA":
        img = img.convert("RGBA")
        img.putalpha(
            Image.fromarray(np.random.default_rng(0).integers(0, 255, tp.rgb.shape[:2], dtype=np.uint8))
        )
    else:
        img = img.convert(mode)
    src = tmp_path / ("in.tiff" if mode == "CMYK" else "in.png")
    img.save(src)
    photo = load_photo(src)
    al = align_face(photo.rgb, tp.landmarks, 128)
    res = paste_back(photo.rgb, _edit(al.crop), al.crop, al.transform)
    out = tmp_path / f"out{default_output_suffix(photo)}"
    save_photo(out, compose_output(photo, res.rgb, res.mask_upright))
    back = Image.open(out)
    back.load()
    assert back.mode == mode and back.size == img.size
    a, b = np.asarray(img), np.asarray(back)
    assert np.array_equal(a[~res.mask_upright], b[~res.mask_upright])
    assert not np.array_equal(a[res.mask_upright], b[res.mask_upright])


def test_exif_rotated_jpeg(tmp_path):
    tp = render_toy_photo(4)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: viewers turn it 90 degrees clockwise
    Image.fromarray(from_upright(tp.rgb, 6)).save(tmp_path / "in.jpg", quality=95, exif=exif.tobytes())
    photo = load_photo(tmp_path / "in.jpg")
    assert photo.orientation == 6 and photo.rgb.shape == tp.rgb.shape
    face = find_faces(photo.rgb, "toy")[0]  # found upright, where the face really is
    assert np.abs(face.landmarks - tp.landmarks).mean() < 0.05 * tp.params["face_side"]
    al = align_face(photo.rgb, face.landmarks, 128)
    res = paste_back(photo.rgb, _edit(al.crop), al.crop, al.transform)
    out = tmp_path / f"out{default_output_suffix(photo)}"
    assert out.suffix == ".png"
    save_photo(out, compose_output(photo, res.rgb, res.mask_upright))
    back = Image.open(out)
    assert back.getexif().get(0x0112) == 6 and back.size == photo.original.size
    stored_in, stored_out = np.asarray(photo.original), np.asarray(back)
    mask_s = from_upright(res.mask_upright, 6)
    assert np.array_equal(stored_in[~mask_s], stored_out[~mask_s]) and mask_s.any()
