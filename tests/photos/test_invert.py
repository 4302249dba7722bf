"""Inversion: W projection recovers a known latent's image, W+ and tuning improve, the caller's G is kept,
stops (should_stop, early stopping), bad input, and the real path at 256 px."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autodrag.latents import ws_from_seed
from autodrag.networks.default import random_generator
from autodrag.photos.invert import InversionConfig, InversionError, TqdmProgress, invert
from autodrag.photos.perceptual import make_loss, psnr
from autodrag.photos.tuned import fingerprint

FAST = dict(w_avg_samples=500, optimize_noise=False)


def _image(G: torch.nn.Module, ws: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        img = G.synthesis(ws[None], noise_mode="const")
    return (img[0].permute(1, 2, 0) * 127.5 + 128).clamp(0, 255).to(torch.uint8).numpy()


@pytest.fixture(scope="module")
def small():
    G = random_generator(32).eval()
    return G, _image(G, ws_from_seed(G, 5, truncation_psi=0.7))


def test_w_projection_recovers_a_known_latent_and_w_plus_is_not_worse(small):
    G, target = small
    before = fingerprint(G)
    start = invert(G, target, InversionConfig(w=False, w_plus=False, tune=False), loss=make_loss("l2"))
    assert start.stages_done == [] and start.G_tuned is None
    psnr_start = psnr(start.reconstruction, target)  # w_avg's image
    config = InversionConfig(w_steps=40, w_plus_steps=20, tune=False, min_delta=0, **FAST)
    result = invert(G, target, config, loss=make_loss("l2"))
    assert result.stages_done == ["w", "w_plus"] and result.stopped is None
    assert result.metrics["psnr_w"] > max(psnr_start + 5, 17), (psnr_start, result.metrics)
    assert result.metrics["psnr_w_plus"] >= result.metrics["psnr_w"] - 0.1
    assert (
        result.ws_w.shape == result.ws_pivot.shape == (G.num_ws, G.w_dim)
        and result.ws_pivot.dtype == np.float32
    )
    assert np.allclose(result.ws_w, result.ws_w[:1])  # W: one w on every row
    assert result.metrics["steps_w"] == 40 and result.G_tuned is None  # nothing in the generator changed
    assert fingerprint(G) == before


def test_tuning_works_on_a_copy_and_should_stop_keeps_a_partial_result(small):
    G, target = small
    before = fingerprint(G)
    calls = []
    result = invert(
        G,
        target,
        InversionConfig(w_steps=3, w_plus_steps=2, tune_steps=4, min_delta=0, w_avg_samples=200),
        loss=make_loss("l2"),
        progress=lambda *a: calls.append(a),
    )
    assert (
        result.stages_done == ["w", "w_plus", "tune"]
        and result.G_tuned is not None
        and result.G_tuned is not G
    )
    assert fingerprint(G) == before and fingerprint(result.G_tuned) != before  # the caller's G is untouched
    assert [c[:3] for c in calls] == (
        [("w", i, 3) for i in (1, 2, 3)]
        + [("w_plus", i, 2) for i in (1, 2)]
        + [("tune", i, 4) for i in (1, 2, 3, 4)]
    )
    assert result.metrics["psnr_tune"] == pytest.approx(psnr(result.reconstruction, target))
    checks = iter(range(100))
    stopped = invert(
        G,
        target,
        InversionConfig(w_steps=50, min_delta=0, **FAST),
        loss=make_loss("l2"),
        should_stop=lambda: next(checks) >= 4,
    )
    assert stopped.stopped == "w" and stopped.stages_done == ["w"] and stopped.metrics["steps_w"] == 4
    assert "psnr_w_plus" not in stopped.metrics and stopped.G_tuned is None
    assert not np.allclose(stopped.ws_w, G.mapping.w_avg.numpy())  # four steps were kept


def test_early_stopping_ends_a_flat_stage(small):
    G, target = small
    config = InversionConfig(
        w_steps=100,
        w_lr=1e-9,
        initial_noise_factor=0,
        w_plus=False,
        tune=False,
        patience=5,
        min_delta=1e-3,
        min_steps_fraction=0.05,
        **FAST,
    )
    result = invert(G, target, config, loss=make_loss("l2"))
    assert result.metrics["steps_w"] == 6, (
        result.metrics
    )  # flat loss: the first step, then 5 without improvement


def test_bad_target_is_a_specific_error(small):
    G, target = small
    with pytest.raises(InversionError, match=r"\(32, 32, 3\)"):
        invert(G, target[:16], InversionConfig(tune=False))
    with pytest.raises(InversionError, match="uint8"):
        invert(G, target.astype(np.float32), InversionConfig(tune=False))
    with pytest.raises(InversionError, match="w_steps"):
        InversionConfig(w_steps=-1)


def test_256px_ffhq_architecture_runs_every_stage():
    G = random_generator(
        256,
        z_dim=512,
        w_dim=512,
        mapping_kwargs=dict(num_layers=8),
        synthesis_kwargs=dict(channel_base=1024, channel_max=16),
    ).eval()
    target = np.random.RandomState(0).randint(0, 256, (256, 256, 3), dtype=np.uint8)
    bar = TqdmProgress(disable=True)
    result = invert(
        G,
        target,
        InversionConfig(w_steps=2, w_plus_steps=2, tune_steps=2, w_avg_samples=100),
        loss=make_loss("msssim_l1"),
        progress=bar,
    )
    bar.close()
    assert result.stages_done == ["w", "w_plus", "tune"] and result.ws_pivot.shape == (14, 512)
    assert result.reconstruction.shape == (256, 256, 3) and result.G_tuned is not None
    assert all(np.isfinite(result.metrics[f"psnr_{s}"]) for s in ("w", "w_plus", "tune"))


@pytest.mark.slow
def test_tuning_gains_3db_on_a_toy_face_outside_the_range():
    from autodrag.networks.loading import load_default_generator
    from autodrag.toyfaces.render import render_seed

    G = load_default_generator().eval()
    target = render_seed(1000).image
    config = InversionConfig(w_steps=40, w_plus_steps=30, tune_steps=80, w_avg_samples=1000, min_delta=0)
    result = invert(G, target, config, loss=make_loss("msssim_l1"))
    assert result.metrics["psnr_tune"] >= result.metrics["psnr_w_plus"] + 3, result.metrics


def test_region_weighting_reports_face_psnr_and_favours_the_region(small):
    G, target = small
    region = np.zeros((32, 32), np.float32)
    region[8:24, 8:24] = 1.0
    noisy = target.copy()
    noisy[region == 0] = 255 - noisy[region == 0]  # a background the generator cannot draw
    config = InversionConfig(w_steps=30, w_plus=False, tune=False, min_delta=0, w_start_candidates=4, **FAST)
    uniform = invert(G, noisy, config, loss=make_loss("l2"), region=region)
    weighted = invert(
        G,
        noisy,
        InversionConfig(**{**config.__dict__, "background_weight": 0.0}),
        loss=make_loss("l2"),
        region=region,
    )
    inside = region > 0.5
    assert uniform.metrics["psnr_face_w"] == pytest.approx(
        psnr(uniform.reconstruction[inside], noisy[inside])
    )
    assert weighted.metrics["psnr_face_w"] > uniform.metrics["psnr_face_w"] + 1, (
        uniform.metrics,
        weighted.metrics,
    )
    with pytest.raises(InversionError, match="region"):
        invert(G, target, config, region=region[:16])
    with pytest.raises(InversionError, match="background_weight"):
        InversionConfig(background_weight=1.5)
