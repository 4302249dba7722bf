"""Photo in, photo out: find and align the face, invert it (or reuse its project), edit, paste back.

`invert_photo` makes (or reuses) a photo project (`photos.project`). `edit_photo` runs presets
(`presets.edit.run_edit`) or free drags (`DragSession`) on the pivot with the tuned generator, then
pastes back only where the edit changed the crop: the face region (`paste.hull_region` of the
crop landmarks) times where |edited - reconstruction| > 2 levels (grown, feathered). In the default
``paste="difference"`` mode the photo gets ``photo + alpha * warp(edited - reconstruction)``, so what
the reconstruction got wrong is never pasted; ``paste="replace"`` blends the edited crop itself
(`paste.paste_back`). Pixels outside the paste mask are the input's, byte for byte
(`io.compose_output`). A preset succeeds when the landmarks re-detected in the *output photo* pass
the rules `autodrag edit` uses (`presets.measures.preset_success`).
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from autodrag.drag import DragConfig, DragSession
from autodrag.drag.results import DragSummary
from autodrag.images import to_uint8
from autodrag.landmarks.base import LandmarkDetector
from autodrag.landmarks.detection import FaceDetection
from autodrag.photos.align import AlignTransform, align_face, fit_similarity, sample_affine
from autodrag.photos.faces import FaceError, find_faces, select_face
from autodrag.photos.invert import InversionConfig, invert
from autodrag.photos.io import Photo, PhotoError, compose_output, load_photo
from autodrag.photos.paste import DEFAULT_FEATHER_FRACTION, change_region, feather, hull_region, paste_back
from autodrag.photos.project import (
    PhotoProject,
    load_project,
    project_key,
    read_project,
    reuse_reason,
    start_project,
    write_project,
)
from autodrag.photos.tuned import fingerprint
from autodrag.presets.edit import EditResult, preset_drag_config, run_edit
from autodrag.presets.measures import face_measures, preset_success

__all__ = [
    "FRAMINGS",
    "PASTE_MODES",
    "Pasted",
    "PhotoEdit",
    "edit_photo",
    "invert_photo",
    "judge_output",
    "paste_edit",
    "prepare_photo",
    "resolve_backend",
    "resolve_framing",
    "toy_transform",
]

FRAMINGS = ("auto", "ffhq", "toy")
PASTE_MODES = ("difference", "replace")
Progress = Callable[[str, int, int, float], None]


def resolve_backend(backend: str, bundled: bool) -> str:
    """'auto' -> 'toy' for the bundled model's faces, 'auto' (dlib) otherwise; others unchanged."""
    return "toy" if backend == "auto" and bundled else backend


def resolve_framing(framing: str, bundled: bool) -> str:
    """'auto' -> 'toy' (the bundled renderer's framing) for the bundled model, 'ffhq' otherwise."""
    if framing not in FRAMINGS:
        raise ValueError(f"unknown framing {framing!r}; choose one of {', '.join(FRAMINGS)}")
    return ("toy" if bundled else "ffhq") if framing == "auto" else framing


def toy_transform(landmarks: np.ndarray, size: int) -> AlignTransform:
    """The similarity that puts `landmarks` on the mean toy face at `size` px (the bundled model's framing)."""
    from autodrag.photos.faces import toy_framing

    m, _ = fit_similarity(toy_framing(size), np.asarray(landmarks, dtype=np.float64))
    return AlignTransform(m, int(size))


def _align(rgb: np.ndarray, landmarks: np.ndarray, size: int, framing: str):
    transform = toy_transform(landmarks, size) if framing == "toy" else None
    return align_face(rgb, landmarks, size, transform=transform)


def _face_record(face: FaceDetection) -> dict:
    return {
        "box": [round(float(v), 3) for v in face.box],
        "score": round(float(face.score), 5),
        "inter_ocular": round(face.inter_ocular, 3),
        "landmarks": np.round(face.landmarks, 3).tolist(),
    }


