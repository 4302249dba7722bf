"""`DragSession`: the outcome of a drag, its stopping rules, history, latent spaces and bad input."""

from __future__ import annotations

import threading
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from autodrag.drag import DragConfig, DragInputError, DragSession, DragStateError, sample_features
from autodrag.drag.coords import automatic_feature_index

FAST = DragConfig(r1=8, r2=16, lr=5e-3)  # at 64 px: r2 = 2 px, r1 = 2 px on the automatic 32 px map


def _movable_centre() -> np.ndarray:
    """A 64 px mask: the centre (rows 14-45, cols 10-49) movable, the border fixed."""
    movable = np.zeros((64, 64), dtype=bool)
    movable[14:46, 10:50] = True
    return movable


def test_drag_moves_the_handle_to_the_target_and_carries_its_feature(G64, ws64):
    """Outcome: the tracked handle reaches the target, and the feature there is f_i, not what was there.
    (The step's own tracking judges arrival: the relocator's richer match has its own tests, and on this
    random model's lower map it disagrees with the drag map.)"""
    config = DragConfig(r1=16, r2=24, lr=5e-3, max_steps=40, relocate=False)
    session = DragSession(G64, ws64, config)
    handle, target = [30.0, 24.0], [30.0, 34.0]
    rows, cols = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
    pixels = torch.stack([rows, cols], dim=-1)  # [64, 64, 2]
    with torch.no_grad():
        f0 = session._features(session.latent)
    f_i = sample_features(f0, torch.tensor(handle), session.window)
    session.start_drag([handle], [target])
    results = list(session.run())
    summary = session.last_summary
    assert results[-1].done and summary.reason == "converged" and summary.distances[0] <= 1  # from 10 px
    assert [r.step for r in results] == list(range(1, len(results) + 1))
    assert all(np.isfinite(r.loss) for r in results if r.loss is not None)
    with torch.no_grad():
        f_end = session._features(session.latent)
    gap = (sample_features(f_end, pixels, session.window) - f_i).abs().mean(dim=-1)  # [64, 64] |F'(q) - f_i|
    row, col = summary.points[0].round().astype(int)  # the nearest pixel
    assert gap[row, col] < 0.5 * gap.median()  # f_i now sits at the new handle...
    assert gap[row, col] < 0.6 * gap[30, 24]  # ...and no longer at the old one


def test_each_step_runs_synthesis_only_up_to_the_feature_map(G64, ws64, monkeypatch):
    calls = []
    original = G64.synthesis.forward_features

    def spy(ws, stop_at=None, **kwargs):
        calls.append(stop_at)
        return original(ws, stop_at=stop_at, **kwargs)

    monkeypatch.setattr(G64.synthesis, "forward_features", spy)
    session = DragSession(G64, ws64, FAST)
    session.start_drag([[20, 20]], [[20, 30]])
    for _ in range(3):
        session.step()
    assert calls == [automatic_feature_index(G64.synthesis)] * 4  # F0 + 3 steps, never the whole generator
    assert all(p.grad is None and not p.requires_grad for p in G64.parameters())
    assert session.render().shape == (1, 3, 64, 64)


def test_w_plus_rows_and_w_mode(G64, ws64):
    plus = DragSession(G64, ws64, DragConfig(w_plus_rows=3, lr=1e-2))
    plus.start_drag([[20, 20]], [[20, 30]])
    plus.step()
    plus.config = DragConfig(w_plus=False)  # a new config applies to the next drag, not this one
    plus.step()
    change = (plus.latent - ws64).abs().sum(dim=1)
    assert (change[:3] > 0).all() and (change[3:] == 0).all()

    single = DragSession(G64, ws64, DragConfig(w_plus=False, lr=1e-2))
    single.start_drag([[20, 20]], [[20, 30]])
    single.step(), single.step()
    delta = single.latent - ws64
    assert delta.abs().sum() > 0 and torch.allclose(delta, delta[:1].expand_as(delta))
    DragSession(G64, ws64[0], FAST)  # a single w is broadcast to all rows


