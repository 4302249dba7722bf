"""The handwriting side of pix2pix, built on the core one level up (which never imports it).

The font-to-signature pipeline: ``fonts`` (find fonts, detect missing glyphs, render names) and
``demo`` (the offline plain -> "script" demo dataset). The multi-style (zi2zi-like) model:
``multistyle`` (StyleUnet, StyleDiscriminator, constant loss, weight schedule), ``styles_data``
(A/ + B/<style>/ datasets rendered from fonts), ``multistyle_train`` (pre-train / fine-tune) and
``interpolate`` (style interpolation strips and GIFs).
"""

from autodrag.pix2pix.handwriting.demo import make_demo_dataset
from autodrag.pix2pix.handwriting.fonts import missing_glyphs, render_names, render_text, resolve_font
from autodrag.pix2pix.handwriting.interpolate import interpolate_styles, save_strip
from autodrag.pix2pix.handwriting.multistyle import (
    MultiStyleConfig,
    StyleDiscriminator,
    StyleUnet,
    WeightSchedule,
    constant_loss,
)
from autodrag.pix2pix.handwriting.multistyle_train import (
    MultiStyleTrainConfig,
    load_multistyle,
    train_multistyle,
)
from autodrag.pix2pix.handwriting.styles_data import make_font_styles_dataset

__all__ = [
    "MultiStyleConfig",
    "MultiStyleTrainConfig",
    "StyleDiscriminator",
    "StyleUnet",
    "WeightSchedule",
    "constant_loss",
    "interpolate_styles",
    "load_multistyle",
    "make_demo_dataset",
    "make_font_styles_dataset",
    "missing_glyphs",
    "render_names",
    "render_text",
    "resolve_font",
    "save_strip",
    "train_multistyle",
]
