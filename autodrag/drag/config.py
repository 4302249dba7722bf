"""`DragConfig`: every tunable of a drag, with the paper's defaults, and their scaling to an image size."""

from __future__ import annotations

import math
from dataclasses import dataclass

from autodrag.drag.errors import DragInputError

__all__ = ["NOISE_MODES", "PAPER_TRACKING", "TRACKING_METRICS", "DragConfig", "DragScales"]

TRACKING_METRICS = ("l1", "l2")
FEW_HANDLES = 5  # Drags of up to this many handles get the automatic settings for few handles.
NOISE_MODES = ("const", "none", "random")
# DragConfig changes that give the paper's tracking and stop rule: one feature vector, matched against the
# start feature only, on pixel centres; arrival on the tracked distance alone (floor 0.75 px).
PAPER_TRACKING = {
    "track_patch": 0,
    "recent_weight": 0.0,
    "subpixel": False,
    "reliable_stop": False,
    "min_stop_distance": 0.75,
    "relocate": False,
}


@dataclass(frozen=True)
class DragScales:
    """`DragConfig`'s values for one drag: lengths at its image resolution (image pixels), and the
    automatic (None) settings resolved for its handle count. Made by `DragConfig.scaled`."""

    r1: float  # Motion-supervision disc radius: offsets with |offset| <= r1 around each handle.
    r2: int  # Tracking search half-size: a (2 r2 + 1)^2 square of pixel centres around each handle.
    mask_weight: float  # lambda, the weight of the fixed-region term.
    stop_distance: float  # A handle within this distance of its target counts as arrived.
    patience: int  # Steps without progress before a drag ends as stalled (0 = never).
    lr: float  # Adam learning rate on the latent.
    track_patch: int  # Half-size of the tracking patch in feature pixels.