def test_undo_redo_history(G64, ws64):
    session = DragSession(G64, ws64, FAST)
    assert not session.can_undo and session.undo() is False
    session.start_drag([[20, 20]], [[20, 30]])
    list(session.run(max_steps=3))
    first = session.latent
    assert session.last_summary.reason == "max_steps" and session.can_undo
    session.start_drag(session.points, [[40, 40]])
    list(session.run(max_steps=2))
    second = session.latent
    assert session.undo() and torch.equal(session.latent, first)
    assert session.undo() and torch.equal(session.latent, ws64)
    assert session.points.tolist() == [[20, 20]]  # the handles as placed before the first drag
    assert not session.undo()
    assert session.redo() and session.redo() and torch.equal(session.latent, second)
    assert not session.redo()
    session.undo()
    session.start_drag([[10, 10]], [[12, 10]])
    list(session.run(max_steps=1))
    assert not session.can_redo  # a new drag drops the redo branch


def test_converged_drag_stops_at_once_and_keeps_history(G64, ws64):
    session = DragSession(G64, ws64, FAST)
    # 0.3 px: within the stop distance, with room for sub-pixel tracking to read the unchanged content
    # a few hundredths of a pixel off (the start features are taken without gradients, the step's with)
    session.start_drag([[20, 20]], [[20, 20.3]])
    results = list(session.run())
    assert len(results) == 1 and results[0].reason == "converged" and results[0].loss is None
    assert torch.equal(session.latent, ws64) and not session.can_undo


def test_stop_from_another_thread(G64, ws64):
    session = DragSession(G64, ws64, FAST)
    session.start_drag([[20, 20]], [[20, 40]])
    seen = []
    for result in session.run(max_steps=50):
        seen.append(result)
        if result.step == 2:
            threading.Thread(target=session.stop).start()
            threading.Event().wait(0.05)
    assert len(seen) <= 3 and session.last_summary.reason == "stopped" and not session.dragging
    assert session.can_undo


def test_nan_stops_and_restores_the_last_good_latent(G64, ws64, monkeypatch):
    session = DragSession(G64, ws64, FAST)
    session.start_drag([[20, 20]], [[20, 40]])
    session.step()
    good = session.latent
    session.step()  # its update will turn out to produce NaN features
    original = G64.synthesis.forward_features
    poisoned = lambda ws, **kw: original(ws * float("nan"), **kw)
    monkeypatch.setattr(G64.synthesis, "forward_features", poisoned)
    result = session.step()
    assert result.done and result.reason == "nan"
    monkeypatch.setattr(G64.synthesis, "forward_features", original)
    summary = session.finish()
    assert summary.reason == "nan" and "kept the last good latent" in summary.message
    assert torch.equal(session.latent, good)  # step 2 started from it with finite features: the last good one


def test_nan_in_the_loss_is_a_clean_stop(G64, ws64, monkeypatch):
    import autodrag.drag.session as session_module

    session = DragSession(G64, ws64, FAST)
    session.start_drag([[20, 20]], [[20, 40]])
    session.step()
    good = session.latent
    monkeypatch.setattr(session_module, "motion_loss", lambda *args: torch.tensor(float("nan")))
    results = list(session.run(max_steps=10))
    assert len(results) == 1 and results[0].reason == "nan" and "loss" in session.last_summary.message
    assert torch.equal(session.latent, good)


def test_nan_in_the_latent_is_a_clean_stop(G64, ws64):
    session = DragSession(G64, ws64, DragConfig(lr=3e37, r1=8, r2=16))  # the second Adam step overflows w
    session.start_drag([[20, 20]], [[20, 40]])
    results = list(session.run(max_steps=10))
    assert results[-1].reason == "nan" and "latent" in session.last_summary.message
    assert torch.isfinite(session.latent).all()


@pytest.mark.parametrize(
    "handles,targets,mask,message",
    [
        ([[70, 10]], [[10, 10]], None, r"handles\[0\] = \(70, 10\) is outside the 64x64 image"),
        ([[10, 10]], [[10, -1]], None, r"targets\[0\] = \(10, -1\) is outside"),
        ([[10, 10]], [[10, 10]], None, "target 0 equals its handle"),
        ([], [], None, "no handle points"),
        ([[10, 10], [20, 20]], [[15, 15]], None, "2 handles but 1 targets"),
        ([[10, float("nan")]], [[15, 15]], None, "NaN"),
        ([[10, 10]], [[15, 15]], np.ones((32, 64)), "mask is 32x64, the image is 64x64"),
        ([[10, 10]], [[15, 15]], np.full((64, 64), 0.5), "mask must be binary"),
        ([[10, 10]], [[15, 15]], np.zeros((64, 64)), "no pixel as movable"),
    ],
)
def test_bad_input_is_a_clear_error(G64, ws64, handles, targets, mask, message):
    session = DragSession(G64, ws64, FAST)
    with pytest.raises(DragInputError, match=message):
        session.start_drag(handles, targets, mask=mask)
    assert not session.dragging


