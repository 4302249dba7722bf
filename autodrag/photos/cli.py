"""`autodrag invert`, and the photo branches of `autodrag edit --photo` and `autodrag batch --photos`."""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np
from tqdm import tqdm

from autodrag.cli_types import device_option, resolve_device
from autodrag.photos.faces import BACKENDS
from autodrag.photos.invert import InversionConfig, InversionError, TqdmProgress
from autodrag.photos.io import PhotoError
from autodrag.photos.project import ProjectError

__all__ = [
    "PhotoOptions",
    "batch_photos",
    "drag_photo_cli",
    "edit_photo_cli",
    "inversion_options",
    "invert",
    "photo_errors",
    "photo_points_to_crop",
    "with_photo_options",
    "with_photo_source",
]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp")


@contextlib.contextmanager
def photo_errors():
    """Bad photos, faces, projects and settings -> one-line click errors."""
    from autodrag.drag import DragInputError
    from autodrag.photos.tuned import TunedWeightsError
    from autodrag.presets.plan import PresetError

    try:
        yield
    except (PhotoError, ProjectError, InversionError, TunedWeightsError, PresetError, DragInputError) as exc:
        raise click.ClickException(str(exc)) from None


class Interrupt:
    """While active, Ctrl-C only sets a flag: the inversion ends its stage and keeps what it has."""

    def __init__(self) -> None:
        self.hit = False
        self._previous = None

    def __call__(self) -> bool:
        return self.hit

    def __enter__(self) -> Interrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.hit:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.hit = True
        tqdm.write("Ctrl-C: finishing the current inversion step and keeping what is done (again to abort)")

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


inversion_options = [
    click.option(
        "--ckpt", type=click.Path(path_type=Path), default=None, help="Generator; default: the bundled model."
    ),
    click.option(
        "--backend",
        type=click.Choice(BACKENDS),
        default="auto",
        show_default=True,
        help="Face finder: auto = the bundled detector's search for the bundled model, dlib otherwise. "
        "dlib's 68-point model is non-commercial (iBUG 300-W).",
    ),
    click.option(
        "--face",
        "face_index",
        type=click.IntRange(0),
        default=0,
        show_default=True,
        help="Which face: 0 = the largest.",
    ),
    click.option(
        "--steps-w", type=click.IntRange(0), default=None, help="W projection steps (0 = skip the stage)."
    ),
    click.option(
        "--steps-wplus", type=click.IntRange(0), default=None, help="W+ refinement steps (0 = skip)."
    ),
    click.option(
        "--steps-tune", type=click.IntRange(0), default=None, help="Pivotal tuning steps (0 = skip)."
    ),
    click.option(
        "--no-tune", is_flag=True, default=False, help="Skip pivotal tuning (edit with the base weights)."
    ),
    click.option(
        "--framing",
        type=click.Choice(("auto", "ffhq", "toy")),
        default="auto",
        show_default=True,
        help="Crop framing: FFHQ's recipe, or the bundled renderer's (auto: toy for the bundled model).",
    ),
]


def with_inversion_options(f):
    for option in reversed(inversion_options):
        f = option(f)
    return f


def with_photo_options(f):
    """--backend/--face/--steps-w/--steps-wplus/--steps-tune/--no-tune/--framing: the inversion options
    without --ckpt, for commands (`edit`, `batch`, `drag`) that have their own."""
    for option in reversed(inversion_options[1:]):
        f = option(f)
    return f


def with_photo_source(photo_help: str):
    """--photo (with `photo_help`), --project and `with_photo_options`: a seed command (`edit`, `drag`)
    that can work on a photo instead."""

    def decorate(f):
        f = with_photo_options(f)
        f = click.option(
            "--project",
            "project_dir",
            type=click.Path(path_type=Path),
            default=None,
            help="With --photo: the photo project folder (default OUT/project).",
        )(f)
        return click.option("--photo", type=click.Path(path_type=Path), default=None, help=photo_help)(f)

    return decorate


def inversion_config(
    steps_w: int | None, steps_wplus: int | None, steps_tune: int | None, no_tune: bool
) -> InversionConfig:
    """The CLI's step options on top of InversionConfig's defaults; 0 steps = the stage is skipped."""
    changes: dict = {}
    for value, stage, steps in (
        (steps_w, "w", "w_steps"),
        (steps_wplus, "w_plus", "w_plus_steps"),
        (steps_tune, "tune", "tune_steps"),
    ):
        if value is not None:
            changes[steps] = max(int(value), 1)
            changes[stage] = value > 0
    if no_tune:
        changes["tune"] = False
    return InversionConfig(**changes)


