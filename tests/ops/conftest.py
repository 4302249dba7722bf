"""Fixtures for the stylegan_ops tests.

Besides CPU defaults, this builds `kernel_harness.cpp` (the CUDA kernels' per-element math headers
compiled as host C++) and wraps it in `HarnessPlugin`, a CPU stand-in for the compiled extension with
the same call signatures as csrc/ops.cpp. With `kernel_path`, the ops run their CUDA code path
(autograd wrappers included) on CPU tensors through that stand-in.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from stylegan_ops import _build

HERE = Path(__file__).resolve().parent
_DTYPE_CODE = {torch.float32: 0, torch.float64: 1}  # DType in csrc/ops.h


def _ptr(t: torch.Tensor | None) -> int | None:
    return None if t is None else t.data_ptr()


class HarnessPlugin:
    """CPU stand-in for the built extension: same functions, same argument checks as ops.cpp."""

    def __init__(self, lib: ctypes.CDLL):
        self._lib = lib
        lib.harness_bias_act.restype = ctypes.c_int
        lib.harness_bias_act.argtypes = (
            [ctypes.c_int]
            + [ctypes.c_void_p] * 6
            + [ctypes.c_int64] * 3
            + [
                ctypes.c_int,
                ctypes.c_int,
                ctypes.c_double,
                ctypes.c_double,
                ctypes.c_double,
            ]
        )
        lib.harness_upfirdn2d.restype = ctypes.c_int
        lib.harness_upfirdn2d.argtypes = [ctypes.c_int] + [ctypes.c_void_p] * 7 + [ctypes.c_double]
        self.calls: list[str] = []

    def bias_act(self, x, b, xref, yref, dy, grad, dim, act, alpha, gain, clamp):
        self.calls.append("bias_act")
        assert x.is_contiguous() or x.is_contiguous(memory_format=torch.channels_last)
        for t in (xref, yref, dy):  # same shape, dtype and memory order (size-1 strides may differ)
            assert t is None or (t.shape == x.shape and t.dtype == x.dtype)
            assert t is None or all(s == 1 or a == b for s, a, b in zip(x.shape, t.stride(), x.stride()))
        size_b, step_b = 1, 1
        if b is not None:
            assert b.ndim == 1 and b.is_contiguous() and b.shape[0] == x.shape[dim]
            size_b, step_b = b.shape[0], x.stride(dim)
        y = torch.empty_like(x)
        rc = self._lib.harness_bias_act(
            _DTYPE_CODE[x.dtype],
            _ptr(x),
            _ptr(b),
            _ptr(xref),
            _ptr(yref),
            _ptr(dy),
            _ptr(y),
            x.numel(),
            size_b,
            step_b,
            grad,
            act,
            alpha,
            gain,
            clamp,
        )
        assert rc == 0
        return y

    def upfirdn2d(self, x, f, upx, upy, downx, downy, px0, px1, py0, py1, flip_filter, gain):
        self.calls.append("upfirdn2d")
        assert x.ndim == 4 and f.ndim == 2
        f = f.to(torch.float32).contiguous()
        n, c, ih, iw = x.shape
        fh, fw = f.shape
        uh, uw = ih * upy + py0 + py1, iw * upx + px0 + px1
        assert uh >= fh and uw >= fw
        oh, ow = (uh - fh) // downy + 1, (uw - fw) // downx + 1
        cl = x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
        fmt = torch.channels_last if cl else torch.contiguous_format  # like suggest_memory_format()
        y = torch.empty([n, c, oh, ow], dtype=x.dtype).contiguous(memory_format=fmt)
        sizes = (ctypes.c_int64 * 6)(n, c, ih, iw, oh, ow)
        xs = (ctypes.c_int64 * 4)(*x.stride())
        ys = (ctypes.c_int64 * 4)(*y.stride())
        ints = (ctypes.c_int * 9)(fh, fw, upx, upy, downx, downy, px0, py0, int(flip_filter))
        rc = self._lib.harness_upfirdn2d(
            _DTYPE_CODE[x.dtype],
            _ptr(x),
            _ptr(f),
            _ptr(y),
            ctypes.addressof(sizes),
            ctypes.addressof(xs),
            ctypes.addressof(ys),
            ctypes.addressof(ints),
            gain,
        )
        assert rc == 0
        return y


def naive_upfirdn2d(x, f, up=1, down=1, pad=0, flip_filter=False, gain=1.0) -> torch.Tensor:
    """upfirdn2d by definition, with explicit loops in float64 numpy."""
    upx, upy = (up, up) if isinstance(up, int) else up
    downx, downy = (down, down) if isinstance(down, int) else down
    if isinstance(pad, int):
        pad = [pad, pad]
    px0, px1, py0, py1 = [pad[0], pad[0], pad[1], pad[1]] if len(pad) == 2 else pad
    x = x.detach().double().numpy()
    k = np.ones([1, 1]) if f is None else f.detach().double().numpy()
    if k.ndim == 1:
        k = np.outer(k, k)  # separable: the same taps along x and y
    n, c, h, w = x.shape
    fh, fw = k.shape

    # Zero-inserted, padded/cropped buffer.
    uh, uw = h * upy + py0 + py1, w * upx + px0 + px1
    u = np.zeros([n, c, uh, uw])
    for i in range(uh):
        for j in range(uw):
            sy, sx = i - py0, j - px0
            if sy >= 0 and sx >= 0 and sy % upy == 0 and sx % upx == 0 and sy // upy < h and sx // upx < w:
                u[:, :, i, j] = x[:, :, sy // upy, sx // upx]

    # Valid convolution (correlation when flip_filter), then keep every down-th sample.
    zh, zw = uh - fh + 1, uw - fw + 1
    z = np.zeros([n, c, zh, zw])
    for p in range(zh):
        for q in range(zw):
            for a in range(fh):
                for b in range(fw):
                    tap = k[a, b] if flip_filter else k[fh - 1 - a, fw - 1 - b]
                    z[:, :, p, q] += tap * u[:, :, p + a, q + b]
    return torch.from_numpy(z[:, :, ::downy, ::downx] * gain)


def in_layout(base: torch.Tensor, layout: str) -> torch.Tensor:
    """A 4-D tensor with different strides: 'contiguous', 'transposed' (H<->W), 'channels_last', 'sliced'."""
    if layout == "contiguous":
        return base
    if layout == "transposed":
        return base.transpose(2, 3)
    if layout == "channels_last":
        return base.contiguous(memory_format=torch.channels_last)
    if layout == "sliced":
        return base[:, :, 1:, ::2]
    raise KeyError(layout)


@pytest.fixture
def layout_of():
    """`in_layout(base, layout)`: re-lay a 4-D tensor out in memory."""
    return in_layout


@pytest.fixture
def naive():
    """`naive_upfirdn2d`: upfirdn2d by its definition, in float64 numpy loops."""
    return naive_upfirdn2d


@pytest.fixture(scope="session")
def harness_lib(tmp_path_factory) -> ctypes.CDLL:
    cxx = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if cxx is None:
        why = (
            "no C++ compiler (c++, g++ or clang++) on PATH to build tests/ops/kernel_harness.cpp, "
            "which runs the CUDA kernels' math on the CPU; install g++ to run these tests"
        )
        pytest.skip(reason=why)
    out = tmp_path_factory.mktemp("harness") / "kernel_harness.so"
    cmd = [
        cxx,
        "-O1",
        "-std=c++17",
        "-shared",
        "-fPIC",
        "-I",
        str(_build.CSRC_DIR),
        str(HERE / "kernel_harness.cpp"),
        "-o",
        str(out),
    ]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return ctypes.CDLL(str(out))


@pytest.fixture
def kernel_path(harness_lib, monkeypatch) -> HarnessPlugin:
    """Route impl='auto'/'cuda' to the CUDA code path, executed on CPU by the harness plugin."""
    plugin = HarnessPlugin(harness_lib)
    monkeypatch.setattr(_build, "get_plugin", lambda: plugin)
    monkeypatch.setattr(_build, "select_impl", lambda impl, x: "ref" if impl == "ref" else "cuda")
    return plugin


@pytest.fixture
def fresh_build(monkeypatch):
    """A build cache with no plugin and no recorded failure; strict mode off unless a test sets it."""
    monkeypatch.delenv(_build.STRICT_ENV, raising=False)
    saved = (_build._plugin, _build._build_error)
    _build._reset_for_tests()
    yield
    _build._plugin, _build._build_error = saved


@pytest.fixture
def cuda_device() -> torch.device:
    if not torch.cuda.is_available():
        why = (
            "no CUDA device on this machine: the CUDA kernels are compared with the PyTorch reference "
            "only on a GPU (their math is checked on the CPU by the kernel_harness tests)"
        )
        pytest.skip(reason=why)
    return torch.device("cuda")
