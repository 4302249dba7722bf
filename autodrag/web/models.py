"""Which checkpoints the browser may load: files directly in `--models-dir`, chosen by name, never by path."""

from __future__ import annotations

from pathlib import Path

__all__ = ["BUNDLED", "ModelNameError", "list_models", "resolve_model"]

BUNDLED = "bundled"  # the name of the bundled model
SUFFIXES = (".pkl", ".safetensors")


class ModelNameError(ValueError):
    """The browser asked for a model that is not in the models folder."""


def list_models(models_dir: Path | None, extra: Path | None = None) -> list[str]:
    """The names the page may ask for: 'bundled', the command line's checkpoint, then the folder's files."""
    names = [BUNDLED]
    if extra is not None:
        names.append(extra.name)
    if models_dir is not None and models_dir.is_dir():
        names += sorted(
            p.name
            for p in models_dir.iterdir()
            if p.is_file() and p.suffix in SUFFIXES and not p.name.startswith(".") and p.name not in names
        )
    return names


def resolve_model(name: object, models_dir: Path | None, extra: Path | None = None) -> Path | None:
    """A model name from the page -> the checkpoint path (None = the bundled model).

    Raises:
        ModelNameError: not a string, contains a path separator or '..', wrong suffix, or not in the folder.
    """
    if name is None or name == BUNDLED:
        return None
    if not isinstance(name, str) or not name:
        raise ModelNameError(f"model: expected a file name, got {name!r}")
    if "/" in name or "\\" in name or "\0" in name or name in (".", "..") or name.startswith("."):
        raise ModelNameError(f"model {name!r}: give a file name from the list, not a path")
    if extra is not None and name == extra.name:
        return extra
    if not name.endswith(SUFFIXES):
        raise ModelNameError(f"model {name!r}: only {' and '.join(SUFFIXES)} files can be loaded")
    if models_dir is None:
        raise ModelNameError(f"model {name!r}: the server was started without --models-dir")
    path = models_dir / name
    if not path.is_file() or path.resolve().parent != models_dir.resolve():
        raise ModelNameError(f"model {name!r}: no such file in the models folder")
    return path