@dataclass(frozen=True)
class PhotoOptions:
    """A photo command's settings besides its photos and --out: generator, face, inversion, edit."""

    ckpt: Path | None  # None: the bundled model
    backend: str
    face_index: int
    config: InversionConfig
    framing: str
    device: str
    strength: float = 1.0
    steps: int = 300
    lr: float | None = None
    mask: bool = True
    tracking: str = "auto"
    guide: bool = True

    @classmethod
    def from_cli(
        cls,
        *,
        steps_w: int | None,
        steps_wplus: int | None,
        steps_tune: int | None,
        no_tune: bool,
        **given: object,
    ) -> PhotoOptions:
        """From the click options (`with_photo_options` and the edit options), steps turned into a config."""
        return cls(config=inversion_config(steps_w, steps_wplus, steps_tune, no_tune), **given)

    @classmethod
    def from_params(cls, params: dict) -> PhotoOptions:
        """From a command's click parameters (`click.get_current_context().params`), the rest ignored."""
        names = {f.name for f in dataclasses.fields(cls)} | {
            "steps_w",
            "steps_wplus",
            "steps_tune",
            "no_tune",
        }
        return cls.from_cli(**{k: v for k, v in params.items() if k in names})

    @property
    def ckpt_text(self) -> str | None:
        return None if self.ckpt is None else str(self.ckpt)

    def edit_settings(self) -> dict:
        """`pipeline.edit_photo`'s keyword arguments for a preset edit."""
        return {
            "generator_path": self.ckpt,
            "bundled": self.ckpt is None,
            "strength": self.strength,
            "steps": self.steps,
            "lr": self.lr,
            "mask": self.mask,
            "tracking": self.tracking,
            "guide": self.guide,
        }


def _generator(ckpt: Path | None, device: str):
    from autodrag.networks.cli import open_generator

    return open_generator(ckpt, resolve_device(device))


def _progress():
    bar = TqdmProgress()

    def progress(stage: str, step: int, total: int, loss: float) -> None:
        if stage == "detect":
            return
        bar(stage, step, total, loss)

    return progress, bar


def _run_invert(
    photo: Path,
    G,
    out: Path,
    ckpt: Path | None,
    backend: str,
    face_index: int,
    config: InversionConfig,
    framing: str,
    prepared=None,
):
    """Invert `photo` into the project `out` with a progress bar; an unfinished project is an error line.
    `prepared`: the already loaded, found and aligned photo (`pipeline.prepare_photo`), to skip that work."""
    from autodrag.photos.pipeline import invert_photo

    progress, bar = _progress()
    try:
        with Interrupt() as interrupt, photo_errors():
            project = invert_photo(
                photo,
                G,
                out,
                backend,
                face_index,
                config,
                progress,
                interrupt,
                framing=framing,
                generator_path=ckpt,
                prepared=prepared,
            )
    finally:
        bar.close()
    if project.info.get("complete") is not True:
        raise click.ClickException(
            f"{project.note}; re-run to redo it (the finished stages are kept in {out})"
        )
    return project


@click.command()
@click.argument("photo", type=click.Path(path_type=Path))
@click.option(
    "--out", type=click.Path(path_type=Path), required=True, help="Project folder (reused when finished)."
)
@with_inversion_options
@device_option
def invert(
    photo: Path,
    out: Path,
    ckpt: Path | None,
    backend: str,
    face_index: int,
    steps_w: int | None,
    steps_wplus: int | None,
    steps_tune: int | None,
    no_tune: bool,
    framing: str,
    device: str,
) -> None:
    """Find the face in PHOTO, align it and invert it into the generator (W, W+, pivotal tuning).

    \b
    Example:
      autodrag invert photo.jpg --out proj/
      autodrag edit --project proj/ --photo photo.jpg --preset close_eyes --out out/
    """
    config = inversion_config(steps_w, steps_wplus, steps_tune, no_tune)
    G = _generator(ckpt, device)
    project = _run_invert(photo, G, out, ckpt, backend, face_index, config, framing)
    m = project.metrics
    psnr = " ".join(f"{s} {m[f'psnr_{s}']:.2f} dB" for s in ("w", "w_plus", "tune") if f"psnr_{s}" in m)
    click.echo(
        f"{out}: {project.note}; PSNR {psnr}; {len(project.layout['faces'])} face(s), editing face "
        f"{project.layout['face_index']}"
    )