@dataclass(frozen=True)
class DragConfig:
    """How a `DragSession` drags. Lengths are image pixels at `reference_resolution` (the paper's 512).

    `scaled(resolution, num_handles)` turns them into values for an actual image size; the issue asks
    for r1, r2, lambda and the stop distance all to scale with resolution / 512.
    """

    max_steps: int = 300  # A drag ends unconverged after this many steps.
    lr: float | None = None  # Adam learning rate on the latent; None: 4e-3 for <= 5 handles, 2e-3 (the
    # paper's value for face models) for more. On the bundled model 4e-3 reached a lower MD in half the steps
    # at 1 and 5 points and raised the 68-point tracking error by 0.2 px (docs/BENCHMARKS.md).
    w_plus: bool = True  # Optimise W+ rows [0, w_plus_rows) (True) or one w shared by all rows (False).
    w_plus_rows: int = 6  # Leading W+ rows optimised; the others stay at the drag's start latent.
    r1: float = 3.0  # Motion-supervision disc radius (kept in drag-map pixels on a coarser map: `scaled`).
    r2: float = 12.0  # Tracking search square half-size (at least 1 px after scaling).
    mask_weight: float = 20.0  # lambda: weight of |(F - F0) * (1 - M)|_1 (only used with a mask).
    image_mask_weight: float = 0.0  # Weight of |(I - I0) * (1 - M)|_1 on the RGB image in [-1, 1]
    # (mean over pixels and channels, only used with a mask; 0 = off, the paper's feature term only).
    # The feature term cannot hold what lower blocks add through StyleGAN2's RGB skips; this can. It
    # needs the full image each step (free when the drag feature map is the last block).
    anchor_weight: float = 1.0  # Weight of each anchor's hold-still term (1 = one handle's motion term).
    stop_distance: float | None = None  # Arrival distance; None: 1 px for <= 5 handles, 2 px for more.
    min_stop_distance: float = 0.5  # Floor (image px, after scaling). Sub-pixel tracking can reach it;
    # without `subpixel` use 0.75: handles on pixel centres can be 0.71 px from a target between pixels.
    tracking: str = "l1"  # Feature distance for tracking: 'l1' (paper) or 'l2' (DragGAN's code).
    track_patch: int | None = None  # Tracking compares (2 n + 1)^2 patches of feature pixels; 0 = one vector
    # (the paper); None: 1 for <= 5 handles, 0 for more. On the bundled model's 32 px map 1 lowered the MD at
    # 1 / 5 points by 0.21 / 0.16 px (paired, 40 / 20 pairs) and raised it at 68 at twice the time per step.
    recent_weight: float = 0.1  # Weight of the match against the handle's feature at its last tracked
    # position (the rest: against its feature when the drag started); 0 = the start feature only (paper).
    # On the bundled model's 32 px map 0.1 gave tracking errors 0.85 / 1.07 px at 5 / 68 points against 1.15
    # / 1.27 with 0.5 (matching the last position drifts); it still feeds `reliable_stop` (docs/BENCHMARKS.md).
    subpixel: bool = True  # Refine each tracked handle to a sub-pixel position (a parabola through the
    # match costs around the winner); False = pixel centres only (paper).
    track_blocks: int = 1  # Feature maps whose features describe a handle for tracking: the drag map and
    # the `track_blocks - 1` maps below it (StyleGAN2 blocks, StyleGAN3 layers), all read at the same image
    # point; 1 = the drag map only (the paper). On the bundled model 2 changed the median tracking error by
    # -0.2 to +0.1 px (noise-sized) and kept an eyelid from closing in a photo drag: opt-in (docs/BENCHMARKS.md).
    relocate: bool = True  # Check arrival, and place the final handles, by a richer match
    # (`tracking.Relocator`: a 3 x 3 feature-pixel patch over the drag map and the map below, against the start
    # descriptor only, 3 passes); an arrival it vetoes goes on with a patience of 5. False = the step's tracking
    # decides (paper). On the bundled model: median tracking error 0.76 / 0.72 / 0.93 px at 1 / 5 / 68 points
    # against 1.03 / 0.87 / 1.07 without, 1-point MD 1.43 against 1.47 px (docs/BENCHMARKS.md).
    reliable_stop: bool = True  # Do not count a handle as arrived while its start- and recent-feature
    # matches disagree by more than a pixel (False: the paper's stop on the tracked distance alone).
    patience: int | None = None  # Stop ('stalled') when the mean handle distance has not improved for this
    # many steps, and keep the latent with the best mean distance; 0 = off (the paper runs to arrival); None =
    # 30 for <= 5 handles, 90 for more. On the bundled model 30 ended 5-point drags after ~100 steps instead of
    # 300 at the same MD; 68-point drags need 90 (30 stopped them at MD 2.5 px; docs/BENCHMARKS.md).
    latent_reg: float = 0.0  # Weight of mean((w - w_start)^2) over the optimised rows; 0 = off.
    feature_index: int | None = None  # Synthesis feature map; None = automatic (see `draggan_map`).
    draggan_map: bool = False  # With feature_index None: True = DragGAN's map (drag_feature_index) always.
    # Otherwise DragGAN's map unless that is a small model's full-resolution last block; then the block at a
    # quarter of the image (`coords.automatic_feature_index`; at 128 px the 64-channel 32 px block, not the
    # 16-channel 128 px one: MD 0.55-0.68x on the bundled model, docs/BENCHMARKS.md). Presets keep DragGAN's.
    noise_mode: str = "const"  # Synthesis noise while dragging and rendering: 'const', 'none', 'random'.
    reference_resolution: int = 512  # Resolution at which r1, r2, mask_weight, stop_distance are given.

    def __post_init__(self) -> None:
        checks = [
            (self.max_steps >= 1, f"max_steps must be >= 1, got {self.max_steps}"),
            (
                self.lr is None or (math.isfinite(self.lr) and self.lr > 0),
                f"lr must be a positive number or None, got {self.lr}",
            ),
            (self.w_plus_rows >= 1, f"w_plus_rows must be >= 1, got {self.w_plus_rows}"),
            (math.isfinite(self.r1) and self.r1 >= 0, f"r1 must be >= 0, got {self.r1}"),
            (math.isfinite(self.r2) and self.r2 > 0, f"r2 must be > 0, got {self.r2}"),
            (
                math.isfinite(self.mask_weight) and self.mask_weight >= 0,
                f"mask_weight must be >= 0, got {self.mask_weight}",
            ),
            (
                math.isfinite(self.image_mask_weight) and self.image_mask_weight >= 0,
                f"image_mask_weight must be >= 0, got {self.image_mask_weight}",
            ),
            (
                math.isfinite(self.anchor_weight) and self.anchor_weight >= 0,
                f"anchor_weight must be >= 0, got {self.anchor_weight}",
            ),
            (
                self.stop_distance is None or (math.isfinite(self.stop_distance) and self.stop_distance > 0),
                f"stop_distance must be > 0 or None, got {self.stop_distance}",
            ),
            (self.min_stop_distance >= 0, f"min_stop_distance must be >= 0, got {self.min_stop_distance}"),
            (
                self.tracking in TRACKING_METRICS,
                f"tracking must be one of {TRACKING_METRICS}, got {self.tracking!r}",
            ),
            (
                self.track_patch is None or self.track_patch >= 0,
                f"track_patch must be >= 0 or None, got {self.track_patch}",
            ),
            (self.track_blocks >= 1, f"track_blocks must be >= 1, got {self.track_blocks}"),
            (
                math.isfinite(self.recent_weight) and 0 <= self.recent_weight <= 1,
                f"recent_weight must be in [0, 1], got {self.recent_weight}",
            ),
            (
                self.patience is None or self.patience >= 0,
                f"patience must be >= 0 or None, got {self.patience}",
            ),
            (
                math.isfinite(self.latent_reg) and self.latent_reg >= 0,
                f"latent_reg must be >= 0, got {self.latent_reg}",
            ),
            (
                self.noise_mode in NOISE_MODES,
                f"noise_mode must be one of {NOISE_MODES}, got {self.noise_mode!r}",
            ),
            (
                self.reference_resolution > 0,
                f"reference_resolution must be > 0, got {self.reference_resolution}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise DragInputError(message)

    def scaled(self, resolution: int, num_handles: int, coarsening: float = 1.0) -> DragScales:
        """r1, r2, lambda, the stop distance, patience, lr and tracking patch for a `resolution`-pixel image
        and `num_handles` handles.

        Lengths scale with resolution / `reference_resolution`. `coarsening` is how many times larger a
        pixel of the drag map is than one of DragGAN's map for this generator (1 on DragGAN's map): r1
        grows with it, so the disc keeps its size in map pixels (a disc well under one map pixel would
        supervise a single point).
        """
        scale = resolution / self.reference_resolution
        few = num_handles <= FEW_HANDLES

        def automatic(value, for_few, for_more):  # None: the value for this many handles
            return value if value is not None else (for_few if few else for_more)

        return DragScales(
            r1=self.r1 * scale * coarsening,
            r2=max(1, round(self.r2 * scale)),
            mask_weight=self.mask_weight * scale,
            stop_distance=max(automatic(self.stop_distance, 1.0, 2.0) * scale, self.min_stop_distance),
            patience=automatic(self.patience, 30, 90),
            lr=automatic(self.lr, 4e-3, 2e-3),
            track_patch=automatic(self.track_patch, 1, 0),
        )
