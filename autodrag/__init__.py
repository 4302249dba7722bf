"""AutoDrag: DragGAN point-drag editing for StyleGAN2/StyleGAN3 with automatic face presets."""

from autodrag.networks.loading import GeneratorLoadError, load_generator

__all__ = ["GeneratorLoadError", "load_generator"]
__version__ = "0.1.0"