@dataclass(frozen=True)
class PhotoItem:
    """A batch item: one photo (its index in the sorted folder) x one preset."""

    seed: int  # the photo's index (the batch machinery's item id)
    preset: str
    photo: Path

    @property
    def name(self) -> str:
        return f"{self.seed:04d}_{self.photo.stem}_{self.preset}"


def _prepare(photo: Path, G, opts: PhotoOptions):
    """The photo loaded, its face found and aligned (`pipeline.prepare_photo`); bad input fails here,
    before anything is written or inverted."""
    from autodrag.photos.pipeline import prepare_photo, resolve_backend, resolve_framing

    bundled = opts.ckpt is None
    with photo_errors():
        return prepare_photo(
            photo,
            int(G.img_resolution),
            resolve_backend(opts.backend, bundled),
            opts.face_index,
            resolve_framing(opts.framing, bundled),
        )


def _photo_project(photo: Path, G, out: Path, project_dir: Path | None, opts: PhotoOptions, prep):
    """The photo's finished project (OUT/project or --project): inverted from `prep`, or reused."""
    return _run_invert(
        photo,
        G,
        project_dir or out / "project",
        opts.ckpt,
        opts.backend,
        opts.face_index,
        opts.config,
        opts.framing,
        prep,
    )


def edit_photo_cli(
    photo: Path, presets: list[str], out: Path, project_dir: Path | None, opts: PhotoOptions
) -> dict:
    """`autodrag edit --photo`: invert if needed (into OUT/project or --project), edit, paste, write OUT/."""
    from autodrag.photos.pipeline import edit_photo
    from autodrag.photos.report import write_photo_edit

    G = _generator(opts.ckpt, opts.device)
    project = _photo_project(photo, G, out, project_dir, opts, _prepare(photo, G, opts))
    bar = tqdm(total=opts.steps, desc=",".join(presets), unit="step")
    try:
        with photo_errors():
            pe = edit_photo(
                project,
                G,
                presets,
                photo_path=photo,
                **opts.edit_settings(),
                on_step=lambda step, loss: bar.update(1),
            )
    finally:
        bar.close()
    record = write_photo_edit(out, pe, ckpt=opts.ckpt_text, backend=opts.backend)
    ok = ", ".join(f"{k}: {'ok' if v else 'missed'}" for k, v in record["success"].items())
    click.echo(
        f"{out}: {project.note}; {record['steps']} steps, {record['seconds']:.1f} s ({ok}); "
        f"wrote {record['pasted']}"
    )
    return record


def photo_points_to_crop(
    pairs, transform, size: int
) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """--point pairs in photo (row, col) pixels -> crop (row, col); BadParameter for a point off the crop."""
    from autodrag.drag.coords import rowcol_to_xy, xy_to_rowcol

    crop_pairs = []
    for handle, target in pairs:
        moved = []
        for what, rc in (("handle", handle), ("target", target)):
            xy = transform.to_crop(rowcol_to_xy(np.asarray([rc], dtype=np.float64)))
            if not ((xy >= -0.5) & (xy <= size - 0.5)).all():
                raise click.BadParameter(
                    f"{what} {rc[0]:g},{rc[1]:g} (photo row, col) is outside the aligned face crop; "
                    "points must lie on the face the photo project edits",
                    param_hint="--point",
                )
            moved.append(tuple(float(v) for v in xy_to_rowcol(xy)[0]))
        crop_pairs.append((moved[0], moved[1]))
    return crop_pairs


