"""z -> parameters: fixed, complete, well spread."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from autodrag.latents import z_from_seed
from autodrag.toyfaces import params as P


def test_one_parameter_per_z_component():
    names = [f.name for f in dataclasses.fields(P.FaceParams)]
    assert [s.name for s in P.PARAM_SPECS] == names
    assert P.Z_DIM == len(names) == 30


def test_every_uniform_component_drives_its_own_parameter_only():
    base = np.full(P.Z_DIM, 0.5)
    ref = P.params_from_uniform(base).as_array()
    for i in range(P.Z_DIM):
        u = base.copy()
        u[i] = 0.9
        changed = np.nonzero(~np.isclose(P.params_from_uniform(u).as_array(), ref))[0]
        assert changed.tolist() == [i], P.PARAM_SPECS[i].name


def test_params_use_the_normalised_z():
    z = z_from_seed(7, P.Z_DIM)
    np.testing.assert_allclose(
        P.params_from_z(z)[0].as_array(), P.params_from_z(3.0 * z)[0].as_array(), atol=1e-5
    )
    assert P.params_for_seed(7) == P.params_from_z(z)[0]


def test_uniform_roundtrip():
    u = np.random.default_rng(0).uniform(0.01, 0.99, P.Z_DIM)
    np.testing.assert_allclose(P.uniform_from_params(P.params_from_uniform(u)), u, atol=1e-9)


def test_expressions_have_mass_at_both_ends():
    z = np.random.RandomState(0).randn(3000, P.Z_DIM)
    ps = P.params_from_z(z)
    for name in ("eye_open_left", "eye_open_right", "mouth_open", "jaw_width", "brow_height"):
        v = np.array([getattr(p, name) for p in ps])
        assert np.mean(v < 0.05) > 0.1 and np.mean(v > 0.95) > 0.1, name


def test_z_with_params_sets_values_and_stays_normalised():
    z0 = z_from_seed(3, P.Z_DIM)
    for value in (0.0, 0.3, 1.0):
        z = P.z_with_params(z0, eye_open_left=value, mouth_open=1.0 - value)
        assert np.isclose(np.mean(z**2), 1.0, atol=1e-4)
        p = P.params_from_z(z)[0]
        assert abs(p.eye_open_left - value) < 1e-4 and abs(p.mouth_open - (1.0 - value)) < 1e-4


def test_bad_inputs():
    with pytest.raises(ValueError, match="shape"):
        P.params_from_z(np.zeros((2, P.Z_DIM + 1)))
    with pytest.raises(ValueError, match="unknown parameter"):
        P.z_with_params(z_from_seed(0, P.Z_DIM), eyes=1.0)