@dataclass
class Prepared:
    """A photo ready to invert: loaded, its faces found, the chosen one aligned."""

    photo: Photo
    faces: list[FaceDetection]
    face_index: int
    crop: np.ndarray
    transform: AlignTransform
    layout: dict
    sha256: str


def prepare_photo(
    photo_path: str | os.PathLike,
    size: int,
    backend: str = "auto",
    face_index: int = 0,
    framing: str = "ffhq",
    progress: Progress | None = None,
) -> Prepared:
    """Load, detect, select and align (no file is written). Raises PhotoError / FaceError (one line)."""
    from autodrag.presets.record import file_sha256

    photo = load_photo(photo_path)
    if progress:
        progress("detect", 0, 1, float("nan"))
    try:
        faces = find_faces(photo.rgb, backend)
        face = select_face(faces, face_index)
    except FaceError as exc:
        raise FaceError(f"{photo.name}: {exc}") from None
    if progress:
        progress("detect", 1, 1, float("nan"))
    aligned = _align(photo.rgb, face.landmarks, size, framing)
    h, w = photo.rgb.shape[:2]
    layout = {
        "photo": {"width": w, "height": h, "orientation": photo.orientation, "mode": photo.mode},
        "face_index": int(face_index),
        "framing": framing,
        "backend": backend,
        "faces": [_face_record(f) for f in faces],
        "landmarks_crop": np.round(aligned.landmarks_crop, 3).tolist(),
    }
    return Prepared(
        photo, faces, face_index, aligned.crop, aligned.transform, layout, file_sha256(photo.path)
    )


