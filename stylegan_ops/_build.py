"""Lazy build of the CUDA extension shared by all ops, with a warn-once fallback.

Nothing here runs at import time: the extension is compiled by `get_plugin()` the first time an op
is asked to run on a CUDA tensor. On failure the ops fall back to their reference implementation
after one warning, unless `AUTODRAG_STRICT_OPS=1` is set, in which case the failure is raised.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from types import ModuleType

import torch

__all__ = ["CSRC_DIR", "SOURCES", "STRICT_ENV", "OpsBuildError", "get_plugin", "is_strict", "select_impl"]

CSRC_DIR = Path(__file__).resolve().parent / "csrc"
SOURCES = ("ops.cpp", "bias_act.cu", "upfirdn2d.cu")  # compiled together into one extension
STRICT_ENV = "AUTODRAG_STRICT_OPS"
_EXT_NAME = "autodrag_stylegan_ops"
_IMPLS = ("auto", "ref", "cuda")

_plugin: ModuleType | None = None  # the built extension, once loaded
_build_error: Exception | None = None  # the first build failure; we never retry after it


class OpsBuildError(RuntimeError):
    """The CUDA extension could not be built or loaded."""


def is_strict() -> bool:
    """True when `AUTODRAG_STRICT_OPS` asks for build failures to be raised instead of warned."""
    return os.environ.get(STRICT_ENV, "0").strip().lower() not in ("", "0", "false", "no")


def _load() -> ModuleType:
    from torch.utils import cpp_extension  # imported here: importing it is slow and may probe CUDA

    return cpp_extension.load(
        name=_EXT_NAME,
        sources=[str(CSRC_DIR / s) for s in SOURCES],
        extra_cflags=["-O3"],
        extra_cuda_cflags=["-O3", "--expt-relaxed-constexpr"],
        verbose=False,
    )


def get_plugin() -> ModuleType | None:
    """Return the compiled extension, building it on first call; None if it cannot be built.

    Raises:
        OpsBuildError: the build failed and strict mode is on.
    """
    global _plugin, _build_error
    if _plugin is not None:
        return _plugin
    if _build_error is None:
        try:
            _plugin = _load()
            return _plugin
        except Exception as exc:
            _build_error = exc
            if not is_strict():
                warnings.warn(
                    f"stylegan_ops: could not build the CUDA extension ({type(exc).__name__}: {exc}); "
                    f"falling back to the reference implementation. Set {STRICT_ENV}=1 to raise instead.",
                    RuntimeWarning,
                    stacklevel=3,
                )
    if is_strict():
        raise OpsBuildError(f"stylegan_ops: CUDA extension unavailable: {_build_error}") from _build_error
    return None


def select_impl(impl: str, x: torch.Tensor) -> str:
    """Resolve an op's `impl=` argument to 'ref' or 'cuda' for input `x`.

    'auto' picks the kernel for CUDA tensors when the extension builds, else the reference;
    'ref' always uses the reference; 'cuda' requires a CUDA tensor and a working extension.
    """
    if impl not in _IMPLS:
        raise ValueError(f"impl must be one of {_IMPLS}, got {impl!r}")
    if impl == "ref":
        return "ref"
    if impl == "cuda":
        if not x.is_cuda:
            raise ValueError("impl='cuda' needs a CUDA tensor")
        if get_plugin() is None:
            raise OpsBuildError(f"impl='cuda' requested but the extension failed to build: {_build_error}")
        return "cuda"
    return "cuda" if x.is_cuda and get_plugin() is not None else "ref"


def _reset_for_tests() -> None:
    """Forget the cached plugin and build failure (tests simulate builds with this)."""
    global _plugin, _build_error
    _plugin = None
    _build_error = None
