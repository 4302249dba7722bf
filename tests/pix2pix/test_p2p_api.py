"""The public surface of autodrag.pix2pix: listed names exist, every module declares __all__."""

from __future__ import annotations

import importlib
import pkgutil

import autodrag.pix2pix as pkg

EXPECTED = {
    "CheckpointError", "CombineReport", "DataConfig", "DatasetError", "DiscriminatorConfig", "FontError",
    "GeneratorConfig", "ImageReadError", "JitterConfig", "MultiStyleConfig", "MultiStyleTrainConfig", "PairedDataset",
    "PatchDiscriminator", "Pix2PixError", "Pix2PixTrainer", "PixelDiscriminator", "Predictor", "ResnetGenerator",
    "StyleDiscriminator", "StyleUnet", "TrainConfig", "TrainResult", "UnetGenerator", "WeightSchedule",
    "build_discriminator", "build_translator", "combine_folders", "constant_loss", "discriminator_loss", "evaluate_split",
    "export_torchscript", "generator_adversarial_loss", "gradient_penalty", "image_metrics", "interpolate_styles",
    "load_translator", "load_multistyle", "load_options", "make_demo_dataset", "make_font_styles_dataset",
    "missing_glyphs", "open_dataset", "predict_folder", "render_names", "render_text", "resolve_font",
    "save_options", "save_strip", "train_multistyle", "train_pix2pix",
}  # fmt: skip


def test_package_all() -> None:
    assert set(pkg.__all__) == EXPECTED
    assert all(hasattr(pkg, name) for name in pkg.__all__)


def test_every_module_declares_its_public_names() -> None:
    for info in pkgutil.iter_modules(pkg.__path__):
        module = importlib.import_module(f"autodrag.pix2pix.{info.name}")
        assert hasattr(module, "__all__"), info.name
        for name in module.__all__:
            assert hasattr(module, name), f"{info.name}.{name}"


def test_errors_share_one_base() -> None:
    for error in (pkg.DatasetError, pkg.ImageReadError, pkg.FontError, pkg.CheckpointError):
        assert issubclass(error, pkg.Pix2PixError)