def invert_photo(
    photo_path: str | os.PathLike,
    G: torch.nn.Module,
    out_dir: str | os.PathLike,
    backend: str = "auto",
    face_index: int = 0,
    config: InversionConfig | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    *,
    framing: str = "auto",
    generator_path: str | os.PathLike | None = None,
    bundled: bool | None = None,
    loss=None,
    command: str | None = None,
    prepared: Prepared | None = None,
) -> PhotoProject:
    """The photo's project in `out_dir`: reused when finished with the same photo/generator/settings/face,
    else (re)made (`PhotoProject.note` says which and why).

    Args:
        backend: face backend ('auto' = toy for the bundled model, dlib otherwise; 'dlib', 'fan', 'toy').
        framing: 'auto' = the bundled renderer's framing for the bundled model, FFHQ's otherwise.
        generator_path: the generator's file (recorded); bundled: is G the bundled model (default: no path).
        progress: (stage, step, total, loss) for 'detect' and the inversion stages; should_stop: see `invert`.
    Raises:
        PhotoError, FaceError: bad photo or no usable face (nothing is written then).
    """
    bundled = generator_path is None if bundled is None else bundled
    backend = resolve_backend(backend, bundled)
    framing = resolve_framing(framing, bundled)
    config = config or InversionConfig()
    out_dir = Path(out_dir)
    prep = prepared or prepare_photo(
        photo_path, int(G.img_resolution), backend, face_index, framing, progress
    )
    key = project_key(
        photo_sha256=prep.sha256,
        generator_fingerprint=fingerprint(G),
        config=config,
        backend=backend,
        face_index=face_index,
        framing=framing,
    )
    why = reuse_reason(out_dir, key)
    if why is None:
        project = load_project(out_dir, G)
        project.note = f"reused the finished inversion in {out_dir}"
        return project
    context = {
        "command": command or " ".join(sys.argv),
        "photo": {"path": str(Path(photo_path).resolve()), "sha256": prep.sha256},
        "generator": {
            "path": None if generator_path is None else str(generator_path),
            "fingerprint": key["generator_fingerprint"],
            "bundled": bundled,
            "resolution": int(G.img_resolution),
        },
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    start_project(out_dir, key, **context)
    started = time.perf_counter()
    size = int(G.img_resolution)
    region = hull_region(np.asarray(prep.layout["landmarks_crop"]), size, size * DEFAULT_FEATHER_FRACTION)
    inversion = invert(
        G, prep.crop, config, loss=loss, progress=progress, should_stop=should_stop, region=region
    )
    write_project(
        out_dir,
        G,
        prep.crop,
        prep.transform,
        prep.layout,
        inversion,
        key,
        time.perf_counter() - started,
        **context,
    )
    G_tuned = inversion.G_tuned.eval().requires_grad_(False) if inversion.G_tuned is not None else G
    project = PhotoProject(
        dir=out_dir,
        crop=prep.crop,
        transform=prep.transform,
        ws_w=inversion.ws_w,
        ws_pivot=inversion.ws_pivot,
        G_tuned=G_tuned,
        metrics=read_json(out_dir / "metrics.json"),
        info=read_project(out_dir) or {},
        layout={**prep.layout, "transform": prep.transform.to_dict()},
    )
    project.note = ("inverted (" + why + ")") if why != "no project yet" else "inverted"
    if inversion.stopped:
        project.note = f"inversion stopped during stage {inversion.stopped}; what it had is in {out_dir}"
    return project


def read_json(path: Path) -> dict:
    import json

    return json.loads(Path(path).read_text())


# -- paste ------------------------------------------------------------------------------------


@dataclass
class Pasted:
    """The pasted photo (upright RGB), where it may differ from the input, and the blend weight."""

    rgb: np.ndarray  # uint8 [H, W, 3]
    mask: np.ndarray  # bool [H, W]
    alpha: np.ndarray  # float32 [H, W]


def paste_edit(
    photo_rgb: np.ndarray,
    edited: np.ndarray,
    reconstruction: np.ndarray,
    transform: AlignTransform,
    landmarks_crop: np.ndarray | None,
    mode: str = "difference",
    threshold: float = 2.0,
    movable_crop: np.ndarray | None = None,
) -> Pasted:
    """Paste the edit into the photo only where it changed the crop (see the module docstring).

    `movable_crop` (bool [R, R], the preset's movable region): with mode 'difference', the edited crop
    itself is pasted inside it (feathered) and the difference elsewhere.
    """
    if mode not in PASTE_MODES:
        raise ValueError(f"unknown paste mode {mode!r}; choose one of {', '.join(PASTE_MODES)}")
    if mode == "replace":
        r = paste_back(photo_rgb, edited, reconstruction, transform, landmarks_crop=landmarks_crop)
        return Pasted(r.rgb, r.mask_upright, r.alpha)
    size = transform.size
    feather_px = size * DEFAULT_FEATHER_FRACTION
    region = (
        hull_region(landmarks_crop, size, feather_px)
        if landmarks_crop is not None
        else np.ones((size, size), np.float32)
    )
    region = region * change_region(edited, reconstruction, feather_px, threshold)
    region[region < 1.0 / 1024.0] = 0.0
    photo = np.asarray(photo_rgb)
    h, w = photo.shape[:2]
    out, alpha = photo.copy(), np.zeros((h, w), np.float32)
    if not region.any():
        return Pasted(out, np.zeros((h, w), bool), alpha)
    quad = transform.photo_quad()
    x0, y0 = np.maximum(np.floor(quad.min(axis=0)).astype(int) - 1, 0)
    x1, y1 = np.minimum(np.ceil(quad.max(axis=0)).astype(int) + 2, [w, h])
    if x0 >= x1 or y0 >= y1:
        return Pasted(out, np.zeros((h, w), bool), alpha)
    to_crop = transform.photo_to_crop.copy()
    to_crop[:, 2] += to_crop[:, :2] @ np.array([x0, y0], dtype=np.float64)
    k = min(4, max(1, math.ceil(1.0 / transform.scale)))
    wh = (int(x1 - x0), int(y1 - y0))
    a = np.clip(sample_affine(region, to_crop, wh, supersample=k), 0.0, 1.0)
    a[a < 1.0 / 1024.0] = 0.0
    where = a > 0
    cover = np.maximum(sample_affine(np.ones((size, size), np.float32), to_crop, wh, k), 1e-6)

    def warp(image: np.ndarray) -> np.ndarray:
        return np.stack(
            [sample_affine(np.ascontiguousarray(image[..., c]), to_crop, wh, k) / cover for c in range(3)],
            axis=2,
        )[where]

    win = out[y0:y1, x0:x1]
    base = win[where].astype(np.float32)
    change = warp(edited.astype(np.float32) - reconstruction.astype(np.float32))  # difference transfer
    if movable_crop is not None:  # inside the movable region: the edited crop itself
        m = np.clip(
            sample_affine(feather(np.asarray(movable_crop, np.float32), 2 * feather_px), to_crop, wh, k), 0, 1
        )[where, None]
        change = (1 - m) * change + m * (warp(edited.astype(np.float32)) - base)
    blend = base + change * a[where, None]
    win[where] = np.clip(np.rint(blend), 0, 255).astype(np.uint8)
    alpha[y0:y1, x0:x1] = a
    return Pasted(out, alpha > 0, alpha)


# -- judging ----------------------------------------------------------------------------------


def _nearest_face(faces: Sequence[FaceDetection], landmarks: np.ndarray) -> FaceDetection:
    centre = np.asarray(landmarks).mean(axis=0)
    return min(faces, key=lambda f: float(np.linalg.norm(np.asarray(f.landmarks).mean(axis=0) - centre)))


def judge_output(
    output_rgb: np.ndarray,
    backend: str,
    transform: AlignTransform,
    landmarks_before_photo: np.ndarray,
    presets: list[str],
    targets_crop: np.ndarray | None,
    handle_rows: np.ndarray | None,
    *,
    detector: LandmarkDetector | None = None,
) -> dict:
    """Re-detect the face in the output photo; preset success as `autodrag edit` judges it (crop pixels).

    With `detector` (a crop landmark detector) the output photo is re-cut with the project's `transform`
    and the landmarks are detected on that crop (the framing the edit was planned in); otherwise the face
    is searched again in the whole photo with `backend` (`find_faces`, the face nearest the edited one).
    Returns a dict: landmarks_after (photo px, or None), measures_before/after, md_px, success, error.
    """
    before_crop = transform.to_crop(landmarks_before_photo)
    record: dict = {
        "measures_before": face_measures(before_crop),
        "landmarks_after": None,
        "measures_after": None,
        "md_px": float("nan"),
        "success": {p: False for p in presets},
        "error": None,
    }
    try:
        if detector is not None:
            recut = align_face(
                np.asarray(output_rgb), landmarks_before_photo, transform.size, transform=transform
            )
            after_photo = transform.to_photo(np.asarray(detector.detect(recut.crop), dtype=np.float64))
        else:
            faces = find_faces(output_rgb, backend)
            after_photo = np.asarray(_nearest_face(faces, landmarks_before_photo).landmarks, dtype=np.float64)
    except (
        FaceError,
        ValueError,
    ) as exc:  # detectors raise ValueError subclasses (e.g. NoFaceFound) for no face
        record["error"] = f"no face re-detected in the output: {exc}"
        return record
    after_crop = transform.to_crop(after_photo)
    md = float("nan")
    if targets_crop is not None and handle_rows is not None and len(handle_rows):
        md = float(np.linalg.norm(after_crop[handle_rows] - targets_crop, axis=1).mean())
    record.update(landmarks_after=after_photo, measures_after=face_measures(after_crop), md_px=md)
    if presets:
        record["success"] = preset_success(
            presets,
            record["measures_before"],
            record["measures_after"],
            md if math.isfinite(md) else float("inf"),
            transform.size,
        )
    return record


# -- editing ----------------------------------------------------------------------------------


@dataclass
class PhotoEdit:
    """An edited photo and everything needed to judge and save it."""

    project: PhotoProject
    photo: Photo
    presets: list[str]
    reconstruction: np.ndarray  # uint8 [R, R, 3]: the tuned generator at the pivot (before the edit)
    edited_crop: np.ndarray  # uint8 [R, R, 3]
    output: Image.Image  # the photo's size, mode and orientation (save with `io.save_photo`)
    output_rgb: np.ndarray  # uint8 [H, W, 3] upright
    paste_mask: np.ndarray  # bool [H, W] upright: the only pixels that may differ from the input
    alpha: np.ndarray  # float32 [H, W]
    edit: EditResult | None = None  # presets: run_edit's result (crop space)
    drag: DragSummary | None = None  # free drags: how the drag ended (crop (row, col) points)
    latent: np.ndarray | None = None  # float32 [num_ws, w_dim], the edited ws
    judged: dict = field(default_factory=dict)  # judge_output's record (presets only)
    seconds: dict = field(default_factory=dict)  # invert, edit, paste, judge

    @property
    def success(self) -> dict[str, bool]:
        return dict(self.judged.get("success", {}))


def _default_detector(backend: str, bundled: bool, device: str) -> LandmarkDetector:
    from autodrag.landmarks.select import detector_for

    crop_backend = (
        "toy" if bundled or backend == "toy" else ("dlib" if backend in ("auto", "dlib") else backend)
    )
    return detector_for(crop_backend, bundled_model=bundled, device=device)


def edit_photo(
    source: str | os.PathLike | PhotoProject,
    G: torch.nn.Module,
    presets: str | list[str] | None = None,
    detector: LandmarkDetector | None = None,
    *,
    drags: Sequence[tuple[Sequence[float], Sequence[float]]] | None = None,
    photo_path: str | os.PathLike | None = None,
    project_dir: str | os.PathLike | None = None,
    backend: str = "auto",
    face_index: int = 0,
    config: InversionConfig | None = None,
    framing: str = "auto",
    generator_path: str | os.PathLike | None = None,
    bundled: bool | None = None,
    strength: float = 1.0,
    steps: int = 300,
    lr: float | None = None,
    mask: bool | np.ndarray = True,
    tracking: str = "auto",
    guide: bool = True,
    drag_config: DragConfig | None = None,
    paste: str = "difference",
    judge: bool = True,
    progress: Progress | None = None,
    on_step: Callable[[int, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> PhotoEdit:
    """Edit a photo with presets or free drags and paste the result back.

    Args:
        source: a photo file (inverted into `project_dir`, default `<photo stem>.project` beside it, or
            reused from there) or a `PhotoProject` (then `photo_path` defaults to its recorded photo).
        presets: 'close_eyes,smile' or a list; or drags: [((row, col) handle, (row, col) target), ...] in
            crop pixels (then `mask` may be a bool [R, R] movable mask).
        detector: landmarks on the crop (default: the bundled detector for the bundled model, else dlib/fan).
        steps, lr, strength, tracking, guide: as `autodrag edit`. paste: 'difference' or 'replace'.
        drag_config: free drags' other settings (W+ rows, tracking metric...); steps and lr override it.
        judge: re-detect the output photo's landmarks and judge the presets (`judge_output`).
    Raises:
        PhotoError, FaceError, PresetError, DragInputError, ValueError.
    """
    if (presets is None) == (drags is None):
        raise ValueError("give presets or drags (exactly one of them)")
    bundled = generator_path is None if bundled is None else bundled
    times: dict[str, float] = {}
    started = time.perf_counter()
    if isinstance(source, PhotoProject):
        project = source
        photo_path = photo_path or project.info.get("photo", {}).get("path")
        if photo_path is None:
            raise PhotoError(f"{project.dir}: the project does not record its photo; pass photo_path")
    else:
        photo_path = Path(source)
        directory = Path(project_dir) if project_dir else photo_path.with_name(photo_path.stem + ".project")
        project = invert_photo(
            photo_path,
            G,
            directory,
            backend,
            face_index,
            config,
            progress,
            should_stop,
            framing=framing,
            generator_path=generator_path,
            bundled=bundled,
        )
    times["invert"] = time.perf_counter() - started
    photo = load_photo(photo_path)
    used_backend = project.info.get("key", {}).get("backend", resolve_backend(backend, bundled))
    G_edit = project.G_tuned
    ws = torch.from_numpy(project.ws_pivot).to(next(G.parameters()).device)
    t = time.perf_counter()
    edit, drag_summary = None, None
    if presets is not None:
        names = presets.split(",") if isinstance(presets, str) else list(presets)
        detector = detector or _default_detector(used_backend, bundled, str(ws.device))
        drag_config = preset_drag_config(presets=names, max_steps=steps, lr=lr)
        edit = run_edit(
            G_edit,
            ws,
            detector,
            names,
            strength,
            mask=bool(mask),
            config=drag_config,
            frame_every=0,
            tracking=tracking,
            guide=guide,
            on_step=on_step,
        )
        reconstruction, edited, latent = edit.image_before, edit.image_after, edit.latent
    else:
        names = []
        drag_config = replace(
            drag_config or DragConfig(), max_steps=steps, **({} if lr is None else {"lr": lr})
        )
        session = DragSession(G_edit, ws, drag_config)
        reconstruction = to_uint8(session.render())
        handles = np.asarray([h for h, _ in drags], dtype=np.float64)
        targets = np.asarray([tg for _, tg in drags], dtype=np.float64)
        movable = None if isinstance(mask, bool) else np.asarray(mask, dtype=np.float32)
        session.start_drag(handles, targets, movable)
        for result in session.run():
            if on_step is not None:
                on_step(result.step, float("nan") if result.loss is None else result.loss)
            if should_stop is not None and should_stop():
                session.stop()  # ends after this step; run() then finishes the drag
        drag_summary = session.last_summary
        edited, latent = to_uint8(session.render()), session.latent.detach().cpu().numpy()
    times["edit"] = time.perf_counter() - t
    t = time.perf_counter()
    landmarks_crop = np.asarray(project.layout.get("landmarks_crop"), dtype=np.float64)
    movable = (
        edit.plan.mask if edit is not None and bool(mask) else (None if isinstance(mask, bool) else mask)
    )
    pasted = paste_edit(
        photo.rgb, edited, reconstruction, project.transform, landmarks_crop, mode=paste, movable_crop=movable
    )
    output = compose_output(photo, pasted.rgb, pasted.mask)
    times["paste"] = time.perf_counter() - t
    judged: dict = {}
    if judge and names:
        t = time.perf_counter()
        before_photo = project.transform.to_photo(np.asarray(detector.detect(project.crop), dtype=np.float64))
        judged = judge_output(
            pasted.rgb,
            used_backend,
            project.transform,
            before_photo,
            names,
            edit.plan.targets_xy,
            edit.plan.handle_rows,
            detector=detector,
        )
        times["judge"] = time.perf_counter() - t
    times["total"] = time.perf_counter() - started
    return PhotoEdit(
        project=project,
        photo=photo,
        presets=names,
        reconstruction=reconstruction,
        edited_crop=edited,
        output=output,
        output_rgb=pasted.rgb,
        paste_mask=pasted.mask,
        alpha=pasted.alpha,
        edit=edit,
        drag=drag_summary,
        latent=np.asarray(latent, dtype=np.float32),
        judged=judged,
        seconds=times,
    )


def config_dict(config: InversionConfig) -> dict:
    """The inversion settings as recorded in project.json."""
    return asdict(config)
