"""Procedural toy faces with exact landmarks, and the bundled models trained on them.

Modules: `params` (z -> renderer parameters, Z_DIM), `geometry` (landmarks and outlines),
`palette` (colours), `render` (images + landmarks + masks), `augment`, `train_landmarks`
(the detector's network is `autodrag.landmarks.heatmap_net`), `train_generator`, `cli`.  See docs/TOYFACES.md.
"""

from autodrag.toyfaces.params import Z_DIM, FaceParams, params_for_seed, params_from_z
from autodrag.toyfaces.render import RenderConfig, Rendering, render_face, render_seed, render_z

__all__ = [
    "Z_DIM",
    "FaceParams",
    "RenderConfig",
    "Rendering",
    "params_for_seed",
    "params_from_z",
    "render_face",
    "render_seed",
    "render_z",
]