def test_bad_latent_config_and_call_order(G64, ws64):
    with pytest.raises(DragInputError, match="NaN"):
        DragSession(G64, torch.full_like(ws64, float("nan")))
    with pytest.raises(DragInputError, match="shape"):
        DragSession(G64, ws64[:3])
    with pytest.raises(DragInputError, match="w_plus_rows"):
        DragSession(G64, ws64, DragConfig(w_plus_rows=99))
    with pytest.raises(DragInputError, match="tracking"):
        DragConfig(tracking="cosine")
    session = DragSession(G64, ws64, FAST)
    with pytest.raises(DragStateError, match="start_drag"):
        session.step()
    session.start_drag([[20, 20]], [[20, 30]])
    with pytest.raises(DragStateError):
        session.undo()
    with pytest.raises(DragStateError):
        session.start_drag([[20, 20]], [[20, 30]])


def _features_before_after(G, ws, config: DragConfig, steps: int, **drag_options):
    """Drag (30, 24) -> (30, 34) for `steps` steps; the session and its drag features before and after."""
    session = DragSession(G, ws, config)
    with torch.no_grad():
        f0 = session._features(session.latent)
    session.start_drag([[30, 24]], [[30, 34]], **drag_options)
    list(session.run(max_steps=steps))
    with torch.no_grad():
        return session, f0, session._features(session.latent)


def test_mask_keeps_the_fixed_region(G64, ws64):
    """With most of the image fixed, the fixed region's features change less than without a mask."""
    movable = _movable_centre()
    changes = []
    for mask in (None, movable):
        _, f0, f = _features_before_after(
            G64, ws64, DragConfig(r1=16, r2=24, lr=1e-2, mask_weight=200), 6, mask=mask
        )
        changes.append((f - f0).abs()[..., :12, :].mean().item())  # top rows: fixed under the mask
    assert changes[1] < 0.7 * changes[0], changes


def test_scaled_parameters():
    scales = DragConfig().scaled(512, 5)
    assert (scales.r1, scales.r2, scales.mask_weight, scales.stop_distance) == (3, 12, 20, 1)
    scales = DragConfig().scaled(1024, 6)
    assert (scales.r1, scales.r2, scales.mask_weight, scales.stop_distance) == (6, 24, 40, 4)
    scales = DragConfig().scaled(64, 1)
    assert scales.r2 == 2 and scales.stop_distance == 0.5  # 1.5 rounds to 2; the floor of sub-pixel tracking
    assert DragConfig(subpixel=False, min_stop_distance=0.75).scaled(64, 1).stop_distance == 0.75
    assert DragConfig().scaled(16, 1).r2 == 1  # never less than a 1-pixel search


def test_the_motion_disc_keeps_its_size_in_drag_map_pixels(G64, ws64, G3, ws3):
    config = DragConfig()
    assert config.scaled(128, 1).r1 == 0.75  # a single point on the 128 px map of a 128 px model ...
    assert config.scaled(128, 1, coarsening=4.0).r1 == 3.0  # ... 0.75 map pixels on its 32 px map
    assert config.scaled(128, 1, coarsening=4.0).r2 == config.scaled(128, 1).r2  # the search square does not
    for draggans, expected in ((False, 2.0), (True, 1.0)):  # 64 px model: the automatic 32 px map, DragGAN's
        session = DragSession(G64, ws64, replace(FAST, draggan_map=draggans))
        session.start_drag([[20, 20]], [[20, 30]])
        assert session._drag.scales.r1 == expected  # FAST's r1 8 at 512 px: 1 px on DragGAN's map
    session = DragSession(G3, ws3, config)  # StyleGAN3 keeps DragGAN's layer, so its disc too
    session.start_drag([[20, 20]], [[20, 30]])
    assert session._drag.scales == config.scaled(64, 1)


