"""Commands: `toyfaces` group (render, train-landmarks) and the top-level `landmarks` command.

Registered by `autodrag/cli.py`; the bodies only call the toyfaces and landmarks modules.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import asdict, replace
from pathlib import Path

import click
import numpy as np
from PIL import Image

from autodrag.cli_types import SeedRange
from autodrag.landmarks import fan as _fan_backend  # registers the "fan" backend (face-alignment)
from autodrag.landmarks import toy as _toy_backend  # noqa: F401  (registers the "toy" backend)
from autodrag.landmarks.base import available_detectors, create_detector
from autodrag.landmarks.measures import eye_aspect_ratio, inner_mouth_gap, jaw_width, mouth_width
from autodrag.toyfaces.landmarks_net import LandmarkCheckpointError

__all__ = ["landmarks_command", "render_command", "toyfaces", "train_landmarks_command"]


@click.group("toyfaces", context_settings={"help_option_names": ["-h", "--help"]})
def toyfaces() -> None:
    """Procedural toy faces with exact landmarks: render them, train the bundled models."""


@toyfaces.command("render")
@click.option("--seeds", type=SeedRange(), required=True, help="Seeds, e.g. '0-9' or '0-99,120'.")
@click.option("--outdir", type=click.Path(file_okay=False), required=True, help="Output folder.")
@click.option(
    "--res", type=click.IntRange(32, 1024), default=128, show_default=True, help="Image side in pixels."
)
@click.option("--masks", is_flag=True, help="Also write the eye and mouth region masks as PNGs.")
def render_command(seeds: list[int], outdir: str, res: int, masks: bool) -> None:
    """Render the toy face of each seed: seedNNNN.png and seedNNNN.json (68 (x, y) landmarks).

    The face is the renderer's image of params(z) for z = z_from_seed(seed, Z_DIM), the same z
    that `autodrag generate --seeds` feeds the bundled generator.

    \b
    Example:
        autodrag toyfaces render --seeds 0-9 --outdir out/toy
    """
    from autodrag.toyfaces.params import Z_DIM
    from autodrag.toyfaces.render import RenderConfig, render_seed

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        r = render_seed(seed, RenderConfig(resolution=res))
        stem = out / f"seed{seed:04d}"
        Image.fromarray(r.image).save(stem.with_suffix(".png"))
        if masks:
            for name, mask in (("eyes", r.eye_mask), ("mouth", r.mouth_mask)):
                Image.fromarray((mask * 255 + 0.5).astype(np.uint8)).save(f"{stem}_{name}_mask.png")
        meta = {
            "seed": seed,
            "z_dim": Z_DIM,
            "resolution": res,
            "landmarks_xy": np.round(r.landmarks.astype(np.float64), 3).tolist(),
            "params": asdict(r.params),
        }
        stem.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    click.echo(f"wrote {len(seeds)} face(s) to {out}")


@toyfaces.command("train-landmarks")
@click.option(
    "--run-dir", default="runs/toyfaces_landmarks", show_default=True, help="Resumable state + dataset cache."
)
@click.option(
    "--output",
    default="checkpoints/toyfaces_landmarks.safetensors",
    show_default=True,
    help="Where the finished detector goes (+ .json).",
)
@click.option("--steps", type=click.IntRange(1), default=3000, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=32, show_default=True)
@click.option("--lr", type=float, default=2e-3, show_default=True)
@click.option("--train-faces", type=click.IntRange(1), default=12000, show_default=True)
@click.option("--threads", type=click.IntRange(1), default=1, show_default=True, help="torch CPU threads.")
@click.option("--checkpoint-every", type=click.IntRange(1), default=250, show_default=True)
@click.option(
    "--extra-npz",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Extra labelled images: .npz with images uint8 [N,H,W,3] and landmarks [N,68,2].",
)
@click.option(
    "--extra-fraction",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Share of each batch taken from --extra-npz.",
)
@click.option("--seed", type=int, default=0, show_default=True)
def train_landmarks_command(
    run_dir: str,
    output: str,
    steps: int,
    batch_size: int,
    lr: float,
    train_faces: int,
    threads: int,
    checkpoint_every: int,
    extra_npz: str | None,
    extra_fraction: float,
    seed: int,
) -> None:
    """Train (or resume) the bundled landmark detector on rendered toy faces.

    Re-running the same command resumes from RUN_DIR/state.pt.

    \b
    Example (about an hour on one core):
        nice -n 10 autodrag toyfaces train-landmarks
    """
    from autodrag.toyfaces.train_landmarks import LandmarkTrainConfig, train_landmarks

    if extra_fraction > 0 and not extra_npz:
        raise click.BadParameter("needs --extra-npz", param_hint="--extra-fraction")
    cfg = replace(
        LandmarkTrainConfig(),
        run_dir=run_dir,
        output=output,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        train_faces=train_faces,
        threads=threads,
        checkpoint_every=checkpoint_every,
        extra_npz=extra_npz,
        extra_fraction=extra_fraction,
        seed=seed,
    )
    args = click.get_current_context().params
    metrics = train_landmarks(cfg, record_args=dict(args))
    click.echo(json.dumps(metrics, indent=2))


def _read_rgb(path: str) -> np.ndarray:
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except OSError as exc:
        raise click.ClickException(f"{path}: cannot read the image ({exc})") from None


@toyfaces.command("train-generator")
@click.option("--run", "run_dir", type=click.Path(path_type=Path), default=Path("runs/toyfaces_gen"), show_default=True,
              help="Run folder: state.pt (resumable), sample grids.")
@click.option("--minutes", type=float, default=None, help="Stop after this much wall time (resume later).")
@click.option("--total-steps", type=click.IntRange(1), default=None,
              help="Schedule length (new runs: 30000; a resumed run keeps its own unless given).")
@click.option("--resume-from", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Start from this state file when the run folder has none (e.g. a committed piece).")
@click.option("--export", type=click.Path(path_type=Path), default=None,
              help="Then write the EMA generator here (.safetensors + .json with metrics).")
@click.option("--threads", type=click.IntRange(1), default=2, show_default=True)
def train_generator_command(run_dir: Path, minutes: float | None, total_steps: int | None, resume_from: Path | None,
                            export: Path | None, threads: int) -> None:
    """Train (or resume) the bundled StyleGAN2 by regression onto the renderer.

    \b
    Example (one piece of an hour, then export):
      autodrag toyfaces train-generator --minutes 60
      autodrag toyfaces train-generator --minutes 0 --export checkpoints/toyfaces128.safetensors
    """
    from autodrag.toyfaces.train_generator import GeneratorTrainConfig, export_with_metrics, train_generator

    state = run_dir / "state.pt"
    if resume_from is not None and not state.exists():
        run_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(resume_from, state)
    if minutes is None or minutes > 0:
        train_generator(run_dir, GeneratorTrainConfig(), minutes=minutes, threads=threads, total_steps=total_steps)
    if export is not None:
        psnr = export_with_metrics(state, export, argv=sys.argv[1:])
        click.echo(f"exported {export}: held-out PSNR {psnr:.2f} dB")


@click.command("landmarks")
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--backend",
    type=click.Choice(available_detectors()),
    default="toy",
    show_default=True,
    help="Landmark detector.",
)
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False),
    default=None,
    help="Detector weights (default: the bundled ones).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: [{image, landmarks_xy: [[x, y] x 68]}].")
def landmarks_command(images: tuple[str, ...], backend: str, checkpoint: str | None, as_json: bool) -> None:
    """Print the 68 facial landmarks (x, y pixels, iBUG-68 order) of each IMAGE.

    `toy` is the bundled detector for toy faces and the bundled generator's outputs (offline);
    `fan` is face-alignment's FAN for real-looking faces (needs the face-alignment package).

    \b
    Example:
        autodrag landmarks out/toy/seed0000.png --json
    """
    if checkpoint and backend != "toy":
        raise click.BadParameter("only the toy backend takes --checkpoint", param_hint="--checkpoint")
    kwargs = {"checkpoint": checkpoint} if checkpoint else {}
    try:
        detector = create_detector(backend, **kwargs)
    except (LandmarkCheckpointError, _fan_backend.LandmarkWeightsMissing) as exc:
        raise click.ClickException(str(exc)) from None
    except ImportError as exc:  # an optional backend's package is not installed
        raise click.ClickException(
            f"the {backend} backend needs a package that is not installed: {exc}"
        ) from None
    arrays = [_read_rgb(p) for p in images]
    try:
        results = detector.detect_many(arrays)
    except _fan_backend.NoFaceFound as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        payload = [
            {"image": os.fspath(p), "landmarks_xy": np.round(lm.astype(np.float64), 3).tolist()}
            for p, lm in zip(images, results)
        ]
        click.echo(json.dumps(payload))
        return
    for path, lm in zip(images, results):
        click.echo(
            f"{path}: EAR left {eye_aspect_ratio(lm, 'left'):.3f} right {eye_aspect_ratio(lm, 'right'):.3f}, "
            f"mouth gap {inner_mouth_gap(lm):.3f}, mouth width {mouth_width(lm):.3f}, "
            f"jaw width {jaw_width(lm):.3f} "
            "(lengths / inter-ocular distance; --json for the points)"
        )
