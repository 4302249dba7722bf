"""Our generators reproduce NVIDIA's reference outputs from real-format pickles (max abs error <= 1e-4)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autodrag.networks import load_generator

FIXTURES = ["sg2ada_64", "sg2_sg3repo_64_cond", "sg3t_64"]
TOL = 1e-4


def _max_err(ours: torch.Tensor, ref: np.ndarray) -> float:
    return float(np.max(np.abs(ours.detach().cpu().numpy() - ref)))


@pytest.fixture(scope="module", params=FIXTURES)
def loaded(request, nvidia_pickles):
    name = request.param
    G = load_generator(nvidia_pickles / f"{name}.pkl")
    ref = dict(np.load(nvidia_pickles / f"{name}.ref.npz"))
    return name, G, ref


def test_family_detected_from_contents(loaded):
    name, G, _ = loaded
    assert G.family == ("stylegan3" if name.startswith("sg3") else "stylegan2")


def test_w_avg_matches(loaded):
    _, G, ref = loaded
    assert _max_err(G.mapping.w_avg, ref["w_avg"]) <= TOL * max(1.0, float(np.abs(ref["w_avg"]).max()))


@pytest.mark.parametrize("psi,key", [(1.0, "psi1"), (0.7, "psi07")])
def test_mapping_and_image_match(loaded, psi, key):
    _, G, ref = loaded
    z, c = torch.from_numpy(ref["z"]), torch.from_numpy(ref["c"])
    with torch.no_grad():
        ws = G.mapping(z, c, truncation_psi=psi, truncation_cutoff=None)
        img = G.synthesis(ws, noise_mode="const", force_fp32=True)
    assert _max_err(ws, ref[f"ws_{key}"]) <= TOL
    assert _max_err(img, ref[f"img_{key}"]) <= TOL
    assert img.shape == ref[f"img_{key}"].shape


def test_noise_none_matches(loaded):
    _, G, ref = loaded
    # StyleGAN3 has no noise inputs: there 'none' must give the reference 'const' image.
    expected = ref["img_psi1_noise_none"] if "img_psi1_noise_none" in ref else ref["img_psi1"]
    with torch.no_grad():
        img = G.synthesis(torch.from_numpy(ref["ws_psi1"]), noise_mode="none", force_fp32=True)
    assert _max_err(img, expected) <= TOL


def test_features_match_every_block(loaded):
    _, G, ref = loaded
    keys = sorted((k for k in ref if k.startswith("feat_")), key=lambda k: int(k.split("_")[1]))
    assert len(keys) == G.synthesis.num_feature_layers
    with torch.no_grad():
        out = G.synthesis.forward_features(
            torch.from_numpy(ref["ws_psi1"][:1]), noise_mode="const", force_fp32=True
        )
    for key, feat in zip(keys, out.features):
        r = ref[key]
        ours = feat[:, : r.shape[1]]
        assert ours.shape == r.shape, key
        assert _max_err(ours, r) <= TOL * max(1.0, float(np.abs(r).max())), key
    assert _max_err(out.image, ref["img_psi1"][:1]) <= TOL


def test_stop_at_runs_only_the_needed_blocks(loaded):
    _, G, ref = loaded
    ws = torch.from_numpy(ref["ws_psi1"][:1])
    k = G.synthesis.num_feature_layers - 2  # any block short of the last
    with torch.no_grad():
        full = G.synthesis.forward_features(ws, noise_mode="const")
        early = G.synthesis.forward_features(ws, stop_at=k, noise_mode="const")
    assert early.image is None and len(early.features) == k + 1
    torch.testing.assert_close(early.features[k], full.features[k], rtol=0, atol=0)


def test_grad_rows_gives_the_same_gradients_with_less_work(loaded):
    """Rows >= grad_rows are constants: the gradient w.r.t. the earlier rows is unchanged."""
    _, G, ref = loaded
    k = G.synthesis.num_feature_layers - 2
    grads = []
    for grad_rows in (None, 4):
        ws = torch.from_numpy(ref["ws_psi1"][:1]).clone().requires_grad_(True)
        out = G.synthesis.forward_features(ws, stop_at=k, grad_rows=grad_rows, noise_mode="const")
        out.features[k].square().mean().backward()
        grads.append(ws.grad.clone())
    torch.testing.assert_close(grads[0][:, :4], grads[1][:, :4], rtol=1e-5, atol=1e-8)
    assert grads[1][:, 4:].abs().max() == 0 and grads[0][:, 4:].abs().max() > 0


def test_stopping_early_skips_the_rgb_branch(loaded):
    """StyleGAN2's per-block ToRGBs and StyleGAN3's single final ToRGB layer are not run when stopping early."""
    _, G, ref = loaded
    calls = []
    hooks = [
        m.register_forward_hook(lambda *a: calls.append(1))
        for n, m in G.synthesis.named_modules()
        if n.endswith("torgb") or getattr(m, "is_torgb", False)
    ]
    assert hooks
    with torch.no_grad():
        G.synthesis.forward_features(torch.from_numpy(ref["ws_psi1"][:1]), stop_at=2)
        assert calls == []
        G.synthesis(torch.from_numpy(ref["ws_psi1"][:1]))
    assert len(calls) > 0
    for h in hooks:
        h.remove()


@pytest.fixture(scope="module", params=[f for f in FIXTURES if f.startswith("sg2")])
def loaded_sg2(request, nvidia_pickles):
    """The StyleGAN2 fixtures only (StyleGAN3 layers have one modulation form)."""
    G = load_generator(nvidia_pickles / f"{request.param}.pkl")
    return request.param, G, dict(np.load(nvidia_pickles / f"{request.param}.ref.npz"))


def test_modulation_forms_match_and_gradients_take_the_cheaper_one(loaded_sg2, monkeypatch):
    """A latent needing gradients runs the scale-conv-scale form (its demodulation from [O, I] sums);
    it gives the fused form's image and, through autograd, the same latent gradient."""
    _, G, ref = loaded_sg2
    assert G.family == "stylegan2"
    import autodrag.networks.stylegan2 as sg2

    seen = []
    original = sg2.modulated_conv2d
    monkeypatch.setattr(
        sg2, "modulated_conv2d", lambda **kw: seen.append(kw["fused_modconv"]) or original(**kw)
    )
    images, grads = [], []
    for fused in (True, None):  # None: the block's rule, here with a latent that needs gradients
        seen.clear()
        ws = torch.from_numpy(ref["ws_psi1"][:1]).clone().requires_grad_(True)
        image = G.synthesis(ws, noise_mode="const", fused_modconv=fused)
        image.square().mean().backward()
        images.append(image.detach())
        grads.append(ws.grad.clone())
        assert set(seen) == {fused is True}
    torch.testing.assert_close(images[1], images[0], rtol=0, atol=TOL)
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-4, atol=1e-7)
    with torch.no_grad():  # without gradients the rule is NVIDIA's again: fused in eval mode
        seen.clear()
        G.synthesis(torch.from_numpy(ref["ws_psi1"][:1]), noise_mode="const")
        assert set(seen) == {True}


def test_need_image_false_skips_the_rgb_branch_at_the_last_block(loaded):
    _, G, ref = loaded
    ws = torch.from_numpy(ref["ws_psi1"][:1])
    last = G.synthesis.num_feature_layers - 1
    with torch.no_grad():
        full = G.synthesis.forward_features(ws, noise_mode="const")
        bare = G.synthesis.forward_features(ws, stop_at=last, need_image=False, noise_mode="const")
    assert full.image is not None and bare.image is None
    torch.testing.assert_close(bare.features[last], full.features[last], rtol=0, atol=0)
