"""``autodrag pix2pix ...``: the command line over the pix2pix modules (no logic of its own)."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from autodrag.pix2pix.cli_options import SIZE, TRAIN_OPTIONS, config_from_options, train_options
from autodrag.pix2pix.errors import Pix2PixError

__all__ = ["pix2pix"]


def _user_errors(func: Callable) -> Callable:
    """Turn the package's user-facing errors into one-line click errors (exit status 1)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (Pix2PixError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


@click.group("pix2pix", context_settings={"help_option_names": ["-h", "--help"]})
def pix2pix() -> None:
    """Paired image-to-image translation (pix2pix), font-to-signature and multi-style models.

    \b
    Quick start on the bundled offline demo:
      autodrag pix2pix demo --out data/names
      autodrag pix2pix train --dataroot data/names --out runs/names --input-nc 1 --output-nc 1 --lr 1e-3 \\
          --unet-depth 6 --ngf 32 --n-epochs 20 --n-epochs-decay 20 --batch-size 8
      autodrag pix2pix test --checkpoint runs/names --dataroot data/names --phase val --out results/names
    """


# ----------------------------------------------------------------------------------- datasets
_dataset_option = click.option(
    "--dataset",
    type=click.Choice(["facades", "cityscapes", "night2day", "edges2shoes", "edges2handbags"]),
    default=None,
    help="Check --dataroot against this standard set's layout first; its usual --direction becomes the default.",
)


def _check_dataset(ctx: click.Context, name: str, dataroot: Path, direction: str, dest: str) -> str:
    """Check the layout (one-line DatasetError if wrong); return the direction to use."""
    from autodrag.pix2pix.known_datasets import check_layout

    report = check_layout(dataroot, name)
    for note in report.notes:
        click.echo(f"note: {name}: {note}", err=True)
    usual = report.layout.direction
    if ctx.get_parameter_source(dest) is not click.core.ParameterSource.COMMANDLINE:
        return usual
    if direction != usual:
        click.echo(f"warning: {name} is stored {report.layout.left}|{report.layout.right}; --direction {direction} "
                   f"translates {report.layout.left if direction == 'AtoB' else report.layout.right} into the other, "
                   f"not the usual {report.layout.task} (--direction {usual})", err=True)  # fmt: skip
    return direction


@pix2pix.command("datasets")
@click.argument(
    "name",
    required=False,
    type=click.Choice(["facades", "cityscapes", "night2day", "edges2shoes", "edges2handbags"]),
)
@click.option(
    "--dataroot", type=click.Path(path_type=Path), default=None, help="Check this folder against NAME."
)
@_user_errors
def datasets_command(name: str | None, dataroot: Path | None) -> None:
    """Explain the folder layout of the standard pix2pix sets, or check a folder against one.

    \b
    Examples:
      autodrag pix2pix datasets                       # every known set
      autodrag pix2pix datasets facades --dataroot data/facades
    """
    from autodrag.pix2pix.known_datasets import KNOWN_DATASETS, check_layout, describe_layout

    if dataroot is not None and name is None:
        raise click.UsageError("--dataroot needs a dataset NAME to check against")
    for known in [name] if name else list(KNOWN_DATASETS):
        click.echo(describe_layout(known))
    if dataroot is not None:
        report = check_layout(dataroot, name)
        for note in report.notes:
            click.echo(f"note: {note}")
        counts = ", ".join(f"{split}/ {n}" for split, n in report.counts.items())
        click.echo(
            f"ok: {dataroot} has the {name} layout ({counts}); train with --direction {report.layout.direction}"
        )


# ----------------------------------------------------------------------------------------- train
# Options a resumed run may change (the rest come from its options.json).
_RESUME_MUTABLE = {"device", "data.num_workers", "progress", "data.dataroot"}