def drag_photo_cli(
    photo: Path,
    pairs,
    movable_photo: np.ndarray | None,
    out: Path,
    project_dir: Path | None,
    opts: PhotoOptions,
    drag_config,
) -> dict:
    """`autodrag drag --photo`: points (and the mask) in the photo's pixels; invert if needed, drag the
    aligned crop with the tuned generator, paste back, write OUT/ as `edit --photo` does."""
    from autodrag.photos.align import sample_affine
    from autodrag.photos.pipeline import edit_photo
    from autodrag.photos.report import write_photo_edit

    G = _generator(opts.ckpt, opts.device)
    prep = _prepare(photo, G, opts)  # points and mask are checked on it, before the inversion
    size = int(G.img_resolution)
    crop_pairs = photo_points_to_crop(pairs, prep.transform, size)
    mask: bool | np.ndarray = True
    if movable_photo is not None:
        shape = prep.photo.rgb.shape[:2]
        if movable_photo.shape != shape:
            raise click.BadParameter(
                f"the mask is {movable_photo.shape[1]}x{movable_photo.shape[0]}, the photo "
                f"{shape[1]}x{shape[0]} (upright); give a mask the photo's size",
                param_hint="--mask",
            )
        mask = (
            sample_affine(movable_photo.astype(np.float32), prep.transform.crop_to_photo, (size, size)) > 0.5
        )
    project = _photo_project(photo, G, out, project_dir, opts, prep)
    bar = tqdm(total=drag_config.max_steps, desc="drag", unit="step")
    try:
        with Interrupt() as interrupt, photo_errors():
            pe = edit_photo(
                project,
                G,
                drags=crop_pairs,
                photo_path=photo,
                generator_path=opts.ckpt,
                bundled=opts.ckpt is None,
                steps=drag_config.max_steps,
                drag_config=drag_config,
                mask=mask,
                on_step=lambda step, loss: bar.update(1),
                should_stop=interrupt,
            )
    finally:
        bar.close()
    record = write_photo_edit(
        out,
        pe,
        ckpt=opts.ckpt_text,
        backend=opts.backend,
        points_photo=[[list(h), list(t)] for h, t in pairs],
        points_crop=[[list(h), list(t)] for h, t in crop_pairs],
    )
    click.echo(
        f"{out}: {project.note}; drag {pe.drag.reason} after {pe.drag.steps} steps, "
        f"{record['seconds']:.1f} s; wrote {record['pasted']}"
    )
    return record


def photo_files(folder: Path) -> list[Path]:
    """The image files of a folder (sorted), by suffix. Raises click.BadParameter when there are none."""
    if not folder.is_dir():
        raise click.BadParameter(f"{folder}: not a folder", param_hint="--photos")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise click.BadParameter(
            f"{folder}: no image files ({', '.join(IMAGE_SUFFIXES)})", param_hint="--photos"
        )
    return files


def batch_photos(
    folder: Path,
    presets: list[str],
    out: Path,
    shard: tuple[int, int] | None,
    opts: PhotoOptions,
    *,
    force: bool = False,
) -> dict:
    """`autodrag batch --photos DIR`: photo x preset items, one inversion per photo (OUT/projects/<photo>).

    Same rules as the seed batch: the options that made each item are recorded (a re-run with others
    refuses those items unless `force`), and failed items end the batch with one error line."""
    from autodrag.photos.pipeline import edit_photo, invert_photo
    from autodrag.photos.report import build_photo_report, write_photo_edit
    from autodrag.presets.batch import batch_problem, run_batch, shard_of

    files = photo_files(folder)
    G = _generator(opts.ckpt, opts.device)
    items = [PhotoItem(i, p, f) for i, f in enumerate(files) for p in presets]
    if shard is not None:
        items = shard_of(items, *shard)
    projects: dict[Path, object] = {}

    def edit_one(item: PhotoItem, item_dir: Path) -> dict:
        if item.photo not in projects:
            progress, bar_invert = _progress()
            try:
                projects[item.photo] = invert_photo(
                    item.photo,
                    G,
                    out / "projects" / f"{item.seed:04d}_{item.photo.stem}",
                    opts.backend,
                    opts.face_index,
                    opts.config,
                    progress=progress,
                    framing=opts.framing,
                    generator_path=opts.ckpt,
                )
            finally:
                bar_invert.close()
        pe = edit_photo(
            projects[item.photo],
            G,
            item.preset.replace("+", ","),
            photo_path=item.photo,
            **opts.edit_settings(),
        )
        return write_photo_edit(item_dir, pe, seed=item.seed, ckpt=opts.ckpt_text)

    options = {  # what made each item, recorded with it (the keys are the batch records' own)
        "ckpt": opts.ckpt_text,
        "backend": opts.backend,
        "face": opts.face_index,
        "inversion": dataclasses.asdict(opts.config),
        "framing": opts.framing,
        "strength": opts.strength,
        "steps": opts.steps,
        "lr": opts.lr,
        "mask": opts.mask,
        "tracking": opts.tracking,
        "guide": opts.guide,
    }
    run = run_batch(
        out, items, edit_one, options=options, force=force, desc="photo batch", report=build_photo_report
    )
    click.echo(run.summary(out))
    for preset, s in run.stats.items():
        click.echo(f"  {preset:12s} success {s['ok']}/{s['items']}")
    if problem := batch_problem(run.counts, len(items), out, run.conflicts):
        raise click.ClickException(problem)
    return run.stats
