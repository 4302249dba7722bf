"""Real photos: load, find faces + landmarks, FFHQ-style alignment, paste the edit back, save.

photo file -> `io.load_photo` (upright RGB view) -> `faces.find_faces` / `select_face` ->
`align.align_face` (crop at the generator's resolution + exact `AlignTransform`) -> (inversion,
edit) -> `paste.paste_back` -> `io.compose_output` (stored orientation and mode) -> `io.save_photo`.
Synthetic photos of toy faces with exact landmarks (tests, benchmark) live in `autodrag.toyfaces.photos`.
"""

from autodrag.photos.align import AlignedFace, AlignTransform, align_face, template_points
from autodrag.photos.faces import FaceError, find_faces, select_face
from autodrag.photos.io import (
    Photo,
    PhotoError,
    compose_output,
    default_output_suffix,
    load_photo,
    save_photo,
)
from autodrag.photos.paste import PasteResult, paste_back

__all__ = [
    "AlignTransform",
    "AlignedFace",
    "FaceError",
    "PasteResult",
    "Photo",
    "PhotoEdit",
    "PhotoError",
    "PhotoProject",
    "align_face",
    "compose_output",
    "default_output_suffix",
    "edit_photo",
    "find_faces",
    "invert_photo",
    "load_photo",
    "open_project",
    "paste_back",
    "save_photo",
    "select_face",
    "template_points",
]

_LAZY = {
    "PhotoEdit": "pipeline",
    "edit_photo": "pipeline",
    "invert_photo": "pipeline",
    "PhotoProject": "project",
    "open_project": "project",
}


def __getattr__(name: str):
    """The project / pipeline API (`photos.invert_photo`, `photos.edit_photo`, ...), imported on first use."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"autodrag.photos.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'autodrag.photos' has no attribute {name!r}")
