"""Lazy build: nothing compiles at import, warn-once fallback to ref, strict mode, impl checks."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest
import torch

from stylegan_ops import _build
from stylegan_ops.bias_act import bias_act
from stylegan_ops.upfirdn2d import setup_filter, upfirdn2d


class _FakeCuda(torch.Tensor):
    """A CPU tensor that claims to be on CUDA, to drive impl='auto' into the build."""

    @property
    def is_cuda(self) -> bool:
        return True


def fake_cuda(*shape) -> torch.Tensor:
    return torch.randn(*shape).as_subclass(_FakeCuda)


@pytest.fixture
def failing_build(fresh_build, monkeypatch) -> list[int]:
    calls: list[int] = []

    def boom():
        calls.append(1)
        raise RuntimeError("simulated nvcc failure")

    monkeypatch.setattr(_build, "_load", boom)
    return calls


def test_import_does_not_compile():
    code = (
        "import sys, torch\n"
        "import stylegan_ops\n"
        "from stylegan_ops import bias_act, upfirdn2d, conv2d_resample, fma, filtered_lrelu\n"
        "x = torch.randn(1, 2, 4, 4)\n"
        "bias_act.bias_act(x, act='lrelu'); upfirdn2d.upsample2d(x, upfirdn2d.setup_filter([1, 1]))\n"
        "assert 'torch.utils.cpp_extension' not in sys.modules, 'cpp_extension imported'\n"
        "from stylegan_ops import _build\n"
        "assert _build._plugin is None and _build._build_error is None\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120)


def test_build_failure_warns_once_and_falls_back(failing_build):
    x = fake_cuda(2, 3, 4, 4)
    b = torch.randn(3)
    f = setup_filter([1, 3, 3, 1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y1 = bias_act(x, b, act="lrelu")
        y2 = bias_act(x, b, act="lrelu")
        y3 = upfirdn2d(x, f, up=2, padding=[2, 1, 2, 1])
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1 and "simulated nvcc failure" in messages[0]
    assert len(failing_build) == 1  # the failed build is not retried
    xr = x.as_subclass(torch.Tensor)
    torch.testing.assert_close(y1.as_subclass(torch.Tensor), bias_act(xr, b, act="lrelu", impl="ref"))
    torch.testing.assert_close(y2.as_subclass(torch.Tensor), y1.as_subclass(torch.Tensor))
    torch.testing.assert_close(
        y3.as_subclass(torch.Tensor), upfirdn2d(xr, f, up=2, padding=[2, 1, 2, 1], impl="ref")
    )


def test_strict_mode_raises(failing_build, monkeypatch):
    monkeypatch.setenv(_build.STRICT_ENV, "1")
    x = fake_cuda(1, 2, 3, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # strict mode raises instead of warning
        with pytest.raises(_build.OpsBuildError, match="simulated nvcc failure"):
            bias_act(x, act="relu")
        with pytest.raises(_build.OpsBuildError):
            upfirdn2d(x, None)


def test_explicit_cuda_impl_raises_when_build_fails(failing_build):
    with pytest.warns(RuntimeWarning), pytest.raises(_build.OpsBuildError):
        bias_act(fake_cuda(1, 2), impl="cuda")


def test_cpu_tensors_never_build(failing_build):
    bias_act(torch.randn(2, 3), act="tanh")
    upfirdn2d(torch.randn(1, 1, 4, 4), None, impl="auto")
    assert failing_build == []


def test_successful_build_is_cached(fresh_build, monkeypatch):
    loads: list[int] = []
    sentinel = object()
    monkeypatch.setattr(_build, "_load", lambda: loads.append(1) or sentinel)
    assert _build.get_plugin() is sentinel
    assert _build.get_plugin() is sentinel
    assert loads == [1]


@pytest.mark.parametrize(
    "value, strict", [("1", True), ("true", True), ("0", False), ("", False), ("no", False)]
)
def test_strict_env_parsing(monkeypatch, value, strict):
    monkeypatch.setenv(_build.STRICT_ENV, value)
    assert _build.is_strict() is strict


def test_select_impl():
    x = torch.randn(2)
    assert _build.select_impl("ref", x) == "ref"
    assert _build.select_impl("auto", x) == "ref"
    with pytest.raises(ValueError, match="CUDA tensor"):
        _build.select_impl("cuda", x)
    with pytest.raises(ValueError, match="impl must be"):
        _build.select_impl("CUDA", x)


def test_sources_exist():
    for name in _build.SOURCES:
        assert (_build.CSRC_DIR / name).is_file(), name
