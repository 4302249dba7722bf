"""``autodrag pix2pix ...`` commands, including their one-line errors on bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from autodrag.pix2pix.cli import pix2pix

TINY = ["--input-nc", "1", "--output-nc", "1", "--ngf", "8", "--ndf", "8", "--unet-depth", "4", "--n-layers-d", "2",
        "--batch-size", "4", "--n-epochs", "1", "--n-epochs-decay", "1", "--no-progress"]  # fmt: skip


def _run(*args: str | Path):
    result = CliRunner().invoke(pix2pix, [str(a) for a in args], catch_exceptions=False)
    return result


def _one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.output
    return lines[0]


def test_help_of_every_command() -> None:
    out = _run("--help").output
    for command in (
        "train",
        "test",
        "predict",
        "fonts",
        "combine",
        "export",
        "interpolate",
        "demo",
        "train-styles",
        "styles-data",
    ):
        assert command in out
        assert _run(command, "--help").exit_code == 0


def test_train_resume_test_predict_export(small_root: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = _run("train", "--dataroot", small_root, "--out", run, *TINY)
    assert result.exit_code == 0, result.output
    assert "done: 2 epochs, 4 steps" in result.output
    refused = _run("train", "--out", run, "--resume", "--seed", "3")
    assert refused.exit_code == 2 and "do not pass --seed" in refused.output
    again = _run("train", "--out", run, "--resume", "--no-progress")
    assert again.exit_code == 0 and "done: 2 epochs" in again.output
    exists = _run("train", "--dataroot", small_root, "--out", run, *TINY)
    assert "already holds a run" in _one_line_error(exists)

    tested = _run(
        "test",
        "--checkpoint",
        run,
        "--dataroot",
        small_root,
        "--phase",
        "val",
        "--out",
        tmp_path / "t",
        "--eval",
    )
    assert (
        tested.exit_code == 0 and "4 pairs: L1" in tested.output and (tmp_path / "t" / "index.html").is_file()
    )
    one = min((small_root / "val" / "A").glob("*.png"))
    single = _run("predict", "--checkpoint", run, one, "--out", tmp_path / "p1")
    assert single.exit_code == 0 and (tmp_path / "p1" / one.name).is_file()
    folder = _run(
        "predict",
        "--checkpoint",
        run,
        small_root / "val" / "A",
        "--targets",
        small_root / "val" / "B",
        "--out",
        tmp_path / "p2",
        "--eval",
    )
    assert folder.exit_code == 0 and "wrote 4 images" in folder.output and "SSIM" in folder.output
    exported = _run("export", "--checkpoint", run, "--out", tmp_path / "G.pt")
    assert exported.exit_code == 0 and (tmp_path / "G.pt").is_file()


def test_train_bad_data_is_one_line_naming_files(tmp_path: Path) -> None:
    for side, names in (("A", ["x", "lonely"]), ("B", ["x"])):
        (tmp_path / "d" / side).mkdir(parents=True)
        for n in names:
            Image.new("L", (16, 16), 255).save(tmp_path / "d" / side / f"{n}.png")
    line = _one_line_error(_run("train", "--dataroot", tmp_path / "d", "--out", tmp_path / "r", *TINY))
    assert "only in" in line and "lonely.png" in line
    (tmp_path / "e").mkdir()
    assert "no images in" in _one_line_error(
        _run("train", "--dataroot", tmp_path / "e", "--out", tmp_path / "r2", *TINY)
    )
    wgan_bn = _run(
        "train",
        "--dataroot",
        tmp_path / "d",
        "--out",
        tmp_path / "r3",
        "--gan-mode",
        "wgangp",
        "--norm-d",
        "batch",
    )
    assert "batch norm" in _one_line_error(wgan_bn)


def test_fonts_command(tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("Ada\n张三\n\nGrace Hopper\n", encoding="utf-8")
    result = _run(
        "fonts", "--names", names, "--font", "default", "--size", "250x100", "--out", tmp_path / "gen"
    )
    assert result.exit_code == 0, result.output
    assert "wrote 2 images" in result.output and "张三" in result.output
    assert Image.open(tmp_path / "gen" / "Ada.png").size == (250, 100)
    strict = _run("fonts", "--names", names, "--font", "default", "--out", tmp_path / "gen2", "--strict")
    assert "1 of 3 names were not drawn" in _one_line_error(strict)
    (tmp_path / "targets").mkdir()
    Image.new("RGB", (30, 12), "white").save(tmp_path / "targets" / "Linus.png")
    from_dir = _run(
        "fonts", "--from-dir", tmp_path / "targets", "--font", "default", "--out", tmp_path / "gen3"
    )
    assert from_dir.exit_code == 0 and (tmp_path / "gen3" / "Linus.png").is_file()
    bad = tmp_path / "bad.ttf"
    bad.write_bytes(b"\x00" * 64)
    assert "is not a font file" in _one_line_error(
        _run("fonts", "--names", names, "--font", bad, "--out", tmp_path / "g4")
    )
    both = _run(
        "fonts",
        "--names",
        names,
        "--from-dir",
        tmp_path / "targets",
        "--font",
        "default",
        "--out",
        tmp_path / "g5",
    )
    assert both.exit_code == 2


def test_combine_command_reports(tmp_path: Path) -> None:
    for side, names in (("A", ["x", "a_only"]), ("B", ["x", "b_only"])):
        (tmp_path / side).mkdir()
        for n in names:
            Image.fromarray(np.full((8, 8), 200, np.uint8)).save(tmp_path / side / f"{n}.png")
    result = _run("combine", "--a", tmp_path / "A", "--b", tmp_path / "B", "--out", tmp_path / "AB")
    assert result.exit_code == 0 and "wrote 1 A|B images" in result.output
    assert "only in A: a_only.png" in result.output and "only in B: b_only.png" in result.output
    assert Image.open(tmp_path / "AB" / "x.png").size == (16, 8)
    strict = _run(
        "combine", "--a", tmp_path / "A", "--b", tmp_path / "B", "--out", tmp_path / "AB2", "--strict"
    )
    assert "left out" in _one_line_error(strict)


def test_demo_train_styles_and_interpolate(tmp_path: Path) -> None:
    demo = _run("demo", "--out", tmp_path / "demo", "--n-train", "4", "--n-val", "2", "--size", "64x32")
    assert demo.exit_code == 0 and len(list((tmp_path / "demo" / "train" / "B").glob("*.png"))) == 4
    data = tmp_path / "styles"
    for style in ("plain", "copy"):
        (data / "B" / style).mkdir(parents=True)
    (data / "A").mkdir()
    for i, src in enumerate(sorted((tmp_path / "demo" / "train" / "A").glob("*.png"))):
        img = Image.open(src).resize((32, 32))
        img.save(data / "A" / f"{i}.png")
        img.save(data / "B" / "plain" / f"{i}.png")
        img.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(data / "B" / "copy" / f"{i}.png")
    trained = _run("train-styles", "--dataroot", data, "--out", tmp_path / "ms", "--epochs", "1", "--depth", "3",
                   "--ngf", "4", "--ndf", "4", "--embed-dim", "4", "--batch-size", "4", "--no-progress")  # fmt: skip
    assert trained.exit_code == 0, trained.output
    assert "styles copy, plain" in trained.output
    inter = _run("interpolate", "--checkpoint", tmp_path / "ms", "--input", data / "A" / "0.png", "--style-a", "copy",
                 "--style-b", "1", "--steps", "4", "--out", tmp_path / "s.png", "--gif", tmp_path / "s.gif")  # fmt: skip
    assert inter.exit_code == 0, inter.output
    assert (
        Image.open(tmp_path / "s.png").size == (4 * 32 + 3 * 2, 32)
        and Image.open(tmp_path / "s.gif").n_frames == 6
    )
    wrong = _run("interpolate", "--checkpoint", tmp_path / "ms", "--input", data / "A" / "0.png", "--style-a", "cursive",
                 "--style-b", "1", "--out", tmp_path / "x.png")  # fmt: skip
    assert "unknown style 'cursive'" in _one_line_error(wrong)


@pytest.mark.parametrize("bad_size", ["0x5", "wide"])
def test_size_option_validation(bad_size: str, tmp_path: Path) -> None:
    result = _run("demo", "--out", tmp_path, "--size", bad_size)
    assert result.exit_code == 2 and "size" in result.output


# The train command's flags before its options were generated from TrainConfig: all must keep working.
LEGACY_TRAIN_FLAGS = [
    "--dataroot",
    "--out",
    "--resume",
    "--arch",
    "--unet-depth",
    "--resnet-blocks",
    "--ngf",
    "--ndf",
    "--netd",
    "--n-layers-d",
    "--norm",
    "--norm-d",
    "--dropout",
    "--init",
    "--init-gain",
    "--input-nc",
    "--output-nc",
    "--direction",
    "--any-aspect",
    "--load-size",
    "--crop-size",
    "--flip",
    "--gan-mode",
    "--lambda-l1",
    "--gp-weight",
    "--n-critic",
    "--lr",
    "--beta1",
    "--batch-size",
    "--n-epochs",
    "--n-epochs-decay",
    "--lr-policy",
    "--lr-step-epochs",
    "--lr-gamma",
    "--plateau-patience",
    "--plateau-factor",
    "--val-fraction",
    "--save-every",
    "--checkpoint-every-steps",
    "--log-every",
    "--seed",
    "--device",
    "--amp",
    "--channels-last",
    "--num-workers",
    "--progress",
    "--no-progress",
]


def _train_config(*args: str):
    from autodrag.pix2pix.cli import train
    from autodrag.pix2pix.cli_options import config_from_options

    ctx = train.make_context("train", ["--out", "unused", *args])
    return config_from_options({k: v for k, v in ctx.params.items() if k not in ("run_dir", "resume")})


def test_train_options_are_generated_from_every_config_field() -> None:
    from autodrag.pix2pix.cli import train
    from autodrag.pix2pix.cli_options import _FOLLOWS, TRAIN_OPTIONS
    from autodrag.pix2pix.config import TrainConfig, config_to_dict, non_default_options

    flags = {name for param in train.params for name in (*param.opts, *param.secondary_opts)}
    assert len(LEGACY_TRAIN_FLAGS) == 47 and set(LEGACY_TRAIN_FLAGS) <= flags

    def leaves(data: dict, prefix: str = "") -> set[str]:
        out = set()
        for key, value in data.items():
            out |= leaves(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key}
        return out

    assert {s.path for s in TRAIN_OPTIONS} | set(_FOLLOWS) == leaves(config_to_dict(TrainConfig()))
    assert all(spec.help for spec in TRAIN_OPTIONS), "every field has a comment that becomes its help"
    # With only --dataroot, the command builds exactly the dataclass defaults.
    assert non_default_options(_train_config("--dataroot", "data/x")) == {"data.dataroot": "data/x"}


def test_train_flags_map_onto_their_fields() -> None:
    cfg = _train_config(
        "--dataroot", "d", "--netd", "pixel", "--n-layers-d", "2", "--init", "xavier", "--init-gain", "0.5",
        "--input-nc", "1", "--save-every", "3", "--log-every", "7", "--load-size", "286", "--crop-size", "256x128",
        "--gan-mode", "wgangp", "--no-progress", "--flip", "--beta2", "0.9",
    )  # fmt: skip
    assert (cfg.discriminator.arch, cfg.discriminator.n_layers) == ("pixel", 2)
    assert cfg.generator.init == cfg.discriminator.init == "xavier" and cfg.discriminator.init_gain == 0.5
    assert cfg.generator.in_channels == 1 and cfg.generator.out_channels == 3
    assert (cfg.save_every_epochs, cfg.log_every_steps, cfg.beta2) == (3, 7, 0.9)
    assert (
        cfg.data.jitter.load_size == (286, 286)
        and cfg.data.jitter.crop_size == (256, 128)
        and cfg.data.jitter.flip
    )
    # wgangp derives its critic defaults; explicit flags win.
    assert (cfg.n_critic, cfg.discriminator.norm, cfg.progress) == (5, "layer", False)
    cfg = _train_config("--dataroot", "d", "--norm", "instance", "--gan-mode", "wgangp", "--n-critic", "2",
                        "--norm-d", "none")  # fmt: skip
    assert (cfg.n_critic, cfg.generator.norm, cfg.discriminator.norm) == (2, "instance", "none")
    assert _train_config("--dataroot", "d", "--norm", "instance").discriminator.norm == "instance"