@pix2pix.command()
@click.option(
    "--out",
    "run_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Run folder for checkpoints, logs and samples.",
)
@click.option(
    "--resume", is_flag=True, help="Continue the run in --out from latest.pt with its saved options."
)
@_dataset_option
@train_options
@click.pass_context
@_user_errors
def train(ctx: click.Context, run_dir: Path, resume: bool, dataset: str | None, **opts: Any) -> None:
    """Train a pix2pix model; under torchrun it trains data-parallel.

    Every option is a field of `TrainConfig` (autodrag/pix2pix/config.py), generated from it.

    \b
    Examples:
      autodrag pix2pix train --dataset facades --dataroot data/facades --out runs/facades --load-size 286 --crop-size 256 --flip
      autodrag pix2pix train --dataroot data/sign --out runs/sign --input-nc 1 --output-nc 1 --batch-size 4
      autodrag pix2pix train --out runs/sign --resume
      torchrun --nproc_per_node 2 "$(which autodrag)" pix2pix train --dataroot data/sign --out runs/ddp
    """
    from autodrag.pix2pix.train import train as run_training
    from autodrag.runtime import keep_freed_memory

    keep_freed_memory()  # a training process: reuse its large freed blocks (runtime.py)
    dataroot = opts["data__dataroot"]
    if resume:
        given = [
            spec.flag for spec in TRAIN_OPTIONS
            if ctx.get_parameter_source(spec.dest) is click.core.ParameterSource.COMMANDLINE
            and spec.path not in _RESUME_MUTABLE
        ]  # fmt: skip
        if given:
            raise click.UsageError(f"--resume uses the run's options.json; do not pass {', '.join(given)}")
        from autodrag.pix2pix.config import load_options

        cfg = load_options(run_dir)
        cfg.device, cfg.progress, cfg.data.num_workers = (
            opts["device"],
            opts["progress"],
            opts["data__num_workers"],
        )
        if dataroot is not None:
            cfg.data.dataroot = str(dataroot)
        result = run_training(run_dir, cfg, resume=True)
    else:
        if dataroot is None:
            raise click.UsageError("--dataroot is required for a new run")
        if dataset is not None:
            opts["data__direction"] = _check_dataset(
                ctx, dataset, dataroot, opts["data__direction"], "data__direction"
            )
        result = run_training(run_dir, config_from_options(opts))
    state = "stopped early" if result.stopped_early else "done"
    val = f", last val L1 {result.val_l1[-1]:.4f}" if result.val_l1 else ""
    click.echo(f"{state}: {result.epochs_completed} epochs, {result.steps} steps{val}; run in {run_dir}")


# ------------------------------------------------------------------------------- test / predict
_checkpoint_option = click.option(
    "--checkpoint",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="Run folder or checkpoint file.",
)
_eval_option = click.option(
    "--eval",
    "eval_mode",
    is_flag=True,
    help="Deterministic output: no test-time dropout, batch-norm running statistics. The default keeps "
    "dropout and uses the test image's statistics, as in the paper (better unless trained long).",
)


def _predictor(checkpoint: Path, **kwargs: Any):
    """``Predictor.from_checkpoint``, its young-statistics warning shown as one ``warning:`` line."""
    from autodrag.pix2pix.infer import Predictor, YoungStatisticsWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", YoungStatisticsWarning)
        predictor = Predictor.from_checkpoint(checkpoint, **kwargs)
    for warning in caught:
        click.echo(f"warning: {warning.message}", err=True)
    return predictor


_dropout_seed_option = click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the test-time dropout."
)
_device_option = click.option(
    "--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N."
)


@pix2pix.command()
@_checkpoint_option
@click.option("--dataroot", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--phase",
    default="test",
    show_default=True,
    help="Split folder to use (falls back to --dataroot itself).",
)
@click.option("--direction", type=click.Choice(["AtoB", "BtoA"]), default="AtoB", show_default=True)
@click.option("--any-aspect", is_flag=True, help="Accept A|B images whose halves are not square.")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (images, index.html, metrics.csv).",
)
@_eval_option
@_dropout_seed_option
@_device_option
@_dataset_option
@click.pass_context
@_user_errors
def test(
    ctx: click.Context,
    checkpoint: Path,
    dataroot: Path,
    phase: str,
    direction: str,
    any_aspect: bool,
    out: Path,
    eval_mode: bool,
    seed: int,
    device: str,
    dataset: str | None,
) -> None:
    """Translate a dataset split and report L1 / PSNR / SSIM against its targets.

    \b
    Example:
      autodrag pix2pix test --checkpoint runs/facades --dataroot data/facades --out results/facades
    """
    from autodrag.pix2pix.datasets import DataConfig
    from autodrag.pix2pix.infer import evaluate_split

    if dataset is not None:
        direction = _check_dataset(ctx, dataset, dataroot, direction, "direction")
    predictor = _predictor(checkpoint, device=device, eval_mode=eval_mode, seed=seed)
    data = DataConfig(dataroot=str(dataroot), direction=direction, any_aspect=any_aspect)
    report = evaluate_split(predictor, data, out, phase)
    means = ", ".join(f"{k} {v:.4f}" for k, v in report.mean_metrics().items())
    click.echo(f"{len(report.items)} pairs: {means}; see {report.index_html}")


