"""One module per panel of the visualizer; each draws itself and calls the `Controller`."""

from autodrag.gui.panels import capture, drag, face_adjustments, latent, mask, network

__all__ = ["PANELS", "TextFields"]

from autodrag.gui.panels.common import TextFields

# Order of the panels in the side bar.
PANELS = [network, latent, drag, mask, face_adjustments, capture]
