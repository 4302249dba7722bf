"""Bundled pix2pix: paired image-to-image translation (the core, here), and in ``handwriting/`` the
font-to-signature pipeline and a multi-style (zi2zi-like) handwriting model built on it.

Core modules, one job each: ``layers`` (norms, init, size padding), ``networks`` (translator
generators: ``build_translator``), ``discriminators``, ``losses``, ``images`` / ``datasets`` /
``combine`` (data), ``config``, ``schedules``, ``checkpoint``, ``trainer`` (the training step),
``train`` (the loop), ``distributed``, ``report`` (CSV, plot, grids, HTML), ``metrics``, ``infer``
(``load_translator``), ``export``, and ``cli``. Heavy modules are imported lazily by the CLI.
"""

from autodrag.pix2pix.combine import CombineReport, combine_folders
from autodrag.pix2pix.config import TrainConfig, load_options, save_options
from autodrag.pix2pix.datasets import DataConfig, PairedDataset, open_dataset
from autodrag.pix2pix.discriminators import (
    DiscriminatorConfig,
    PatchDiscriminator,
    PixelDiscriminator,
    build_discriminator,
)
from autodrag.pix2pix.errors import CheckpointError, DatasetError, FontError, ImageReadError, Pix2PixError
from autodrag.pix2pix.export import export_torchscript
from autodrag.pix2pix.handwriting import (
    MultiStyleConfig,
    MultiStyleTrainConfig,
    StyleDiscriminator,
    StyleUnet,
    WeightSchedule,
    constant_loss,
    interpolate_styles,
    load_multistyle,
    make_demo_dataset,
    make_font_styles_dataset,
    missing_glyphs,
    render_names,
    render_text,
    resolve_font,
    save_strip,
    train_multistyle,
)
from autodrag.pix2pix.images import JitterConfig
from autodrag.pix2pix.infer import Predictor, evaluate_split, load_translator, predict_folder
from autodrag.pix2pix.losses import discriminator_loss, generator_adversarial_loss, gradient_penalty
from autodrag.pix2pix.metrics import image_metrics
from autodrag.pix2pix.networks import GeneratorConfig, ResnetGenerator, UnetGenerator, build_translator
from autodrag.pix2pix.train import TrainResult
from autodrag.pix2pix.train import train as train_pix2pix
from autodrag.pix2pix.trainer import Pix2PixTrainer

__all__ = [
    "CheckpointError",
    "CombineReport",
    "DataConfig",
    "DatasetError",
    "DiscriminatorConfig",
    "FontError",
    "GeneratorConfig",
    "ImageReadError",
    "JitterConfig",
    "MultiStyleConfig",
    "MultiStyleTrainConfig",
    "PairedDataset",
    "PatchDiscriminator",
    "Pix2PixError",
    "Pix2PixTrainer",
    "PixelDiscriminator",
    "Predictor",
    "ResnetGenerator",
    "StyleDiscriminator",
    "StyleUnet",
    "TrainConfig",
    "TrainResult",
    "UnetGenerator",
    "WeightSchedule",
    "build_discriminator",
    "build_translator",
    "combine_folders",
    "constant_loss",
    "discriminator_loss",
    "evaluate_split",
    "export_torchscript",
    "generator_adversarial_loss",
    "gradient_penalty",
    "image_metrics",
    "interpolate_styles",
    "load_multistyle",
    "load_options",
    "load_translator",
    "make_demo_dataset",
    "make_font_styles_dataset",
    "missing_glyphs",
    "open_dataset",
    "predict_folder",
    "render_names",
    "render_text",
    "resolve_font",
    "save_options",
    "save_strip",
    "train_multistyle",
    "train_pix2pix",
]
