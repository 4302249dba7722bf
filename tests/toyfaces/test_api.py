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
    "autodrag.landmarks.heatmap_net",
    "autodrag.toyfaces.train_landmarks",
    "autodrag.toyfaces.eval_landmarks",
    "autodrag.toyfaces.cli",
    "autodrag.landmarks.cli",
    "autodrag.paths",
    "autodrag.provenance",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist(name):
    module = importlib.import_module(name)
    assert module.__all__, name
    for attr in module.__all__:
        assert hasattr(module, attr), f"{name}.{attr}"


def test_git_commit_names_this_checkout():
    import re

    from autodrag.provenance import git_commit

    assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?|unknown", git_commit())
