"""AutoDrag: DragGAN point-drag editing for StyleGAN2/StyleGAN3 with automatic face presets.

Importing the package loads nothing heavy (no torch): entry points (`autodrag`, the visualizer) set
up the process first (`autodrag.runtime.configure_process`), then import what they run.
"""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["GeneratorLoadError", "__version__", "load_generator"]

try:  # the one version number is pyproject.toml's
    __version__ = version("autodrag")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"


def __getattr__(name: str):
    """`autodrag.load_generator` / `autodrag.GeneratorLoadError`, imported on first use."""
    if name in ("GeneratorLoadError", "load_generator"):
        from autodrag.networks import loading

        return getattr(loading, name)
    raise AttributeError(f"module 'autodrag' has no attribute {name!r}")
