"""`autodrag drag`: one drag on a generated (or saved) latent; writes images, GIFs, the latent and a log."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from tqdm import tqdm

from autodrag.atomic import staged_outputs, write_json_atomic
from autodrag.cli_types import device_option, resolve_device
from autodrag.drag.config import TRACKING_METRICS, DragConfig
from autodrag.drag.errors import DragInputError
from autodrag.drag.overlay import draw_drag
from autodrag.drag.session import DragSession, StepResult
from autodrag.errors import NonFiniteError, check_output_dir
from autodrag.images import save_gif, save_mp4, save_png, to_uint8
from autodrag.latents import LatentFileError, load_latent, save_latent
from autodrag.networks.cli import open_generator
from autodrag.photos.cli import PhotoOptions, drag_photo_cli, with_photo_source

__all__ = ["DRAG_FILES", "DRAG_PAIR", "DragPair", "drag", "read_mask_png"]

DRAG_FILES = ("before.png", "after.png", "drag.gif", "drag_overlay.gif", "drag.mp4", "latent.npz", "log.json")


class DragPair(click.ParamType):
    """'ROW,COL:ROW,COL' (handle, then target; image pixels, floats allowed) -> ((row, col), (row, col))."""

    name = "row,col:row,col"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        try:
            handle, target = str(value).split(":")
            (hr, hc), (tr, tc) = (tuple(float(v) for v in part.split(",")) for part in (handle, target))
        except ValueError:
            self.fail(f"{value!r} is not 'ROW,COL:ROW,COL' (handle:target), e.g. 120,88:120,100", param, ctx)
        return (hr, hc), (tr, tc)


DRAG_PAIR = DragPair()
_DEFAULTS = DragConfig()  # the options below show and use DragConfig's defaults (one place to change them)


def read_mask_png(path: Path) -> np.ndarray:
    """A movable mask from a black (fixed) and white (movable) image -> bool [H, W], else BadParameter."""
    try:
        with Image.open(path) as image:
            gray = np.asarray(image.convert("L"))
    except (OSError, UnidentifiedImageError) as exc:
        raise click.BadParameter(f"{path}: not a readable image ({exc})", param_hint="--mask") from None
    levels = np.unique(gray)
    odd = levels[~np.isin(levels, (0, 255))] if levels.max() > 1 else levels[~np.isin(levels, (0, 1))]
    if odd.size:
        raise click.BadParameter(
            f"{path}: not binary (black = fixed, white = movable); found gray level {odd[0]}",
            param_hint="--mask",
        )
    return gray > 0


def _read_latent(path: Path, G: torch.nn.Module) -> np.ndarray:
    try:
        return load_latent(path, G.num_ws, G.w_dim)
    except LatentFileError as exc:
        raise click.BadParameter(str(exc), param_hint="--latent") from None


def _step_record(result: StepResult) -> dict:
    return {
        "step": result.step,
        "points": result.points.round(3).tolist(),
        "distances": result.distances.round(3).tolist(),
        "loss": result.loss,
        "ms": round(result.ms, 2),
    }


@click.command()
@click.option(
    "--ckpt",
    type=click.Path(path_type=Path),
    default=None,
    help="Generator (.pkl or .safetensors). Default: the bundled model.",
)
@click.option(
    "--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True, help="Seed of the start image."
)
@click.option(
    "--latent",
    "latent_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Start from a saved latent (.npz with 'ws', e.g. a previous drag's latent.npz), not --seed.",
)
@click.option(
    "--trunc",
    "truncation_psi",
    type=float,
    default=1.0,
    show_default=True,
    help="Truncation psi (with --seed).",
)
@click.option(
    "--point",
    "pairs",
    type=DRAG_PAIR,
    multiple=True,
    help="Handle and target as ROW,COL:ROW,COL in image pixels; repeat for more points.",
)
@click.option(
    "--mask",
    "mask_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Movable region: a PNG the size of the image, white = movable, black = fixed.",
)
@click.option(
    "--w-plus/--w",
    "w_plus",
    default=_DEFAULTS.w_plus,
    show_default=True,
    help="Optimise the first --rows rows of W+, or one w shared by all rows.",
)
@click.option(
    "--rows",
    "w_plus_rows",
    type=click.IntRange(min=1),
    default=_DEFAULTS.w_plus_rows,
    show_default=True,
    help="W+ rows optimised (with --w-plus).",
)
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    default=_DEFAULTS.max_steps,
    show_default=True,
    help="Maximum steps.",
)
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=_DEFAULTS.lr,
    help="Adam learning rate; default: 4e-3 for up to 5 handles, 2e-3 for more.",
)
@click.option(
    "--tracking",
    type=click.Choice(TRACKING_METRICS),
    default=_DEFAULTS.tracking,
    show_default=True,
    help="Feature distance for point tracking.",
)
@click.option(
    "--frame-every",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Render a GIF frame every N steps (each frame costs a full synthesis).",
)
@click.option(
    "--out",
    "outdir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("out/drag"),
    show_default=True,
    help="Output folder.",
)
@with_photo_source(
    "Drag on this photo instead of a seed: points and --mask in the photo's (row, col) pixels; it is "
    "inverted (or OUT/project, --project reused), dragged and pasted back (`autodrag invert --help`)."
)
@device_option
def drag(
    ckpt: Path | None,
    seed: int,
    latent_path: Path | None,
    truncation_psi: float,
    pairs: tuple[tuple[tuple[float, float], tuple[float, float]], ...],
    mask_path: Path | None,
    w_plus: bool,
    w_plus_rows: int,
    steps: int,
    lr: float | None,
    tracking: str,
    frame_every: int,
    outdir: Path,
    photo: Path | None,
    project_dir: Path | None,
    backend: str,
    face_index: int,
    steps_w: int | None,
    steps_wplus: int | None,
    steps_tune: int | None,
    no_tune: bool,
    framing: str,
    device: str,
) -> None:
    """Drag handle points to target points (DragGAN) and write before/after images, GIFs, latent and log.

    Points are (row, col) image pixels: row 0 is the top, col 0 the left; integers are pixel centres.

    \b
    Writes to --out: before.png, after.png (handles red, targets blue, arrows), drag.gif,
    drag_overlay.gif, latent.npz (ws; use with --latent to continue) and log.json.

    \b
    With --photo, OUT/ gets the photo edit's files instead (pasted.<ext>, the crops, result.json).

    \b
    Examples:
      autodrag drag --ckpt stylegan2-ffhq-512x512.pkl --seed 3 \\
          --point 300,200:300,230 --point 300,310:300,280 --steps 200 --out out/drag
      autodrag drag --photo me.jpg --point 410,388:402,388 --out out/me
    """
    if not pairs:
        raise click.BadParameter("give at least one --point ROW,COL:ROW,COL", param_hint="--point")
    movable = read_mask_png(mask_path) if mask_path is not None else None
    check_output_dir(outdir)
    if photo is not None:
        if latent_path is not None:
            raise click.UsageError("give --photo or --latent, not both")
        try:
            config = DragConfig(
                max_steps=steps, lr=lr, w_plus=w_plus, w_plus_rows=w_plus_rows, tracking=tracking
            )
        except DragInputError as exc:
            raise click.BadParameter(str(exc)) from None
        opts = PhotoOptions.from_params(click.get_current_context().params)
        drag_photo_cli(photo, pairs, movable, outdir, project_dir, opts, config)
        return
    G = open_generator(ckpt, resolve_device(device))
    source = f"the generator {ckpt}" if ckpt else "the bundled generator"
    try:
        config = DragConfig(max_steps=steps, lr=lr, w_plus=w_plus, w_plus_rows=w_plus_rows, tracking=tracking)
        if latent_path is None:
            session = DragSession.from_seed(G, seed, truncation_psi, config)
        else:
            session = DragSession(G, _read_latent(latent_path, G), config)
        session.start_drag([p[0] for p in pairs], [p[1] for p in pairs], mask=movable)
    except DragInputError as exc:
        raise click.BadParameter(str(exc)) from None

    scale = max(1, 256 // G.img_resolution)
    handles0, targets = session.points, session.targets
    first = to_uint8(_finite(session.render(), f"the start image of {source}"))
    frames, overlay_frames, records = [first], [draw_drag(first, handles0, targets, movable, scale)], []
    results = session.run()
    progress = tqdm(total=steps, desc="drag", unit="step")
    try:
        for result in results:
            records.append(_step_record(result))
            progress.update(1)
            progress.set_postfix(
                dist=f"{result.distances.max():.1f}px",
                loss="-" if result.loss is None else f"{result.loss:.4f}",
            )
            if result.step % frame_every == 0 and not result.done:
                frame = to_uint8(session.render())
                frames.append(frame)
                overlay_frames.append(draw_drag(frame, result.points, targets, movable, scale))
    except KeyboardInterrupt:
        results.close()  # ends the drag cleanly ('stopped'); outputs are still written
    finally:
        progress.close()
    summary = session.last_summary
    last = to_uint8(_finite(session.render(), f"the image after {summary.steps} steps of {source}"))
    frames.append(last)
    overlay_frames.append(draw_drag(last, summary.points, targets, movable, scale))

    with staged_outputs(outdir, DRAG_FILES, marker="log.json") as stage:  # this run complete, or the last one
        save_png(stage / "before.png", overlay_frames[0])
        save_png(stage / "after.png", overlay_frames[-1])
        save_gif(stage / "drag.gif", frames)
        save_gif(stage / "drag_overlay.gif", overlay_frames)
        save_mp4(stage / "drag.mp4", overlay_frames)
        save_latent(
            stage / "latent.npz",
            ws=session.latent.cpu().numpy(),
            seed=seed if latent_path is None else -1,
            psi=truncation_psi,
            handles=summary.points,
            targets=targets,
        )
        write_json_atomic(
            stage / "log.json",
            {
                "generator": str(ckpt) if ckpt else "bundled default",
                "family": G.family,
                "resolution": G.img_resolution,
                "seed": seed if latent_path is None else None,
                "latent": str(latent_path) if latent_path else None,
                "psi": truncation_psi,
                "config": asdict(config),
                "handles": handles0.tolist(),
                "targets": targets.tolist(),
                "mask": str(mask_path) if mask_path else None,
                "steps": records,
                "result": {
                    "reason": summary.reason,
                    "steps": summary.steps,
                    "points": summary.points.tolist(),
                    "distances": summary.distances.round(3).tolist(),
                    "message": summary.message,
                },
            },
        )
    click.echo(
        f"{summary.message}; wrote {outdir}/{{before,after}}.png, drag.gif, drag_overlay.gif, drag.mp4, "
        "latent.npz, log.json"
    )
    if summary.reason == "nan":
        raise click.ClickException(f"{summary.message} ({source})")


def _finite(image: torch.Tensor, what: str) -> torch.Tensor:
    if not bool(torch.isfinite(image).all()):
        raise NonFiniteError(f"{what} contains NaN or inf (check the checkpoint's weights)")
    return image
