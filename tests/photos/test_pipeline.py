"""Photo in, photo out: presets and drags on the inverted face, pasted back only where the edit changed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from autodrag.images import save_png
from autodrag.landmarks.base import LandmarkDetector
from autodrag.networks.default import random_generator
from autodrag.photos import pipeline
from autodrag.photos.align import sample_affine, template_points
from autodrag.photos.faces import find_faces
from autodrag.photos.invert import InversionConfig
from autodrag.photos.io import load_photo
from autodrag.photos.paste import hull_region
from autodrag.toyfaces.photos import render_toy_photo

TINY = InversionConfig(w_steps=2, w_plus_steps=2, tune_steps=2, w_avg_samples=64, patience=0)
TOY = InversionConfig(w_steps=40, w_plus_steps=30, tune_steps=60, w_avg_samples=500)  # ~10 s, ~25 dB


class KnownLandmarks(LandmarkDetector):
    """The photo's detected landmarks, in crop pixels, for a random-weight generator (no face to detect)."""

    def __init__(self, landmarks_crop: np.ndarray) -> None:
        self.landmarks = np.asarray(landmarks_crop, dtype=np.float32)

    def detect(self, image: np.ndarray) -> np.ndarray:
        return self.landmarks.copy()


def _stored(image: Image.Image) -> np.ndarray:
    return np.asarray(image)


def test_paste_changes_only_where_the_edit_changed(tmp_path):
    tp = render_toy_photo(5)
    faces = find_faces(tp.rgb, "toy")
    transform = pipeline.toy_transform(faces[0].landmarks, 64)
    crop = pipeline._align(tp.rgb, faces[0].landmarks, 64, "toy").crop
    lm_crop = transform.to_crop(faces[0].landmarks)
    same = pipeline.paste_edit(tp.rgb, crop, crop, transform, lm_crop)
    assert not same.mask.any() and np.array_equal(same.rgb, tp.rgb)  # no edit: not one pixel changes
    edited = crop.copy()
    edited[20:28, 20:44] = 255  # an edit over the eyes
    for mode in pipeline.PASTE_MODES:
        out = pipeline.paste_edit(tp.rgb, edited, crop, transform, lm_crop, mode=mode)
        changed = (out.rgb != tp.rgb).any(axis=2)
        assert changed.any() and not (changed & ~out.mask).any()
        centre = np.rint(transform.to_photo(np.array([32.0, 24.0]))).astype(int)
        assert out.rgb[centre[1], centre[0]].min() >= 240  # the edit arrived at the photo's eye
        assert out.mask.mean() < 0.2  # and only around it


@pytest.mark.parametrize("mode", ["L", "RGBA", "I;16", "CMYK", "exif6", "huge"])
def test_photo_modes_keep_size_mode_orientation_and_untouched_pixels(tmp_path, mode):
    G = random_generator(img_resolution=32, seed=1).eval()
    rgb = render_toy_photo(6).rgb
    path = tmp_path / ("photo.tiff" if mode == "CMYK" else "photo.png")
    img = Image.fromarray(rgb)
    kwargs = {}
    if mode == "exif6":  # stored sideways, EXIF says rotate: the upright view is the toy photo
        img = Image.fromarray(np.rot90(rgb, 1).copy())
        exif = Image.Exif()
        exif[0x0112] = 6
        kwargs["exif"] = exif.tobytes()
    elif mode == "huge":  # detected on a downscaled copy, pasted at full size
        img = img.resize((img.width * 5, img.height * 5), Image.Resampling.BILINEAR)
    elif mode == "I;16":
        img = Image.fromarray(np.asarray(img.convert("L")).astype(np.uint16) * 257)
    else:
        img = img.convert(mode)
    img.save(path, **kwargs)
    before = load_photo(path)
    pe = pipeline.edit_photo(
        path,
        G,
        drags=[((12.0, 12.0), (14.0, 15.0))],
        project_dir=tmp_path / "proj",
        backend="toy",
        config=TINY,
        framing="toy",
        bundled=False,
        steps=3,
    )
    assert pe.output.size == before.original.size and pe.output.mode == before.mode
    stored, out = _stored(before.original), _stored(pe.output)
    from autodrag.photos.io import from_upright

    outside = ~from_upright(pe.paste_mask, before.orientation)
    assert np.array_equal(stored[outside], out[outside])
    if mode == "exif6":
        assert pe.output.info.get("exif") == before.exif


