"""Commands: the `toyfaces` group (render, train-landmarks, train-generator).

Registered by `autodrag/cli.py`; the bodies only call the toyfaces modules.  The scripts
`scripts/train_toyfaces_{landmarks,generator}.py` run the same commands.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import asdict, replace
from pathlib import Path

import click
import numpy as np

from autodrag.atomic import write_atomic, write_text_atomic
from autodrag.cli_types import SeedRange
from autodrag.images import save_png
from autodrag.toyfaces.train_landmarks import LandmarkTrainConfig

__all__ = ["render_command", "toyfaces", "train_generator_command", "train_landmarks_command"]


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
        save_png(stem.with_suffix(".png"), r.image)
        if masks:
            for name, mask in (("eyes", r.eye_mask), ("mouth", r.mouth_mask)):
                save_png(f"{stem}_{name}_mask.png", (mask * 255 + 0.5).astype(np.uint8))
        meta = {
            "seed": seed,
            "z_dim": Z_DIM,
            "resolution": res,
            "landmarks_xy": np.round(r.landmarks.astype(np.float64), 3).tolist(),
            "params": asdict(r.params),
        }
        write_text_atomic(stem.with_suffix(".json"), json.dumps(meta, indent=1) + "\n")
    click.echo(f"wrote {len(seeds)} face(s) to {out}")


_LM = LandmarkTrainConfig()  # train-landmarks shows and uses the dataclass's defaults


@toyfaces.command("train-landmarks")
@click.option("--run-dir", default=_LM.run_dir, show_default=True, help="Resumable state + dataset cache.")
@click.option(
    "--output",
    default=_LM.output,
    show_default=True,
    help="Where the finished detector goes (+ .json).",
)
@click.option("--steps", type=click.IntRange(1), default=_LM.steps, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=_LM.batch_size, show_default=True)
@click.option("--lr", type=float, default=_LM.lr, show_default=True)
@click.option("--train-faces", type=click.IntRange(1), default=_LM.train_faces, show_default=True)
@click.option(
    "--threads", type=click.IntRange(1), default=_LM.threads, show_default=True, help="torch CPU threads."
)
@click.option("--checkpoint-every", type=click.IntRange(1), default=_LM.checkpoint_every, show_default=True)
@click.option(
    "--extra-npz",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Extra labelled images: .npz with images uint8 [N,H,W,3] and landmarks [N,68,2].",
)
@click.option(
    "--extra-fraction",
    type=click.FloatRange(0.0, 1.0),
    default=_LM.extra_fraction,
    show_default=True,
    help="Share of each batch taken from --extra-npz.",
)
@click.option("--seed", type=int, default=_LM.seed, show_default=True)
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


@toyfaces.command("train-generator")
@click.option(
    "--run",
    "run_dir",
    type=click.Path(path_type=Path),
    default=Path("runs/toyfaces_gen"),
    show_default=True,
    help="Run folder: state.pt (resumable), sample grids.",
)
@click.option("--minutes", type=float, default=None, help="Stop after this much wall time (resume later).")
@click.option(
    "--total-steps",
    type=click.IntRange(1),
    default=None,
    help="Schedule length (new runs: 30000; a resumed run keeps its own unless given).",
)
@click.option(
    "--batch",
    type=click.IntRange(1),
    default=None,
    help="Faces per step of a new run (default 16; a resumed run keeps its own).",
)
@click.option(
    "--resume-from",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Start from this state file when the run folder has none (e.g. a committed piece).",
)
@click.option("--no-train", is_flag=True, help="Only export (same as --minutes 0).")
@click.option(
    "--export",
    type=click.Path(path_type=Path),
    default=None,
    help="Then write the EMA generator here (.safetensors + .json with metrics).",
)
@click.option("--threads", type=click.IntRange(1), default=2, show_default=True)
def train_generator_command(
    run_dir: Path,
    minutes: float | None,
    total_steps: int | None,
    batch: int | None,
    resume_from: Path | None,
    no_train: bool,
    export: Path | None,
    threads: int,
) -> None:
    """Train (or resume) the bundled StyleGAN2 by regression onto the renderer.

    Kill it at any time: the next call resumes from the last state save (every 5 minutes and at exit).
    `python scripts/train_toyfaces_generator.py` runs this same command.

    \b
    Example (one piece of an hour, then export):
      autodrag toyfaces train-generator --minutes 60
      autodrag toyfaces train-generator --minutes 0 --export checkpoints/toyfaces128.safetensors
    """
    from autodrag.toyfaces.train_generator import GeneratorTrainConfig, export_with_metrics, train_generator

    state = run_dir / "state.pt"
    if resume_from is not None and not state.exists():
        write_atomic(state, lambda tmp: shutil.copyfile(resume_from, tmp))
    if not no_train and (minutes is None or minutes > 0):
        cfg = GeneratorTrainConfig() if batch is None else GeneratorTrainConfig(batch=batch)
        train_generator(run_dir, cfg, minutes=minutes, threads=threads, total_steps=total_steps)
    if export is not None:
        if not state.is_file():
            raise click.ClickException(
                f"{state}: no training state to export (train first, or pass --resume-from)"
            )
        psnr = export_with_metrics(state, export, argv=sys.argv[1:])
        click.echo(f"exported {export}: held-out PSNR {psnr:.2f} dB")
