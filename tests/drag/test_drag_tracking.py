"""Point tracking as a pure function: nearest feature within the square, inside the image, L1 or L2."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from autodrag.drag import FeatureWindow, sample_features, square_offsets, track_points
from autodrag.drag.tracking import (
    Relocator,
    Tracked,
    patch_descriptors,
    patch_offsets,
    subpixel_offsets,
    track_handles,
)
from tests.drag.drag_reference import track_full, upsample_to_image


def _bump_map(row: int, col: int, size: int = 32) -> torch.Tensor:
    """Features that are zero except for one distinctive vector at (row, col)."""
    features = torch.zeros(1, 4, size, size)
    features[0, :, row, col] = torch.tensor([1.0, -2.0, 3.0, 0.5])
    return features


def test_square_offsets():
    offsets = square_offsets(1)
    assert offsets.shape == (9, 2) and offsets[0].tolist() == [-1, -1] and offsets[4].tolist() == [0, 0]


def test_finds_the_feature_within_the_radius_only():
    window = FeatureWindow(32, 0.0, 32.0)
    ref = torch.tensor([[1.0, -2.0, 3.0, 0.5]])
    points, dist = track_points(_bump_map(14, 19), torch.tensor([[10.0, 15.0]]), ref, window, radius=4)
    assert points.tolist() == [[14.0, 19.0]] and dist.item() == 0
    points, _ = track_points(_bump_map(14, 19), torch.tensor([[10.0, 15.0]]), ref, window, radius=3)
    assert points.tolist() != [[14.0, 19.0]]  # out of reach
    points, _ = track_points(_bump_map(14, 19), torch.tensor([[10.4, 15.6]]), ref, window, 4, metric="l2")
    assert points.tolist() == [[14.0, 19.0]]  # the search is centred on the rounded point


def test_never_leaves_the_image():
    window = FeatureWindow(32, 0.0, 32.0)
    rows, cols = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    features = (cols + 0.01 * rows)[None, None]  # grows to the right and (a little) downward
    points = torch.tensor([[0.0, 1.0], [31.0, 30.0]])
    points, _ = track_points(features, points, torch.tensor([[-5.0], [99.0]]), window, radius=3)
    assert points.tolist() == [[0.0, 0.0], [31.0, 31.0]]  # the best candidates are at the image edge


def test_metric_is_validated():
    with pytest.raises(ValueError, match="metric"):
        track_points(
            _bump_map(1, 1), torch.zeros(1, 2), torch.zeros(1, 4), FeatureWindow(32, 0.0, 32.0), 2, "cos"
        )


@pytest.mark.parametrize("metric", ["l1", "l2"])
def test_matches_full_resolution_search(metric):
    """Same candidates, same values (pixel centres of the upsampled map), same winners."""
    torch.manual_seed(4)
    R = 64
    features = torch.randn(1, 6, 40, 40)
    window = FeatureWindow(R, 4.0, 32.0)
    up = upsample_to_image(features, 4, 32, R)
    points = torch.tensor([[10.0, 10.0], [0.0, 63.0], [32.0, 40.0], [60.0, 2.0]])
    refs = torch.randn(4, 6)
    fast, _ = track_points(features, points, refs, window, radius=5, metric=metric)
    torch.testing.assert_close(fast, track_full(up, points, refs, 5, metric))


def test_subpixel_refinement_finds_the_minimum_of_a_parabola():
    radius = 3
    offsets = square_offsets(radius)
    true = torch.tensor([[0.3, -0.2], [-0.45, 0.1]])
    cost = ((offsets[None] - true[:, None]) ** 2).sum(-1)  # [2, K] an exact paraboloid per axis
    best = cost.argmin(dim=1)
    found = offsets[best] + subpixel_offsets(cost, best, radius)
    torch.testing.assert_close(found, true)
    # at the edge of the grid, or next to an inf (outside the image), no refinement on that axis
    edge = ((offsets - torch.tensor([3.0, 0.2])) ** 2).sum(-1)[None]
    assert subpixel_offsets(edge, edge.argmin(dim=1), radius)[0, 0] == 0


def _smooth_map(size: int = 48, shift: tuple[float, float] = (0.0, 0.0)) -> torch.Tensor:
    """Smooth, distinctive features; with `shift` (rows, cols) the same content moved by it."""
    rows, cols = torch.meshgrid(
        torch.arange(size, dtype=torch.float32), torch.arange(size, dtype=torch.float32), indexing="ij"
    )
    rows, cols = rows - shift[0], cols - shift[1]
    return torch.stack(
        [
            torch.sin(rows / 5),
            torch.cos(rows / 6),
            torch.sin(cols / 5),
            torch.cos(cols / 7),
            torch.sin((rows + cols) / 9),
        ]
    )[None]


@pytest.mark.parametrize("metric", ["l1", "l2"])
def test_subpixel_tracking_is_closer_than_pixel_centres(metric):
    """A feature read between pixels is found there, far closer than the nearest pixel centre."""
    features, window = _smooth_map(), FeatureWindow(48, 0.0, 48.0)
    truth = torch.tensor([[20.3, 20.6], [25.7, 18.2], [15.5, 30.4], [22.2, 22.8]])
    refs = sample_features(features, truth, window)
    start = truth.round() + torch.tensor([2.0, -1.0])
    patch = patch_offsets(0, window)
    coarse = track_handles(features, start, refs, None, window, 4, patch, metric, subpixel=False).points
    fine = track_handles(features, start, refs, None, window, 4, patch, metric, subpixel=True).points
    coarse_error, fine_error = (coarse - truth).norm(dim=1), (fine - truth).norm(dim=1)
    assert fine_error.mean() < 0.5 * coarse_error.mean() and fine_error.max() < 0.3
    # with one vector and no sub-pixel step it is DragGAN's rule
    torch.testing.assert_close(coarse, track_points(features, start, refs, window, 4, metric)[0])


def test_disagreeing_initial_and_recent_matches_are_unreliable():
    features, window = _smooth_map(), FeatureWindow(48, 0.0, 48.0)
    patch = patch_offsets(0, window)
    here, there = torch.tensor([[20.0, 20.0]]), torch.tensor([[23.0, 20.0]])
    initial, recent = sample_features(features, here, window), sample_features(features, there, window)
    split = track_handles(features, here, initial, recent, window, 4, patch)
    agree = track_handles(features, here, initial, initial, window, 4, patch)
    assert not bool(split.reliable[0]) and bool(agree.reliable[0])
    assert (agree.points - here).abs().max() < 0.1  # the parabola on a cone-shaped cost: a small bias


def test_a_drag_does_not_stop_on_unreliable_tracking(G64, ws64, monkeypatch):
    """A handle within the stop distance whose two matches disagree has not arrived."""
    from autodrag.drag import DragConfig, DragSession
    from autodrag.drag import session as session_module
    from autodrag.drag.tracking import Tracked

    def unreliable(features, points, *args, **kwargs):
        n = points.shape[0]
        return Tracked(
            torch.tensor([[30.0, 30.2]]),
            torch.zeros(n),
            torch.zeros(n, dtype=torch.bool),
            torch.zeros(n, features.shape[1]),
        )

    monkeypatch.setattr(session_module, "track_handles", unreliable)
    session = DragSession(G64, ws64, DragConfig(max_steps=3, relocate=False))
    session.start_drag([[30.0, 26.0]], [[30.0, 30.0]])
    assert not session.step().done  # 0.2 px away, but unreliable: keeps going
    session.config = DragConfig(max_steps=3, reliable_stop=False, relocate=False)
    session.stop(), list(session.run())
    session.start_drag([[30.0, 26.0]], [[30.0, 30.0]])
    assert session.step().reason == "converged"


def test_a_lower_map_in_the_descriptor_resolves_what_the_drag_map_cannot():
    """A drag map that is flat around the handle cannot place it; a half-resolution map below it
    with structure there can, when its features are part of the descriptor (`track_blocks=2`)."""
    flat = torch.zeros(1, 4, 48, 48)
    lower, lower_window = _smooth_map()[:, :, ::2, ::2].contiguous(), FeatureWindow(48, 0.0, 24.0)
    window = FeatureWindow(48, 0.0, 48.0)
    patch = patch_offsets(0, window)
    truth = torch.tensor([[20.0, 21.0], [26.0, 17.0]])
    extra = [(lower, lower_window)]
    refs = patch_descriptors(flat, truth, window, patch, extra)
    assert refs.shape == (2, 4 + lower.shape[1])
    start = truth + torch.tensor([2.0, -2.0])
    alone = track_handles(flat, start, refs[:, :4], None, window, 4, patch, subpixel=False).points
    both = track_handles(flat, start, refs, None, window, 4, patch, subpixel=False, extra=extra).points
    assert (alone - truth).norm(dim=1).min() > 1  # ties on the flat map: the first candidate wins
    torch.testing.assert_close(both, truth)


def test_the_end_of_drag_relocation_finds_moved_content_from_drifted_handles():
    """Content moved by (3.4, -2.6) px; the tracked handles drifted 3-4 px off it. Matching the start
    descriptor (patch over this map and the map below) from there puts them back on the content, farther
    than one search square reaches."""
    window, lower_window = FeatureWindow(48, 0.0, 48.0), FeatureWindow(48, 0.0, 24.0)
    start_map, start_lower = _smooth_map(), _smooth_map()[:, :, ::2, ::2].contiguous()
    shift = (3.4, -2.6)
    end_map = _smooth_map(shift=shift)
    end_lower = _smooth_map(48, shift)[:, :, ::2, ::2].contiguous()
    handles = torch.tensor([[20.0, 21.0], [26.0, 17.0], [15.0, 28.0]])
    truth = handles + torch.tensor(shift)
    drifted = truth + torch.tensor([[3.0, 2.0], [-2.5, 3.0], [3.5, -1.0]])
    maps = ((0, lower_window),)
    patch = patch_offsets(1, window)
    relocator = Relocator.at_start(start_map, [start_lower], handles, window, patch, maps, radius=2)
    assert relocator.references.shape == (3, 9 * (5 + 5))
    found = relocator.relocate(end_map, [end_lower], drifted)
    assert (found - truth).norm(dim=1).max() < 0.3
    once = replace(relocator, passes=1)
    assert (once.relocate(end_map, [end_lower], drifted) - truth).norm(dim=1).max() > 1


def test_an_arrival_the_relocator_does_not_confirm_goes_on_and_stalls_sooner(G64, ws64, monkeypatch):
    """The step's tracking says 'arrived'; the relocator puts the handle 2.8 px short. The drag steps on
    (no convergence) and, making no progress, stalls after PATIENCE_AFTER_VETO steps, not `patience`."""
    from autodrag.drag import DragConfig, DragSession
    from autodrag.drag import session as session_module
    from autodrag.drag.state import PATIENCE_AFTER_VETO

    def at_target(features, points, *args, **kwargs):
        n = points.shape[0]
        return Tracked(
            torch.tensor([[30.0, 30.2]]), torch.zeros(n), torch.ones(n, dtype=torch.bool), torch.zeros(n, 1)
        )

    def short_of_it(self, features, maps, points, *args):
        return points + torch.tensor([0.0, -3.0])

    monkeypatch.setattr(session_module, "track_handles", at_target)
    monkeypatch.setattr(Relocator, "relocate", short_of_it)
    session = DragSession(G64, ws64, DragConfig(max_steps=100, patience=30))
    session.start_drag([[30.0, 26.0]], [[30.0, 30.0]])
    results = list(session.run())
    assert results[0].reason is None and results[0].loss is not None  # vetoed: it took a step
    assert session.last_summary.reason == "stalled" and session.last_summary.steps == 1 + PATIENCE_AFTER_VETO
    session.config = DragConfig(max_steps=100, patience=30, relocate=False)
    session.start_drag([[30.0, 26.0]], [[30.0, 30.0]])
    assert session.step().reason == "converged"
