"""The CUDA sources compile: each .cu with nvcc -c, the torch bindings with a host syntax check."""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest
from torch.utils import cpp_extension

from stylegan_ops import _build

NVCC = shutil.which("nvcc")
CXX = shutil.which("c++") or shutil.which("g++")
CU_FILES = sorted(s for s in _build.SOURCES if s.endswith(".cu"))


def include_flags() -> list[str]:
    dirs = [str(_build.CSRC_DIR), *cpp_extension.include_paths(), sysconfig.get_paths()["include"]]
    return [f"-I{d}" for d in dirs]


@pytest.mark.skipif(NVCC is None, reason="nvcc not on PATH")
@pytest.mark.parametrize("source", CU_FILES)
def test_cu_compiles_with_nvcc(source, tmp_path):
    # The flags cpp_extension.load uses for .cu files: C++20 for torch 2.13 headers, no implicit half conversions.
    flags = [
        "-std=c++20",
        "-O3",
        *cpp_extension.COMMON_NVCC_FLAGS,
        "--expt-relaxed-constexpr",
        "-Xcompiler",
        "-fPIC",
    ]
    cmd = [NVCC, *flags, *include_flags(), "-c", str(_build.CSRC_DIR / source), "-o", str(tmp_path / "out.o")]
    res = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "warning" not in res.stderr.lower(), res.stderr
    assert (tmp_path / "out.o").stat().st_size > 0


def cuda_include_dir() -> Path | None:
    """The CUDA toolkit's include folder (nvcc may be a wrapper script, so try a few places)."""
    homes = [os.environ.get("CUDA_HOME"), cpp_extension.CUDA_HOME, "/usr/local/cuda"]
    if NVCC is not None:
        homes.append(str(Path(NVCC).resolve().parent.parent))
    for home in filter(None, homes):
        if (Path(home) / "include" / "cuda_runtime.h").exists():
            return Path(home) / "include"
    return None


@pytest.mark.slow
@pytest.mark.skipif(CXX is None or cuda_include_dir() is None, reason="no C++ compiler or CUDA headers")
def test_bindings_pass_host_syntax_check():
    cuda_include = cuda_include_dir()
    torch_include = Path(cpp_extension.include_paths()[0])
    defines = ["-DTORCH_EXTENSION_NAME=autodrag_stylegan_ops"]
    if not (
        torch_include / "c10/cuda/impl/cuda_cmake_macros.h"
    ).exists():  # absent from CPU-only torch wheels
        defines.append("-DC10_CUDA_NO_CMAKE_CONFIGURE_FILE")
    cmd = [CXX, "-std=c++20", "-fsyntax-only", "-Wall", *defines, *include_flags(), f"-I{cuda_include}",
           str(_build.CSRC_DIR / "ops.cpp")]  # fmt: skip
    res = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