def test_the_automatic_drag_map_is_draggans_unless_that_is_the_full_resolution_block():
    def synthesis(resolution: int) -> SimpleNamespace:
        blocks = [2**k for k in range(2, resolution.bit_length())]
        return SimpleNamespace(
            block_resolutions=blocks, img_resolution=resolution, drag_feature_index=min(5, len(blocks) - 1)
        )

    picked = {
        r: synthesis(r).block_resolutions[automatic_feature_index(synthesis(r))]
        for r in (64, 128, 256, 512, 1024)
    }
    assert picked == {64: 32, 128: 32, 256: 128, 512: 128, 1024: 128}  # from 256 px up: DragGAN's block 6
    layers = SimpleNamespace(img_resolution=256, drag_feature_index=5)  # StyleGAN3: layers, DragGAN's index
    assert automatic_feature_index(layers) == 5


def test_a_session_drags_the_automatic_map_unless_told_draggans(G64, ws64):
    assert DragSession(G64, ws64).window.extent == 32  # 64 px model: the 32 px block
    assert DragSession(G64, ws64, DragConfig(draggan_map=True)).window.extent == 64  # DragGAN's: the last one
    assert DragSession(G64, ws64, DragConfig(feature_index=2, draggan_map=True)).window.extent == 16


def test_an_image_tracker_replaces_feature_tracking(G64, ws64):
    """With `tracker`, the handles are whatever it finds on the rendered image, every step and at the end."""
    seen = []

    def tracker(image: torch.Tensor) -> np.ndarray:
        seen.append(tuple(image.shape))
        return np.array([[20.0, 25.0 + len(seen)]], dtype=np.float32)

    session = DragSession(G64, ws64, DragConfig(max_steps=3, lr=5e-3))
    session.start_drag([[20, 20]], [[20, 40]], tracker=tracker)
    results = list(session.run())
    assert [r.points[0, 1] for r in results] == [26.0, 27.0, 28.0]
    assert seen[0] == (1, 3, 64, 64)
    assert session.last_summary.points[0, 1] == 29.0  # re-tracked on the final latent


def test_patience_stops_a_stalled_drag_and_keeps_the_best_latent(G64, ws64):
    """A tracker that reports progress only at step 2: the drag stops `patience` steps later, on step 2's latent."""
    distances = iter([8.0, 3.0] + [6.0] * 20)
    session = DragSession(G64, ws64, DragConfig(max_steps=50, lr=5e-3, patience=4))
    latents = []

    def tracker(image: torch.Tensor) -> np.ndarray:
        latents.append(session._current_ws().detach().clone())
        return np.array([[20.0, 40.0 - next(distances)]], dtype=np.float32)

    session.start_drag([[20, 20]], [[20, 40]], tracker=tracker)
    results = list(session.run())
    assert results[-1].reason == "stalled" and len(results) == 6  # best at step 2, 4 steps without gain
    assert torch.equal(session.latent, latents[1])  # the latent the best distance was measured on
    assert session.last_summary.reason == "stalled"


def test_patience_must_not_be_negative():
    with pytest.raises(DragInputError, match="patience"):
        DragConfig(patience=-1)


def test_an_image_tracker_sees_the_same_image_render_makes(G64, ws64):
    """The tracker gets the image of the latent being tracked (reused from the step's forward pass)."""
    session = DragSession(G64, ws64, DragConfig(max_steps=2, lr=5e-2))
    images = []
    session.start_drag(
        [[20, 20]], [[20, 40]], tracker=lambda image: images.append(image) or np.array([[20.0, 21.0]])
    )
    session.step()
    expected = session.render()  # the latent after step 1's update, which step 2 tracks on
    session.step()
    torch.testing.assert_close(images[-1], expected)
    assert not torch.equal(images[0], images[-1])


def test_image_mask_term_holds_the_fixed_pixels(G64, ws64):
    """The RGB fixed-region term keeps pixels outside the mask closer to the start than the feature term alone."""
    movable = _movable_centre()
    changes = []
    for image_weight in (0.0, 50.0):
        session = DragSession(
            G64, ws64, DragConfig(r1=16, r2=24, lr=1e-2, mask_weight=20, image_mask_weight=image_weight)
        )
        before = session.render()
        session.start_drag([[30, 24]], [[30, 34]], mask=movable)
        list(session.run(max_steps=8))
        changes.append((session.render() - before).abs()[0][:, ~torch.from_numpy(movable)].mean().item())
    assert changes[1] < 0.7 * changes[0], changes


