"""Public names of the toy-face and landmark modules exist."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "autodrag.cli_types",
    "autodrag.landmarks.base",
    "autodrag.landmarks.measures",
    "autodrag.landmarks.toy",
    "autodrag.toyfaces",
    "autodrag.toyfaces.params",
    "autodrag.toyfaces.geometry",
    "autodrag.toyfaces.palette",
    "autodrag.toyfaces.render",
    "autodrag.toyfaces.augment",
    "autodrag.toyfaces.landmarks_net",
    "autodrag.toyfaces.train_landmarks",
    "autodrag.toyfaces.eval_landmarks",
    "autodrag.toyfaces.cli",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist(name):
    module = importlib.import_module(name)
    assert module.__all__, name
    for attr in module.__all__:
        assert hasattr(module, attr), f"{name}.{attr}"
