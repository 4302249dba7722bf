"""Public API surface: exported names and NVIDIA-compatible signatures."""

from __future__ import annotations

import inspect
import math

import torch

import stylegan_ops
from stylegan_ops import bias_act, conv2d_resample, filtered_lrelu, fma, upfirdn2d

# name -> [(parameter, default)], as in NVIDIA's torch_utils/ops (impl default aside).
EMPTY = inspect.Parameter.empty
SIGNATURES = {
    bias_act.bias_act: [
        ("x", EMPTY),
        ("b", None),
        ("dim", 1),
        ("act", "linear"),
        ("alpha", None),
        ("gain", None),
        ("clamp", None),
        ("impl", "auto"),
    ],
    upfirdn2d.setup_filter: [
        ("f", EMPTY),
        ("device", torch.device("cpu")),
        ("normalize", True),
        ("flip_filter", False),
        ("gain", 1),
        ("separable", None),
    ],
    upfirdn2d.upfirdn2d: [
        ("x", EMPTY),
        ("f", EMPTY),
        ("up", 1),
        ("down", 1),
        ("padding", 0),
        ("flip_filter", False),
        ("gain", 1),
        ("impl", "auto"),
    ],
    upfirdn2d.filter2d: [
        ("x", EMPTY),
        ("f", EMPTY),
        ("padding", 0),
        ("flip_filter", False),
        ("gain", 1),
        ("impl", "auto"),
    ],
    upfirdn2d.upsample2d: [
        ("x", EMPTY),
        ("f", EMPTY),
        ("up", 2),
        ("padding", 0),
        ("flip_filter", False),
        ("gain", 1),
        ("impl", "auto"),
    ],
    upfirdn2d.downsample2d: [
        ("x", EMPTY),
        ("f", EMPTY),
        ("down", 2),
        ("padding", 0),
        ("flip_filter", False),
        ("gain", 1),
        ("impl", "auto"),
    ],
    conv2d_resample.conv2d_resample: [
        ("x", EMPTY),
        ("w", EMPTY),
        ("f", None),
        ("up", 1),
        ("down", 1),
        ("padding", 0),
        ("groups", 1),
        ("flip_weight", True),
        ("flip_filter", False),
        ("impl", "auto"),
    ],
    fma.fma: [("a", EMPTY), ("b", EMPTY), ("c", EMPTY)],
    filtered_lrelu.filtered_lrelu: [
        ("x", EMPTY),
        ("fu", None),
        ("fd", None),
        ("b", None),
        ("up", 1),
        ("down", 1),
        ("padding", 0),
        ("gain", math.sqrt(2)),
        ("slope", 0.2),
        ("clamp", None),
        ("flip_filter", False),
        ("impl", "auto"),
    ],
}


def test_package_exports_submodules():
    assert sorted(stylegan_ops.__all__) == [
        "bias_act",
        "conv2d_resample",
        "filtered_lrelu",
        "fma",
        "upfirdn2d",
    ]
    for name in stylegan_ops.__all__:
        assert inspect.ismodule(getattr(stylegan_ops, name))


def test_module_all():
    assert bias_act.__all__ == ["ACTIVATIONS", "ActivationSpec", "bias_act"]
    assert upfirdn2d.__all__ == ["downsample2d", "filter2d", "setup_filter", "upfirdn2d", "upsample2d"]
    assert conv2d_resample.__all__ == ["conv2d_resample"]
    assert fma.__all__ == ["fma"]
    assert filtered_lrelu.__all__ == ["filtered_lrelu"]
    for mod in (bias_act, upfirdn2d, conv2d_resample, fma, filtered_lrelu):
        for name in mod.__all__:
            assert hasattr(mod, name), (mod.__name__, name)


def test_signatures():
    for fn, expected in SIGNATURES.items():
        params = list(inspect.signature(fn).parameters.values())
        assert [(p.name, p.default) for p in params] == expected, fn.__name__
