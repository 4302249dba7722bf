"""AutoDrag: DragGAN point-drag editing for StyleGAN2/StyleGAN3 with automatic face presets."""

from importlib.metadata import PackageNotFoundError, version

from autodrag.networks.loading import GeneratorLoadError, load_generator

__all__ = ["GeneratorLoadError", "__version__", "load_generator"]

try:  # the one version number is pyproject.toml's
    __version__ = version("autodrag")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
