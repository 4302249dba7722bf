"""StyleGAN2/StyleGAN3 generators with NVIDIA-compatible names, and their safe loading."""

from autodrag.networks.common import SynthesisOutput
from autodrag.networks.loading import (
    AnyGenerator,
    GeneratorLoadError,
    UnsafePickleError,
    build_generator,
    detect_family,
    load_generator,
    save_generator,
)

__all__ = [
    "AnyGenerator",
    "GeneratorLoadError",
    "SynthesisOutput",
    "UnsafePickleError",
    "build_generator",
    "detect_family",
    "load_generator",
    "save_generator",
]