@pix2pix.command()
@_checkpoint_option
@click.argument("inputs", type=click.Path(exists=True, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option(
    "--targets",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Targets (same file stems) for metrics.",
)
@click.option("--resize", type=SIZE, default=None, help="Resize inputs to WxH first.")
@_eval_option
@_dropout_seed_option
@_device_option
@_user_errors
def predict(
    checkpoint: Path,
    inputs: Path,
    out: Path,
    targets: Path | None,
    resize,
    eval_mode: bool,
    seed: int,
    device: str,
) -> None:
    """Translate one image or a folder of images (INPUTS).

    \b
    Examples:
      autodrag pix2pix predict --checkpoint runs/sign generated/Ada.png --out out/
      autodrag pix2pix predict --checkpoint runs/sign generated/ --targets signatures/ --out out/ --eval
    """
    from autodrag.pix2pix.infer import predict_folder

    predictor = _predictor(checkpoint, device=device, eval_mode=eval_mode, seed=seed, resize=resize)
    report = predict_folder(predictor, inputs, out, targets)
    means = ", ".join(f"{k} {v:.4f}" for k, v in report.mean_metrics().items())
    click.echo(f"wrote {len(report.items)} images to {out}" + (f"; {means}" if means else ""))


@pix2pix.command()
@_checkpoint_option
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="TorchScript file to write."
)
@_user_errors
def export(checkpoint: Path, out: Path) -> None:
    """Export the generator as TorchScript (eval mode, any input size).

    \b
    Example:
      autodrag pix2pix export --checkpoint runs/sign --out sign_G.pt   # then torch.jit.load("sign_G.pt")
    """
    from autodrag.pix2pix.export import export_torchscript

    click.echo(f"wrote {export_torchscript(checkpoint, out)}")


# ------------------------------------------------------------------------------ data commands
@pix2pix.command()
@click.option(
    "--names",
    "names_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Text file, one name per line.",
)
@click.option(
    "--from-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Signature folder: one image per name (name = file stem).",
)
@click.option("--font", required=True, help="Font file, font name in the system font folders, or 'default'.")
@click.option("--size", type=SIZE, default="500x200", show_default=True)
@click.option(
    "--height-fraction", type=float, default=0.6, show_default=True, help="Font size / image height."
)
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Fail if any name could not be drawn.")
@_user_errors
def fonts(
    names_file: Path | None,
    from_dir: Path | None,
    font: str,
    size,
    height_fraction: float,
    out: Path,
    strict: bool,
) -> None:
    """Render names in a plain font, centred, black on white (the signature pipeline's sources).

    Names with characters the font lacks are listed, not drawn as boxes.

    \b
    Examples:
      autodrag pix2pix fonts --from-dir targets/ --font FangSong.ttf --size 500x200 --out generated/
      autodrag pix2pix fonts --names names.txt --font DejaVuSans --out generated/
    """
    from autodrag.pix2pix.handwriting.fonts import names_from_dir, names_from_file, render_names

    if (names_file is None) == (from_dir is None):
        raise click.UsageError("give exactly one of --names and --from-dir")
    if names_file is not None:
        names, file_names = names_from_file(names_file), None
    else:
        names, file_names = names_from_dir(from_dir)
    if not names:
        raise click.ClickException(f"no names found in {names_file or from_dir}")
    report = render_names(names, font, out, size, file_names, height_fraction)
    for i, line in enumerate(report.lines()):
        click.echo(line, err=i > 0)  # the summary to stdout, the findings to stderr
    if not report.written or (strict and (report.missing or report.invalid)):
        raise click.ClickException(
            f"{len(report.missing) + len(report.invalid)} of {len(names)} names were not drawn"
        )


@pix2pix.command()
@click.option(
    "--a", "dir_a", required=True, type=click.Path(file_okay=False, path_type=Path), help="Source images."
)
@click.option(
    "--b",
    "dir_b",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Target images (same file stems).",
)
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--resize", type=SIZE, default=None, help="Resize both halves to WxH.")
@click.option("--strict", is_flag=True, help="Exit with an error if any file was left out.")
@_user_errors
def combine(dir_a: Path, dir_b: Path, out: Path, resize, strict: bool) -> None:
    """Build A|B side-by-side images, reporting every unpaired, mismatched or unreadable file.

    \b
    Example:
      autodrag pix2pix combine --a generated/ --b targets/ --out data/sign/train --resize 512x256
    """
    from autodrag.pix2pix.combine import combine_folders

    report = combine_folders(dir_a, dir_b, out, resize)
    for i, line in enumerate(report.lines()):
        click.echo(line, err=i > 0)
    if strict and not report.clean:
        raise click.ClickException("some files were left out (see above)")


@pix2pix.command()
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--n-train", type=int, default=200, show_default=True)
@click.option("--n-val", type=int, default=40, show_default=True)
@click.option("--size", type=SIZE, default="128x64", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@_user_errors
def demo(out: Path, n_train: int, n_val: int, size, seed: int) -> None:
    """Make the offline demo dataset: plain names (A) -> slanted, wavy "script" names (B)."""
    from autodrag.pix2pix.handwriting.demo import make_demo_dataset

    make_demo_dataset(out, n_train, n_val, size, seed)
    click.echo(f"wrote {n_train} train and {n_val} val pairs to {out}")


# ------------------------------------------------------------------------------ multi-style
@pix2pix.command("styles-data")
@click.option(
    "--texts",
    "texts_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="One text (character) per line.",
)
@click.option("--chars", default=None, help="Characters to render, one image each (instead of --texts).")
@click.option("--source-font", required=True, help="Plain font of the inputs.")
@click.option("--style-font", "style_fonts", multiple=True, required=True, help="A target style (repeat).")
@click.option("--size", type=SIZE, default="64x64", show_default=True)
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@_user_errors
def styles_data(
    texts_file: Path | None,
    chars: str | None,
    source_font: str,
    style_fonts: tuple[str, ...],
    size,
    out: Path,
) -> None:
    """Render a multi-style dataset (A/ and B/<style>/) from installed fonts.

    \b
    Example:
      autodrag pix2pix styles-data --chars ABCDEFGHabcdefgh --source-font DejaVuSans \\
          --style-font DejaVuSerif-Italic --style-font DejaVuSansMono-Bold --out data/styles
    """
    from autodrag.pix2pix.handwriting.fonts import names_from_file
    from autodrag.pix2pix.handwriting.styles_data import make_font_styles_dataset

    if (texts_file is None) == (chars is None):
        raise click.UsageError("give exactly one of --texts and --chars")
    texts = names_from_file(texts_file) if texts_file else [c for c in chars if not c.isspace()]
    report = make_font_styles_dataset(out, texts, source_font, style_fonts, size)
    click.echo(f"wrote {report.texts} texts in {len(report.styles)} styles to {out}")
    for text, lacking in report.skipped.items():
        click.echo(f"skipped {text!r}: missing in {', '.join(lacking)}", err=True)


def _parse_schedule(text: str) -> tuple[tuple[int, float, float], ...]:
    try:
        stages = tuple(
            (int(e), float(a), float(b)) for e, a, b in (part.split(":") for part in text.split(","))
        )
    except ValueError:
        raise click.BadParameter(f"expected EPOCH:L1:CONST[,...], got {text!r}") from None
    return stages


@pix2pix.command("train-styles")
@click.option(
    "--dataroot",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A/ and B/<style>/ folders.",
)
@click.option("--out", "run_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--resume", is_flag=True, help="Continue the run in --out.")
@click.option(
    "--pretrained",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Fine-tune this multi-style run.",
)
@click.option("--freeze-encoder", is_flag=True, help="Fine-tuning: keep the encoder fixed.")
@click.option("--schedule", default="0:100:15,30:500:1000", show_default=True, help="EPOCH:L1:CONST stages.")
@click.option("--epochs", type=int, default=50, show_default=True)
@click.option("--batch-size", type=int, default=16, show_default=True)
@click.option("--lr", type=float, default=2e-4, show_default=True)
@click.option("--depth", type=int, default=6, show_default=True, help="U-Net levels.")
@click.option("--ngf", type=int, default=64, show_default=True)
@click.option("--ndf", type=int, default=64, show_default=True)
@click.option("--embed-dim", type=int, default=64, show_default=True, help="Style vector length.")
@click.option("--channels", type=click.Choice(["1", "3"]), default="1", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="auto", show_default=True)
@click.option("--progress/--no-progress", default=True, show_default=True)
@_user_errors
def train_styles(
    run_dir: Path, resume: bool, dataroot: Path | None, pretrained: Path | None, schedule: str, **o: Any
) -> None:
    """Pre-train the multi-style (zi2zi-like) model, or fine-tune it on a few samples.

    \b
    Examples:
      autodrag pix2pix train-styles --dataroot data/styles --out runs/styles --epochs 60
      autodrag pix2pix train-styles --dataroot data/my_hand --out runs/my_hand \\
          --pretrained runs/styles --freeze-encoder --epochs 200 --schedule 0:500:1000
    """
    from autodrag.pix2pix.handwriting.multistyle import MultiStyleConfig, WeightSchedule
    from autodrag.pix2pix.handwriting.multistyle_train import MultiStyleTrainConfig, train_multistyle

    if resume:
        trainer = train_multistyle(run_dir, None, resume=True)
    else:
        if dataroot is None:
            raise click.UsageError("--dataroot is required for a new run")
        channels = int(o["channels"])
        cfg = MultiStyleTrainConfig(
            model=MultiStyleConfig(
                embed_dim=o["embed_dim"], in_channels=channels, out_channels=channels, depth=o["depth"], ngf=o["ngf"], ndf=o["ndf"]
            ),
            dataroot=str(dataroot), pretrained=str(pretrained or ""), freeze_encoder=o["freeze_encoder"],
            schedule=WeightSchedule(_parse_schedule(schedule)), lr=o["lr"], batch_size=o["batch_size"], epochs=o["epochs"],
            seed=o["seed"], device=o["device"], progress=o["progress"],
        )  # fmt: skip
        trainer = train_multistyle(run_dir, cfg)
    click.echo(f"done: {trainer.epoch} epochs, styles {', '.join(trainer.cfg.style_names)}; run in {run_dir}")


@pix2pix.command()
@_checkpoint_option
@click.option(
    "--input",
    "source",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Source image.",
)
@click.option("--style-a", required=True, help="First style (name or index).")
@click.option("--style-b", required=True, help="Last style (name or index).")
@click.option("--steps", type=int, default=8, show_default=True, help="Images in the strip, ends included.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Strip PNG.")
@click.option(
    "--gif", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write an animated GIF."
)
@_user_errors
def interpolate(
    checkpoint: Path, source: Path, style_a: str, style_b: str, steps: int, out: Path, gif: Path | None
) -> None:
    """Blend two styles of a multi-style model: a strip image and optionally a GIF.

    \b
    Example:
      autodrag pix2pix interpolate --checkpoint runs/styles --input data/styles/A/0003.png \\
          --style-a DejaVuSerif-Italic --style-b 2 --steps 10 --out strip.png --gif strip.gif
    """
    from autodrag.images import save_gif
    from autodrag.pix2pix.handwriting.interpolate import interpolate_styles, save_strip, style_index
    from autodrag.pix2pix.handwriting.multistyle_train import load_multistyle

    net, cfg = load_multistyle(checkpoint)
    a, b = style_index(style_a, cfg.style_names), style_index(style_b, cfg.style_names)
    images = interpolate_styles(net, source, a, b, steps, cfg.model.in_channels)
    click.echo(f"wrote {save_strip(images, out)}")
    if gif is not None:
        click.echo(f"wrote {save_gif(gif, images, frame_ms=120, hold_last_ms=None, bounce=True)}")
