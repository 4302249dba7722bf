"""Invert an aligned face crop into a generator: W projection, W+ refinement, pivotal tuning (PTI).

Stage 1 follows NVIDIA's projector (Adam on one w from w_avg, cosine lr ramp, decaying w noise scaled by
W's spread, noise buffers optimised with a multi-scale autocorrelation penalty). Stage 2 refines the
broadcast w per layer (W+). Stage 3 freezes that pivot and tunes a copy of the synthesis weights on
L2 + the reconstruction loss (Roich et al., PTI). The caller's generator is never modified.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from autodrag.photos.perceptual import ReconstructionLoss, make_loss, psnr, ssim

__all__ = [
    "STAGES",
    "Inversion",
    "InversionConfig",
    "InversionError",
    "TqdmProgress",
    "invert",
    "noise_regularization",
]

STAGES = ("w", "w_plus", "tune")
Progress = Callable[[str, int, int, float], None]


class InversionError(ValueError):
    """Bad input to `invert` (wrong image shape or dtype, bad configuration)."""


@dataclass
class InversionConfig:
    """Inversion settings. Defaults: ~12 s on 2 idle CPU threads for the bundled 128 px model, ~30 dB."""

    w: bool = True  # run stage 1, W projection from w_avg
    w_plus: bool = True  # run stage 2, W+ refinement from stage 1's w broadcast to num_ws rows
    tune: bool = True  # run stage 3, pivotal tuning of a copy of the synthesis weights
    w_steps: int = 20  # stage 1 maximum steps (NVIDIA: 1000 on GPU; tuning makes up for a short W stage)
    w_lr: float = 0.1  # stage 1 peak Adam learning rate (NVIDIA's initial_learning_rate)
    w_plus_steps: int = 20  # stage 2 maximum steps
    w_plus_lr: float = 0.02  # stage 2 peak learning rate (smaller: it starts near the answer)
    tune_steps: int = 200  # stage 3 maximum steps (PTI: 350 at 1024 px; 140 here: -1.1 dB median)
    tune_lr: float = (
        3e-3  # stage 3 Adam lr, constant (PTI: 3e-4 over 350 steps; 5e-3: +0.5 dB, harder to edit)
    )
    lr_rampup: float = 0.05  # fraction of a W/W+ stage's steps to ramp lr up linearly from 0
    lr_rampdown: float = 0.25  # fraction of a W/W+ stage's final steps to ramp lr down (cosine) to 0
    initial_noise_factor: float = 0.05  # stage 1 w noise std at step 0, in units of w_std
    noise_ramp: float = 0.75  # fraction of stage 1 over which that w noise decays (quadratically) to 0
    optimize_noise: bool = True  # optimise the noise_const buffers in stages 1-2 (NVIDIA's projector)
    regularize_noise_weight: float = 1e5  # weight of the noise autocorrelation penalty
    w_avg_samples: int = 2000  # mapped z samples for w_std (NVIDIA: 10000; 2000 gives it within ~1%)
    patience: int = 15  # early stopping: steps without a relative improvement of min_delta ends a stage
    min_delta: float = 2e-3  # early stopping: relative loss improvement that counts (0 disables stopping)
    min_steps_fraction: float = 0.3  # early stopping never ends a stage before this fraction of its steps
    tune_l2_weight: float = 1.0  # stage 3 weight of the pixel L2 term (PTI: 1)
    tune_loss_weight: float = 1.0  # stage 3 weight of the reconstruction loss term (PTI: LPIPS, 1)
    locality_weight: float = 0.0  # PTI's locality regularisation weight (0: off, the PTI default for speed)
    locality_alpha: float = 30.0  # distance in W from the pivot toward a random w where locality is checked
    locality_every: int = 10  # apply the locality term every this many tuning steps
    seed: int = 303  # RNG seed for noise init, w noise and w_std samples (NVIDIA's projector default)
    background_weight: float = 1.0  # loss weight outside `invert(region=...)` (inside: 1); 1 = uniform
    w_start_candidates: int = 8  # stage 1 starts from the best by loss of w_avg and this many mapped samples
    w_start_psi: float = 0.5  # truncation of those samples toward w_avg

    def __post_init__(self) -> None:
        for name in (
            "w_steps",
            "w_plus_steps",
            "tune_steps",
            "patience",
            "w_avg_samples",
            "locality_every",
            "w_start_candidates",
        ):
            if int(getattr(self, name)) < (1 if name in ("w_avg_samples", "locality_every") else 0):
                raise InversionError(
                    f"InversionConfig.{name} must be a positive integer, got {getattr(self, name)}"
                )
        if not 0.0 <= float(self.background_weight) <= 1.0:
            raise InversionError(
                f"InversionConfig.background_weight must be in [0, 1], got {self.background_weight}"
            )


@dataclass
class Inversion:
    """The result of `invert`.

    ws_w: float32 [num_ws, w_dim], stage 1's w on every row (w_avg if stage 1 did not run).
    ws_pivot: float32 [num_ws, w_dim], the best latent (W+ result, else ws_w).
    G_tuned: the generator to render ws_pivot with (a copy: tuned weights, and the optimised noise
        buffers), or None when nothing in the generator changed (use the original G).
    reconstruction: uint8 [R, R, 3], G_tuned (or G) at ws_pivot.
    metrics: psnr_<stage>, ssim_<stage>, steps_<stage>, seconds_<stage> per stage done, plus loss name; with a
        region also psnr_face_<stage> (PSNR over the pixels where the region is > 0.5).
    stages_done: the stages that ran, in order (a stopped stage is included: it keeps what it had).
    stopped: the stage `should_stop` interrupted, or None.
    """

    ws_w: np.ndarray
    ws_pivot: np.ndarray
    G_tuned: torch.nn.Module | None
    reconstruction: np.ndarray
    metrics: dict = field(default_factory=dict)
    stages_done: list[str] = field(default_factory=list)
    stopped: str | None = None


class TqdmProgress:
    """A `progress` callback drawing one tqdm bar per stage (close() at the end)."""

    def __init__(self, **tqdm_kwargs) -> None:
        self.kwargs = tqdm_kwargs
        self.bar = None
        self.stage: str | None = None

    def __call__(self, stage: str, step: int, total: int, loss: float) -> None:
        from tqdm import tqdm

        if stage != self.stage:
            self.close()
            self.stage, self.bar = (
                stage,
                tqdm(total=total, desc=f"invert {stage}", leave=False, **self.kwargs),
            )
        self.bar.n = step
        self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def noise_regularization(noise_bufs: list[torch.Tensor]) -> torch.Tensor:
    """Sum over buffers and scales (halving down to 8 px) of squared mean autocorrelation at one pixel shift
    in x and y: zero for white noise, large when the buffers carry image content."""
    total = torch.zeros([])
    for buf in noise_bufs:
        x = buf[None, None]
        while True:
            total = total + (x * torch.roll(x, 1, dims=3)).mean().square()
            total = total + (x * torch.roll(x, 1, dims=2)).mean().square()
            if x.shape[2] <= 8:
                break
            x = F.avg_pool2d(x, kernel_size=2)
    return total


def _lr_ramp(t: float, rampup: float, rampdown: float) -> float:
    ramp = min(1.0, (1.0 - t) / rampdown) if rampdown > 0 else 1.0
    ramp = 0.5 - 0.5 * np.cos(ramp * np.pi)
    return float(ramp * (min(1.0, t / rampup) if rampup > 0 else 1.0))


class _EarlyStop:
    """True once the loss has not improved by a relative `min_delta` for `patience` steps (after `min_steps`)."""

    def __init__(self, patience: int, min_delta: float, min_steps: int) -> None:
        self.patience, self.min_delta, self.min_steps = patience, min_delta, min_steps
        self.best = float("inf")
        self.since = 0

    def __call__(self, step: int, loss: float) -> bool:
        if loss < self.best * (1 - self.min_delta) or self.best == float("inf"):
            self.best, self.since = loss, 0
        else:
            self.since += 1
        return (
            self.min_delta > 0
            and self.patience > 0
            and step + 1 >= self.min_steps
            and self.since >= self.patience
        )


def _check_target(G: torch.nn.Module, target: np.ndarray) -> None:
    r = int(G.img_resolution)
    if not isinstance(target, np.ndarray) or target.dtype != np.uint8:
        raise InversionError(
            f"target must be a uint8 numpy array, got {getattr(target, 'dtype', type(target))}"
        )
    if target.shape != (r, r, 3):
        raise InversionError(
            f"target has shape {target.shape}, this generator needs an aligned crop ({r}, {r}, 3)"
        )


def _to_uint8(image: torch.Tensor) -> np.ndarray:
    return (
        (image[0].detach().float() * 127.5 + 128).clamp(0, 255).to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    )


def _w_stats(G: torch.nn.Module, samples: int, seed: int, device: torch.device) -> tuple[torch.Tensor, float]:
    """w_avg [w_dim] (the mapping's tracked average when it has one) and NVIDIA's scalar w_std."""
    z = torch.from_numpy(np.random.RandomState(seed).randn(samples, G.z_dim).astype(np.float32)).to(device)
    with torch.no_grad():
        w = G.mapping(z, torch.zeros([samples, G.c_dim], device=device))[:, 0].float()
    w_avg = getattr(G.mapping, "w_avg", None)
    w_avg = w.mean(0) if w_avg is None else w_avg.detach().float().to(device)
    w_std = float(((w - w.mean(0)).square().sum() / samples).sqrt())
    return w_avg.clone(), w_std


class _Weighted:
    """The reconstruction loss (and L2) with per-pixel weights in [0, 1]: where the weight is below 1 the
    target is blended toward the (detached) image, so those pixels pull with that much less force."""

    def __init__(
        self, loss_fn: ReconstructionLoss, target: torch.Tensor, weight: torch.Tensor | None
    ) -> None:
        self.loss_fn, self.target, self.weight = loss_fn, target, weight

    def effective_target(self, image: torch.Tensor) -> torch.Tensor:
        if self.weight is None:
            return self.target
        return self.weight * self.target + (1 - self.weight) * image.detach()

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return self.loss_fn(image, self.effective_target(image))

    def l2(self, image: torch.Tensor) -> torch.Tensor:
        if self.weight is None:
            return (image - self.target).square().mean()
        return (self.weight * (image - self.target).square()).sum() / (self.weight.sum() * image.shape[1])


def _check_region(region: np.ndarray | None, size: int) -> np.ndarray | None:
    if region is None:
        return None
    region = np.asarray(region, dtype=np.float32)
    if region.shape != (size, size) or not np.isfinite(region).all():
        raise InversionError(f"region must be a finite float array ({size}, {size}), got {region.shape}")
    return np.clip(region, 0.0, 1.0)


def _best_start(
    G: torch.nn.Module, w_avg: torch.Tensor, weighted: _Weighted, config: InversionConfig, num_ws: int
) -> torch.Tensor:
    """[1, w_dim]: w_avg or the lowest-loss of `w_start_candidates` truncated mapped samples."""
    if config.w_start_candidates <= 0:
        return w_avg[None].clone()
    device = w_avg.device
    z = torch.from_numpy(
        np.random.RandomState(config.seed + 1).randn(config.w_start_candidates, G.z_dim).astype(np.float32)
    ).to(device)
    with torch.no_grad():
        w = G.mapping(z, torch.zeros([len(z), G.c_dim], device=device))[:, 0].float()
        candidates = torch.cat([w_avg[None], w_avg[None] + config.w_start_psi * (w - w_avg[None])])
        losses = []
        for c in candidates:
            image = G.synthesis(c[None, None].repeat(1, num_ws, 1), noise_mode="const")
            losses.append(float(weighted(image)))
    return candidates[int(np.argmin(losses))][None].clone()


def invert(
    G: torch.nn.Module,
    target_uint8: np.ndarray,
    config: InversionConfig | None = None,
    loss: ReconstructionLoss | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    *,
    region: np.ndarray | None = None,
) -> Inversion:
    """Find ws (and tuned weights) reconstructing `target_uint8`, an aligned crop uint8 [R, R, 3] at G's
    resolution. `progress(stage, step, total, loss)` is called after every step; `should_stop()` before
    each: True ends the current stage (keeping its result) and skips the rest. `region` (float [R, R] in
    [0, 1], e.g. the feathered face hull): the loss weighs pixels by `background_weight + (1 -
    background_weight) * region`, and the metrics add PSNR over the region.

    Raises:
        InversionError: the target is not uint8 [R, R, 3] at the generator's resolution, or a bad region.
    """
    config = config or InversionConfig()
    _check_target(G, target_uint8)
    region = _check_region(region, int(G.img_resolution))
    device = next(G.parameters()).device
    loss_fn = loss if loss is not None else make_loss("auto", device)
    target = torch.from_numpy(target_uint8.astype(np.float32)).permute(2, 0, 1)[None].to(device) / 127.5 - 1
    weight = None
    if region is not None and config.background_weight < 1.0:
        bg = float(config.background_weight)
        weight = torch.from_numpy(bg + (1.0 - bg) * region)[None, None].to(device)
    weighted = _Weighted(loss_fn, target, weight)
    face = region > 0.5 if region is not None and (region > 0.5).any() else None
    gen = torch.Generator(device="cpu").manual_seed(config.seed)
    rng = np.random.RandomState(config.seed)
    stop = should_stop or (lambda: False)

    G_work = copy.deepcopy(G).eval().requires_grad_(False)
    noise_bufs = [b for n, b in G_work.synthesis.named_buffers() if n.endswith("noise_const")]
    w_avg, w_std = _w_stats(G, config.w_avg_samples, config.seed, device)
    num_ws = int(G.num_ws)
    w = (
        _best_start(G_work, w_avg, weighted, config, num_ws) if config.w else w_avg[None].clone()
    )  # [1, w_dim]
    ws_pivot = w.repeat(num_ws, 1)
    generator_changed = False
    result = Inversion(
        ws_w=w.repeat(num_ws, 1).cpu().numpy(),
        ws_pivot=ws_pivot.cpu().numpy(),
        G_tuned=None,
        reconstruction=np.zeros_like(target_uint8),
        metrics={"loss": loss_fn.name},
    )

    def record(stage: str, steps: int, seconds: float) -> None:
        with torch.no_grad():
            image = _to_uint8(G_work.synthesis(ws_pivot[None], noise_mode="const"))
        result.reconstruction = image
        result.metrics.update(
            {
                f"psnr_{stage}": psnr(image, target_uint8),
                f"ssim_{stage}": ssim(image, target_uint8),
                f"steps_{stage}": steps,
                f"seconds_{stage}": round(seconds, 3),
            }
        )
        if face is not None:
            result.metrics[f"psnr_face_{stage}"] = psnr(image[face], target_uint8[face])
        result.stages_done.append(stage)

    def latent_stage(stage: str, param: torch.Tensor, steps: int, lr: float) -> tuple[int, bool]:
        """Adam on `param` (and the noise buffers) with NVIDIA's lr ramp; returns (steps run, stopped)."""
        nonlocal generator_changed
        opt_noise = config.optimize_noise and noise_bufs
        if opt_noise and stage == "w":
            with torch.no_grad():
                for buf in noise_bufs:
                    buf.copy_(torch.randn(buf.shape, generator=gen).to(device))
        if opt_noise:
            generator_changed = True
            for buf in noise_bufs:
                buf.requires_grad_(True)
        opt = torch.optim.Adam([param] + (noise_bufs if opt_noise else []), betas=(0.9, 0.999), lr=lr)
        early = _EarlyStop(config.patience, config.min_delta, int(config.min_steps_fraction * steps))
        done, stopped = 0, False
        for step in range(steps):
            if stop():
                stopped = True
                break
            t = step / steps
            for group in opt.param_groups:
                group["lr"] = lr * _lr_ramp(t, config.lr_rampup, config.lr_rampdown)
            if stage == "w":
                scale = w_std * config.initial_noise_factor * max(0.0, 1.0 - t / config.noise_ramp) ** 2
                noisy = (
                    param + torch.from_numpy(rng.randn(*param.shape).astype(np.float32)).to(device) * scale
                )
                ws = noisy[:, None].repeat(1, num_ws, 1)
            else:
                ws = param[None]
            dist = weighted(G_work.synthesis(ws, noise_mode="const"))
            total = dist
            if opt_noise and config.regularize_noise_weight > 0:
                total = total + noise_regularization(noise_bufs).to(device) * config.regularize_noise_weight
            opt.zero_grad(set_to_none=True)
            total.backward()
            opt.step()
            if opt_noise:
                with torch.no_grad():
                    for buf in noise_bufs:
                        buf -= buf.mean()
                        buf *= buf.square().mean().rsqrt()
            done = step + 1
            value = float(dist.detach())
            if progress:
                progress(stage, done, steps, value)
            if early(step, value):
                break
        for buf in noise_bufs:
            buf.requires_grad_(False)
        return done, stopped

    stages = [s for s in STAGES if getattr(config, s)]
    for stage in stages:
        start = time.perf_counter()
        if stage == "w":
            param = w.clone().requires_grad_(True)
            steps, stopped = latent_stage("w", param, config.w_steps, config.w_lr)
            w = param.detach()
            ws_pivot = w.repeat(num_ws, 1)
            result.ws_w = ws_pivot.cpu().numpy()
        elif stage == "w_plus":
            param = ws_pivot.clone().requires_grad_(True)
            steps, stopped = latent_stage("w_plus", param, config.w_plus_steps, config.w_plus_lr)
            ws_pivot = param.detach()
        else:
            steps, stopped = _tune(G, G_work, ws_pivot, weighted, loss_fn, config, progress, stop, gen)
            generator_changed = generator_changed or steps > 0
        result.ws_pivot = ws_pivot.cpu().numpy().astype(np.float32)
        record(stage, steps, time.perf_counter() - start)
        if stopped:
            result.stopped = stage
            break
    if not result.stages_done:
        with torch.no_grad():
            result.reconstruction = _to_uint8(G_work.synthesis(ws_pivot[None], noise_mode="const"))
    result.G_tuned = G_work.requires_grad_(False) if generator_changed else None
    return result


def _tune(
    G: torch.nn.Module,
    G_work: torch.nn.Module,
    ws_pivot: torch.Tensor,
    weighted: _Weighted,
    loss_fn: ReconstructionLoss,
    config: InversionConfig,
    progress: Progress | None,
    stop: Callable[[], bool],
    gen: torch.Generator,
) -> tuple[int, bool]:
    """PTI: Adam on G_work's synthesis weights at the frozen pivot; returns (steps run, stopped)."""
    params = [p for p in G_work.synthesis.parameters()]
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.Adam(params, lr=config.tune_lr, betas=(0.9, 0.999))
    early = _EarlyStop(config.patience, config.min_delta, int(config.min_steps_fraction * config.tune_steps))
    ws = ws_pivot[None]
    device = ws.device
    done, stopped = 0, False
    for step in range(config.tune_steps):
        if stop():
            stopped = True
            break
        image = G_work.synthesis(ws, noise_mode="const")
        dist = config.tune_l2_weight * weighted.l2(image) + config.tune_loss_weight * weighted(image)
        total = dist
        if config.locality_weight > 0 and step % config.locality_every == 0:
            z = torch.randn([1, G.z_dim], generator=gen).to(device)
            with torch.no_grad():
                w_rand = G.mapping(z, torch.zeros([1, G.c_dim], device=device))
                direction = w_rand - ws
                w_loc = ws + config.locality_alpha * direction / direction.norm().clamp_min(1e-8)
                reference = G.synthesis(w_loc, noise_mode="const")
            local = G_work.synthesis(w_loc, noise_mode="const")
            total = total + config.locality_weight * (
                (local - reference).square().mean() + loss_fn(local, reference)
            )
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        done = step + 1
        value = float(dist.detach())
        if progress:
            progress("tune", done, config.tune_steps, value)
        if early(step, value):
            break
    for p in params:
        p.requires_grad_(False)
    return done, stopped
