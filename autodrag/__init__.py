"""AutoDrag: DragGAN point-drag editing for StyleGAN2/StyleGAN3 with automatic face presets."""

import os
from importlib.metadata import PackageNotFoundError, version

# Before torch loads OpenMP: idle OpenMP threads sleep instead of spin-waiting. On a shared or loaded CPU,
# spinning made 2-thread drag steps 5-8x slower (issue #16, docs/DRAG.md); set OMP_WAIT_POLICY=ACTIVE to
# override. No effect when torch was imported first.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from autodrag.errors import quiet_interrupts

with quiet_interrupts():  # Ctrl-C during the torch import: one line, exit 130
    from autodrag.networks.loading import GeneratorLoadError, load_generator

__all__ = ["GeneratorLoadError", "__version__", "load_generator"]

try:  # the one version number is pyproject.toml's
    __version__ = version("autodrag")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