def _face_outside_movable_change(pe, rgb_before: np.ndarray) -> float:
    """Mean |output - input| / 255 over the face (crop landmarks' hull) but outside the preset's movable region."""
    t = pe.project.transform
    h, w = rgb_before.shape[:2]
    size = t.size
    movable = sample_affine(pe.edit.plan.mask.astype(np.float32), t.photo_to_crop, (w, h)) > 0.5
    face = (
        sample_affine(
            hull_region(np.asarray(pe.project.layout["landmarks_crop"]), size, 0.0), t.photo_to_crop, (w, h)
        )
        > 0.5
    )
    diff = np.abs(pe.output_rgb.astype(np.float64) - rgb_before).mean(axis=2)
    return float(diff[face & ~movable].mean())


def test_close_eyes_on_a_toy_photo_closes_them_in_the_output_photo(tmp_path):
    from autodrag.networks.loading import load_default_generator

    G = load_default_generator().eval()
    tp = render_toy_photo(1)
    path = tmp_path / "toy.png"
    save_png(path, tp.rgb)
    pe = pipeline.edit_photo(path, G, "close_eyes", project_dir=tmp_path / "proj", config=TOY, steps=150)
    assert pe.project.metrics["psnr_tune"] > pe.project.metrics["psnr_w_plus"]
    j = pe.judged
    assert j["error"] is None and j["success"] == {"close_eyes": True}, j
    ear = lambda m: (m["ear_left"] + m["ear_right"]) / 2
    assert ear(j["measures_after"]) < 0.5 * ear(j["measures_before"])  # re-detected in the OUTPUT photo
    changed = (pe.output_rgb != tp.rgb).any(axis=2)
    assert changed.any() and not (changed & ~pe.paste_mask).any()
    assert np.array_equal(np.asarray(pe.output)[~pe.paste_mask], tp.rgb[~pe.paste_mask])
    assert _face_outside_movable_change(pe, tp.rgb) <= 3.0


def test_astronaut_with_dlib_aligns_and_runs_end_to_end_on_a_256px_generator(tmp_path):
    skimage_data = pytest.importorskip("skimage.data", reason="scikit-image ships the astronaut portrait")
    path = tmp_path / "astronaut.jpg"
    Image.fromarray(skimage_data.astronaut()).save(path, quality=92)
    photo = load_photo(path)
    faces = find_faces(photo.rgb, "dlib")
    assert len(faces) == 1
    G = random_generator(img_resolution=256, seed=0, synthesis_kwargs=dict(channel_base=1024, channel_max=16))
    G.eval()
    prep = pipeline.prepare_photo(path, 256, "dlib", 0, "ffhq")
    lm = prep.transform.to_crop(faces[0].landmarks)
    from autodrag.photos.align import face_anchor_points

    left, right, mouth = face_anchor_points(lm)
    angle = math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))
    assert abs(angle) < 1.0  # the eye line is level after alignment
    ratio = float(np.linalg.norm(right - left) / np.linalg.norm(mouth - (left + right) / 2))
    template = template_points(256, ratio)
    err = np.linalg.norm(np.stack([left, right]) - template[:2], axis=1).max() / 256
    assert err < 0.02  # eyes at the template positions within 2 % of the crop width
    project = pipeline.invert_photo(path, G, tmp_path / "proj", "dlib", 0, TINY, bundled=False, prepared=prep)
    detector = KnownLandmarks(prep.transform.to_crop(faces[0].landmarks))
    pe = pipeline.edit_photo(
        project,
        G,
        "close_eyes",
        detector,
        photo_path=path,
        bundled=False,
        steps=2,
        tracking="features",
        guide=False,
        judge=False,
    )
    assert pe.output.size == photo.original.size and pe.output.mode == photo.mode == "RGB"
    out = np.asarray(pe.output)
    assert np.array_equal(out[~pe.paste_mask], photo.rgb[~pe.paste_mask])
    assert pe.paste_mask.any() and pe.paste_mask.mean() < 0.5
