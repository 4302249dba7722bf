"""A straightforward full-resolution DragGAN step, written independently of `autodrag.drag`.

It does what the reference formulation does: run the whole generator every step, crop the feature
map to the image window and upsample it bilinearly to image size, then index pixels (motion
supervision, tracking) and average over the whole image (mask term). The fast path must agree
with it; `scripts/bench_drag.py` times both.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def upsample_to_image(features: torch.Tensor, offset: float, extent: float, resolution: int) -> torch.Tensor:
    """Upsample a feature map bilinearly to image scale and crop the image window: [1, C, R, R].

    The whole map is upsampled (margins included, so edge pixels see the margin, not a clamp), then
    the R x R image region is cut out; needs R / extent and offset * R / extent to be whole numbers.
    """
    scale = resolution / extent
    size = [round(s * scale) for s in features.shape[-2:]]
    start = round(offset * scale)
    assert abs(offset * scale - start) < 1e-9
    assert all(abs(s * scale - n) < 1e-9 for s, n in zip(features.shape[-2:], size))
    up = F.interpolate(features, size=size, mode="bilinear", align_corners=False)
    return up[:, :, start : start + resolution, start : start + resolution]


def bilinear_at(image: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """Manual bilinear lookup with edge clamping. image [1, C, H, W]; rows, cols [M] -> [M, C]."""
    h, w = image.shape[-2:]
    rows, cols = rows.clamp(0, h - 1), cols.clamp(0, w - 1)
    r0, c0 = rows.floor().long(), cols.floor().long()
    r1, c1 = (r0 + 1).clamp(max=h - 1), (c0 + 1).clamp(max=w - 1)
    fr, fc = (rows - r0)[:, None], (cols - c0)[:, None]
    img = image[0]
    top = img[:, r0, c0].t() * (1 - fc) + img[:, r0, c1].t() * fc
    bottom = img[:, r1, c0].t() * (1 - fc) + img[:, r1, c1].t() * fc
    return top * (1 - fr) + bottom * fr


def disc(radius: float) -> list[tuple[int, int]]:
    r = math.floor(radius)
    span = range(-r, r + 1)
    return [(dr, dc) for dr in span for dc in span if dr * dr + dc * dc <= radius * radius]


def motion_loss_full(
    feat_up: torch.Tensor, handles: torch.Tensor, targets: torch.Tensor, r1: float
) -> torch.Tensor:
    """Sum over handles of mean |F(q + d) - sg(F(q))| over the disc, on the upsampled map."""
    loss = feat_up.new_zeros(())
    offsets = torch.tensor(disc(r1), dtype=torch.float32)
    for p, t in zip(handles, targets):
        direction = t - p
        length = direction.norm()
        d = direction / length if length >= 1 else direction
        q = p[None] + offsets  # [K, 2]
        here = bilinear_at(feat_up, q[:, 0], q[:, 1]).detach()
        shifted = bilinear_at(feat_up, q[:, 0] + d[0], q[:, 1] + d[1])
        loss = loss + (shifted - here).abs().mean()
    return loss


def mask_loss_full(feat_up: torch.Tensor, ref_up: torch.Tensor, movable: torch.Tensor) -> torch.Tensor:
    """mean over channels and image pixels of |F - F0| * (1 - M) (DragGAN's l1_loss on masked maps)."""
    fixed = 1 - movable.to(feat_up.dtype)
    return F.l1_loss(feat_up * fixed, ref_up * fixed)


def track_full(feat_up: torch.Tensor, points: torch.Tensor, refs: torch.Tensor, r2: int, metric: str = "l1"):
    """Search the (2 r2 + 1)^2 window of upsampled pixels around each rounded point, clipped to the image."""
    h, w = feat_up.shape[-2:]
    out = []
    for p, f in zip(points, refs):
        r, c = int(torch.round(p[0])), int(torch.round(p[1]))
        top, left = max(r - r2, 0), max(c - r2, 0)
        patch = feat_up[0, :, top : min(r + r2 + 1, h), left : min(c + r2 + 1, w)]
        diff = patch - f[:, None, None]
        dist = diff.abs().sum(0) if metric == "l1" else diff.square().sum(0).sqrt()
        idx = int(dist.argmin())
        out.append([top + idx // dist.shape[1], left + idx % dist.shape[1]])
    return torch.tensor(out, dtype=torch.float32)


class FullResolutionDrag:
    """The reference loop: full synthesis + upsampling every step; same update rule as `DragSession`."""

    def __init__(
        self,
        G,
        ws,
        handles,
        targets,
        movable=None,
        *,
        r1: float,
        r2: int,
        mask_weight: float,
        lr: float = 2e-3,
        rows: int = 6,
        metric: str = "l1",
        feature_index: int | None = None,
    ):
        self.G = G.requires_grad_(False)
        self.index = G.synthesis.drag_feature_index if feature_index is None else feature_index
        self.offset, self.extent = G.synthesis.feature_window(self.index)
        self.R = G.img_resolution
        self.base = ws.detach().clone()
        self.delta = torch.zeros([rows, ws.shape[1]], requires_grad=True)
        self.optimizer = torch.optim.Adam([self.delta], lr=lr)
        self.handles = torch.as_tensor(handles, dtype=torch.float32).clone()
        self.targets = torch.as_tensor(targets, dtype=torch.float32)
        self.movable = movable
        self.r1, self.r2, self.mask_weight, self.metric = r1, r2, mask_weight, metric
        with torch.no_grad():
            ref_up = self.features_up(self.base)
        r, c = self.handles.round().long().unbind(1)
        self.refs = ref_up[0, :, r, c].t().clone()  # f_i at (integer) handles
        self.ref_up = ref_up if movable is not None else None

    def ws(self) -> torch.Tensor:
        rows = self.delta.shape[0]
        return torch.cat([self.base[:rows] + self.delta, self.base[rows:]], dim=0)

    def features_up(self, ws: torch.Tensor) -> torch.Tensor:
        # The whole generator, as DragGAN's renderer runs it: NVIDIA's eval-mode rule, fused modulation
        # (AutoDrag's own default switches to the scale-conv-scale form when the latent needs gradients).
        kwargs = {"fused_modconv": True} if getattr(self.G, "family", "") == "stylegan2" else {}
        out = self.G.synthesis.forward_features(ws[None], noise_mode="const", **kwargs)
        self.image = out.image
        return upsample_to_image(out.features[self.index], self.offset, self.extent, self.R)

    def loss(self, feat_up: torch.Tensor) -> torch.Tensor:
        loss = motion_loss_full(feat_up, self.handles, self.targets, self.r1)
        if self.ref_up is not None:
            loss = loss + self.mask_weight * mask_loss_full(feat_up, self.ref_up, self.movable)
        return loss

    def step(self) -> float:
        """Track on the current latent, then one Adam step; returns the loss."""
        feat_up = self.features_up(self.ws())
        self.handles = track_full(feat_up.detach(), self.handles, self.refs, self.r2, self.metric)
        loss = self.loss(feat_up)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())
