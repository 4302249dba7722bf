"""State the panels keep between frames that is not the controller's (text being typed)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TextFields"]


@dataclass
class TextFields:
    """Contents of the text inputs."""

    checkpoint: str = ""  # path typed in the Network panel ('' = bundled model)
    latent_path: str = "out/captures/latent.npz"  # path for latent load/save
    photo_path: str = ""  # photo typed in the Network panel ("Open photo")