def test_an_anchor_holds_its_content_while_a_handle_moves(G64, ws64):
    """Features on an anchor's disc stay closer to F0 with the anchor than without it."""
    anchor = torch.tensor([[30.0, 18.0]])
    changes = []
    for anchors in (None, anchor):
        session, f0, f = _features_before_after(
            G64, ws64, DragConfig(r1=16, r2=24, lr=1e-2, anchor_weight=5), 8, anchors=anchors
        )
        changes.append(
            (sample_features(f, anchor, session.window) - sample_features(f0, anchor, session.window))
            .abs()
            .mean()
            .item()
        )
    assert changes[1] < 0.7 * changes[0], changes


def test_bad_anchors_and_weights_are_clear_errors(G64, ws64):
    session = DragSession(G64, ws64, FAST)
    with pytest.raises(DragInputError, match=r"anchors\[0\] = \(70, 5\) is outside"):
        session.start_drag([[20, 20]], [[20, 30]], anchors=[[70, 5]])
    for field in ("image_mask_weight", "anchor_weight"):
        with pytest.raises(DragInputError, match=f"{field} must be >= 0"):
            DragConfig(**{field: -1.0})


def test_an_image_guide_adds_its_loss_on_the_step_image(G64, ws64):
    """`guide` gets the step's image with gradient, and the latent moves to lower it."""
    calls = []

    def brighter(image: torch.Tensor) -> torch.Tensor:
        calls.append(image.requires_grad)
        return -image.mean() * 50

    brightness = []
    for guide in (None, brighter):
        session = DragSession(G64, ws64, DragConfig(lr=1e-2))
        session.start_drag([[30, 24]], [[30, 34]], guide=guide)
        list(session.run(max_steps=6))
        brightness.append(session.render().mean().item())
    assert calls and all(calls)
    assert brightness[1] > brightness[0] + 0.01, brightness


def test_default_patience_depends_on_the_handle_count():
    assert DragConfig().scaled(128, 5).patience == 30 and DragConfig().scaled(128, 6).patience == 90
    assert DragConfig(patience=0).scaled(128, 68).patience == 0  # off: the paper runs to arrival


def test_default_step_size_and_patch_depend_on_the_handle_count(G64, ws64):
    """lr None: 4e-3 for up to 5 handles, 2e-3 above; track_patch None: 1 and 0. Set values are kept, and
    the drag's Adam and tracking patch use them."""
    few, many = DragConfig().scaled(128, 5), DragConfig().scaled(128, 6)
    assert (few.lr, few.track_patch, many.lr, many.track_patch) == (4e-3, 1, 2e-3, 0)
    fixed = DragConfig(lr=1e-3, track_patch=2).scaled(128, 1)
    assert (fixed.lr, fixed.track_patch) == (1e-3, 2)
    with pytest.raises(DragInputError, match="lr"):
        DragConfig(lr=0.0)
    session = DragSession(G64, ws64, DragConfig())
    session.start_drag([[30, 24]], [[30, 34]])
    assert session._drag.optimizer.param_groups[0]["lr"] == 4e-3
    assert session._drag.patch.shape == (9, 2)  # a 3 x 3 patch of feature pixels


@pytest.mark.parametrize(
    "model, relocate",
    [("64", True), ("64", False), ("3", True), ("128", True)],
    ids=["stylegan2-64", "off", "stylegan3", "stylegan2-128"],
)
def test_finish_relocates_handles_the_tracking_let_drift(request, model, relocate):
    """Handles tracked 1.4-1.8 px off content that has not moved (lr 1e-9) are put back on it when the
    drag ends (`relocate`; StyleGAN3's lower layer has another size and margin); without it the drag
    keeps what its last tracking said."""
    G, ws = request.getfixturevalue(f"G{model}"), request.getfixturevalue(f"ws{model}")
    session = DragSession(G, ws, DragConfig(max_steps=5, lr=1e-9, relocate=relocate))
    start = torch.tensor([[30.0, 26.0], [20.0, 40.0], [44.0, 30.0]])
    session.start_drag(start, start + torch.tensor([0.0, 8.0]))
    session.step()
    drift = torch.tensor([[1.5, -1.0], [-1.0, -1.5], [1.0, 1.0]])
    session._drag.handles, session._drag.tracked_after_update = start + drift, True  # a drifted last tracking
    error = (torch.from_numpy(session.finish().points) - start).norm(dim=1)
    if relocate:
        assert error.max() < 0.1
    else:
        torch.testing.assert_close(error, drift.norm(dim=1))
