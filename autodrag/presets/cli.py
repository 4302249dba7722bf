"""`autodrag edit`, `autodrag batch`, `autodrag demo`: expression presets from the command line."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
import torch
from tqdm import tqdm

from autodrag.atomic import staged_outputs
from autodrag.cli_types import SEED_RANGE, device_option, resolve_device
from autodrag.drag import DragInputError
from autodrag.errors import check_output_dir
from autodrag.landmarks.select import BACKENDS, detector_for
from autodrag.latents import LatentFileError, load_latent, ws_from_seed
from autodrag.networks.cli import open_generator
from autodrag.networks.loading import GeneratorLoadError
from autodrag.photos.cli import with_photo_options, with_photo_source
from autodrag.presets.batch import (
    batch_problem,
    build_report,
    plan_items,
    run_batch,
    shard_from_env,
    shard_of,
)
from autodrag.presets.edit import PRESET_TUNING, TRACKING_MODES, preset_drag_config, preset_tuning, run_edit
from autodrag.presets.outputs import EDIT_FILES, write_edit
from autodrag.presets.plan import PresetError
from autodrag.presets.record import CONTEXT_KEYS, RecordError, edit_context, read_record, rerun_from_record
from autodrag.presets.registry import DEFAULT_PRESETS, PRESETS, STRENGTH_RANGE, parse_presets

__all__ = ["batch", "edit", "run_preset_demo"]

PRESET_HELP = f"Comma-separated presets: {', '.join(PRESETS)}."
DEFAULT_STEPS = preset_drag_config().max_steps  # --steps: DragConfig's max_steps (under PRESET_TUNING)


def _check_presets(spec: str) -> list[str]:
    try:
        return [p.name for p in parse_presets(spec)]
    except PresetError as exc:
        raise click.BadParameter(str(exc)) from None


def _detector(landmarks: str, ckpt: Path | None, device: torch.device):
    try:
        return detector_for(landmarks, bundled_model=ckpt is None, device=str(device))
    except Exception as exc:  # weights missing, corrupt bundled detector: one line for the user
        raise click.ClickException(str(exc)) from None


common_options = [
    click.option(
        "--ckpt", type=click.Path(path_type=Path), default=None, help="Generator; default: the bundled model."
    ),
    click.option(
        "--strength", type=click.FloatRange(*STRENGTH_RANGE, min_open=True), default=1.0, show_default=True
    ),
    click.option(
        "--trunc", "psi", type=float, default=0.7, show_default=True, help="Truncation psi for seeds."
    ),
    click.option(
        "--landmarks",
        type=click.Choice(BACKENDS),
        default="auto",
        show_default=True,
        help="auto = bundled detector for the bundled model, face-alignment (fan) otherwise.",
    ),
    click.option("--mask/--no-mask", default=True, show_default=True, help="Automatic movable-region mask."),
    click.option(
        "--guide/--no-guide",
        default=True,
        show_default=True,
        help="Eye presets and smile also pull the detector's landmarks to the targets (differentiable "
        "detector only).",
    ),
    click.option(
        "--steps", type=click.IntRange(1), default=DEFAULT_STEPS, show_default=True, help="Max drag steps."
    ),
    click.option(
        "--lr",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        help=f"Adam step size on the latent; default: the preset's tuned step ({PRESET_TUNING['lr']:g}, "
        f"{preset_tuning('close_eyes')['lr']:g} for the guided eye presets and smile).",
    ),
    click.option(
        "--tracking",
        type=click.Choice(TRACKING_MODES),
        default="auto",
        show_default=True,
        help="Handle tracking: re-detected landmarks, DragGAN's features, or auto (landmarks with the "
        "fast bundled detector, features with face-alignment).",
    ),
    device_option,
]


def _with_common(f):
    for option in reversed(common_options):
        f = option(f)
    return f


@click.command()
@click.option("--preset", "preset_spec", default=None, help=PRESET_HELP + " Required unless --from.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@click.option(
    "--latent", type=click.Path(path_type=Path), default=None, help="Start from this ws (.npz) instead."
)
@click.option(
    "--from",
    "from_record",
    type=click.Path(path_type=Path),
    default=None,
    help="Re-run the edit recorded in this result.json (of edit or batch), bit for bit on a CPU; the "
    "other edit options are ignored except --out and --device.",
)
@click.option("--out", type=click.Path(path_type=Path), default=Path("out/edit"), show_default=True)
@with_photo_source(
    "Edit this photo instead of a seed: invert it (or reuse OUT/project or --project), edit, "
    "paste back. See `autodrag invert --help` for --backend/--face/--steps-*."
)
@_with_common
def edit(
    preset_spec: str | None,
    seed: int,
    latent: Path | None,
    from_record: Path | None,
    out: Path,
    photo: Path | None,
    project_dir: Path | None,
    backend: str,
    face_index: int,
    steps_w: int | None,
    steps_wplus: int | None,
    steps_tune: int | None,
    no_tune: bool,
    framing: str,
    ckpt: Path | None,
    strength: float,
    psi: float,
    landmarks: str,
    mask: bool,
    guide: bool,
    steps: int,
    lr: float | None,
    tracking: str,
    device: str,
) -> None:
    """Apply expression presets to one face.

    \b
    Examples:
      autodrag edit --preset close_eyes --seed 18 --out out/close
      autodrag edit --preset open_mouth,smile --ckpt stylegan2-ffhq-512x512.pkl --seed 30 --out out/x
      autodrag edit --from out/close/result.json --out out/close-again
    """
    if photo is not None:
        from autodrag.photos.cli import PhotoOptions, edit_photo_cli

        if preset_spec is None:
            raise click.UsageError("give --preset with --photo")
        opts = PhotoOptions.from_params(click.get_current_context().params)
        edit_photo_cli(photo, _check_presets(preset_spec), out, project_dir, opts)
        return
    if from_record is not None:
        result, context = _rerun(from_record, device)
    elif preset_spec is None:
        raise click.UsageError("give --preset (or --from result.json)")
    else:
        presets = _check_presets(preset_spec)
        check_output_dir(out)
        dev = resolve_device(device)
        G = open_generator(ckpt, dev)
        if latent is not None:
            try:
                ws = torch.from_numpy(load_latent(latent, G.num_ws, G.w_dim)).to(dev)
            except LatentFileError as exc:
                raise click.BadParameter(str(exc), param_hint="--latent") from None
        else:
            ws = ws_from_seed(G, seed, psi)
        detector = _detector(landmarks, ckpt, dev)
        bar = tqdm(total=steps, desc=",".join(presets), unit="step")
        try:
            config = preset_drag_config(presets=presets, max_steps=steps, lr=lr)
            result = run_edit(
                G,
                ws,
                detector,
                presets,
                strength,
                mask=mask,
                config=config,
                tracking=tracking,
                guide=guide,
                on_step=lambda step, loss: bar.update(1),
            )
        except (PresetError, DragInputError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
        finally:
            bar.close()
        context = edit_context(
            ckpt=ckpt, seed=seed, latent=latent, truncation_psi=psi, landmarks=landmarks, device=dev
        )
    with staged_outputs(
        out, EDIT_FILES, marker="result.json"
    ) as stage:  # out: this run complete, or the last
        record = write_edit(stage, result, **context)
    ok = ", ".join(f"{k}: {'ok' if v else 'missed'}" for k, v in record["success"].items())
    click.echo(
        f"{out}: {record['steps']} steps, {record['seconds']:.1f} s, MD {record['md_px']:.2f} px ({ok})"
    )


def _rerun(record_path: Path, device: str):
    """`--from`: the recorded edit again, and its context (as recorded, on this run's device)."""
    dev = None if device == "auto" else resolve_device(device)
    try:
        recorded = read_record(record_path)
        bar = tqdm(
            total=recorded["drag_config"].get("max_steps"), desc=f"re-run {recorded['preset']}", unit="step"
        )
        try:
            result = rerun_from_record(record_path, device=dev, on_step=lambda step, loss: bar.update(1))
        finally:
            bar.close()
    except RecordError as exc:
        raise click.BadParameter(str(exc), param_hint="--from") from None
    except (PresetError, DragInputError, GeneratorLoadError, LatentFileError, ValueError) as exc:
        raise click.ClickException(f"{record_path}: {exc}") from None
    context = {k: recorded.get(k) for k in CONTEXT_KEYS}
    context.update(device=str(dev or recorded.get("device", "cpu")), rerun_of=str(record_path))
    return result, context


def _batch(
    seeds: list[int],
    presets: list[str],
    out: Path,
    ckpt: Path | None,
    strength: float,
    psi: float,
    landmarks: str,
    mask: bool,
    guide: bool,
    steps: int,
    lr: float | None,
    tracking: str,
    device: str,
    shard: tuple[int, int] | None,
    title: str,
    gif: bool,
    force: bool = False,
) -> dict:
    check_output_dir(out)
    dev = resolve_device(device)
    G = open_generator(ckpt, dev)
    detector = _detector(landmarks, ckpt, dev)
    context = edit_context(
        ckpt=ckpt, seed=None, latent=None, truncation_psi=psi, landmarks=landmarks, device=dev
    )
    context.pop("seed")
    items = plan_items(seeds, presets)
    if shard is not None:
        items = shard_of(items, *shard)

    def edit_one(item, item_dir: Path) -> dict:
        names = item.preset.replace("+", ",")
        config = preset_drag_config(presets=names, max_steps=steps, lr=lr)
        result = run_edit(
            G,
            ws_from_seed(G, item.seed, psi),
            detector,
            names,
            strength,
            mask=mask,
            config=config,
            frame_every=4 if gif else 0,
            tracking=tracking,
            guide=guide,
        )
        return write_edit(item_dir, result, gif=gif, **context, seed=item.seed)

    options = {
        "ckpt": str(ckpt) if ckpt else None,
        "strength": strength,
        "psi": psi,
        "landmarks": landmarks,
        "mask": mask,
        "guide": guide,
        "steps": steps,
        "lr": lr,
        "tracking": tracking,
        "gif": gif,
    }
    run = run_batch(
        out,
        items,
        edit_one,
        options=options,
        force=force,
        desc="batch",
        report=lambda o: build_report(o, title),
    )
    click.echo(run.summary(out))
    for preset, s in run.stats.items():
        click.echo(
            f"  {preset:12s} success {s['ok']}/{s['items']}, median MD "
            f"{np.median(s['md']) if s['md'] else float('nan'):.2f} px"
        )
    if problem := batch_problem(run.counts, len(items), out, run.conflicts):
        raise click.ClickException(problem)
    stats = run.stats
    return stats


def _parse_shard(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return shard_from_env()
    try:
        index, count = (int(v) for v in value.split("/"))
        if count < 1 or not 0 <= index < count:
            raise ValueError
    except ValueError:
        raise click.BadParameter(
            f"expected i/N with 0 <= i < N, got {value!r}", param_hint="--shard"
        ) from None
    return index, count


@click.command()
@click.option("--seeds", type=SEED_RANGE, default=None, help="Seeds, e.g. 0-99 (or --photos).")
@click.option(
    "--photos",
    type=click.Path(path_type=Path),
    default=None,
    help="Edit the photos of this folder instead (one inversion per photo, shared by its presets).",
)
@click.option("--presets", "preset_spec", required=True, help=PRESET_HELP + " Each runs as its own item.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Batch folder (resumable).")
@click.option("--shard", default=None, help="Run only shard i/N (default: RANK/WORLD_SIZE under torchrun).")
@click.option("--gif/--no-gif", default=False, show_default=True, help="Write GIFs for every item.")
@click.option(
    "--force", is_flag=True, help="Redo items made with other options (else the batch refuses them)."
)
@with_photo_options
@_with_common
def batch(
    seeds: list[int] | None,
    photos: Path | None,
    preset_spec: str,
    out: Path,
    shard: str | None,
    gif: bool,
    force: bool,
    backend: str,
    face_index: int,
    steps_w: int | None,
    steps_wplus: int | None,
    steps_tune: int | None,
    no_tune: bool,
    framing: str,
    ckpt: Path | None,
    strength: float,
    psi: float,
    landmarks: str,
    mask: bool,
    guide: bool,
    steps: int,
    lr: float | None,
    tracking: str,
    device: str,
) -> None:
    """Edit many seeds with several presets; re-running skips finished items.

    \b
    Example:
      autodrag batch --seeds 0-99 --presets close_eyes,open_mouth --out runs/x
      torchrun --nproc_per_node 2 -m autodrag.cli batch --seeds 0-99 --presets smile --out runs/y
    """
    if (seeds is None) == (photos is None):
        raise click.UsageError("give --seeds or --photos (one of them)")
    if photos is not None:
        from autodrag.photos.cli import PhotoOptions, batch_photos

        opts = PhotoOptions.from_params(click.get_current_context().params)
        batch_photos(photos, _check_presets(preset_spec), out, _parse_shard(shard), opts, force=force)
        return
    _batch(
        seeds,
        _check_presets(preset_spec),
        out,
        ckpt,
        strength,
        psi,
        landmarks,
        mask,
        guide,
        steps,
        lr,
        tracking,
        device,
        _parse_shard(shard),
        "AutoDrag batch",
        gif,
        force,
    )


def run_preset_demo(seeds: list[int], out: Path, device: str) -> dict:
    """Every non-experimental preset (`DEFAULT_PRESETS`) on `seeds` of the bundled model, in out/index.html."""
    return _batch(
        seeds,
        list(DEFAULT_PRESETS),
        out,
        None,
        1.0,
        0.7,
        "auto",
        True,
        True,
        DEFAULT_STEPS,
        None,
        "auto",
        device,
        None,
        "AutoDrag demo: every preset on the bundled model",
        gif=True,
    )
