"""Train the bundled toy-faces StyleGAN2 by regression onto the renderer (z -> params(z) -> image).

The latent-to-face map is fixed (`toyfaces.params`): for each z the target is the rendering of
params(normalize(z)), so the generator learns a deterministic function and the exact landmarks of
every output are known. Loss: multi-scale L1 plus an image-gradient L1, weighted toward the eyes
and mouth (the renderer emits their masks), because expressions live in few pixels. Training is
resumable (atomic state file), shows a progress bar, writes sample grids, and decays the learning
rate along a cosine at the end.
"""

from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from autodrag.atomic import torch_save_atomic
from autodrag.images import save_png
from autodrag.latents import z_from_seed
from autodrag.networks import build_generator, save_generator
from autodrag.provenance import git_commit
from autodrag.toyfaces.params import Z_DIM
from autodrag.toyfaces.render import RenderConfig, render_z

__all__ = [
    "HELD_OUT_SEED_BASE",
    "GeneratorTrainConfig",
    "evaluate_psnr",
    "export_generator",
    "export_with_metrics",
    "generator_kwargs",
    "reconstruction_loss",
    "train_generator",
]

HELD_OUT_SEED_BASE = 1_000_000  # seeds >= this are never trained on (training z come from a separate RNG)


@dataclass
class GeneratorTrainConfig:
    """Everything that defines a training run (saved in the state file and the checkpoint JSON)."""

    resolution: int = 128  # image size; the renderer draws targets at this size
    w_dim: int = 128  # W dimensionality
    mapping_layers: int = 4  # mapping MLP depth
    channel_base: int = 2048  # channels per block = min(channel_base / res, channel_max): 128..16 for 4..128
    channel_max: int = 128
    batch: int = 16  # faces per step
    lr: float = 2e-3  # Adam learning rate (mapping lr_multiplier is 1: see generator_kwargs)
    total_steps: int = 30000  # schedule length; the run can stop earlier and resume later
    decay_fraction: float = 0.25  # cosine decay of the lr over this final fraction of total_steps
    eye_weight: float = 6.0  # extra L1 weight inside the eye masks
    mouth_weight: float = 4.0  # extra L1 weight inside the mouth mask
    grad_weight: float = 1.0  # weight of the image-gradient L1 term
    scales: int = 3  # multi-scale L1 levels (full, 1/2, 1/4)
    ema_beta: float = 0.995  # per-step decay of the exported EMA weights
    seed: int = 0  # training RNG (faces, init)
    sample_every: int = 500  # steps between sample grids
    checkpoint_every_s: float = 300.0  # seconds between state saves


def generator_kwargs(cfg: GeneratorTrainConfig) -> dict:
    """NVIDIA-compatible constructor kwargs of the toy generator."""
    return dict(
        z_dim=Z_DIM,
        c_dim=0,
        w_dim=cfg.w_dim,
        img_resolution=cfg.resolution,
        img_channels=3,
        mapping_kwargs=dict(num_layers=cfg.mapping_layers, lr_multiplier=1.0),
        synthesis_kwargs=dict(
            channel_base=cfg.channel_base, channel_max=cfg.channel_max, num_fp16_res=0, conv_clamp=None
        ),
    )


def _image_gradients(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x[..., :, 1:] - x[..., :, :-1], x[..., 1:, :] - x[..., :-1, :]


def reconstruction_loss(
    pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, scales: int = 3, grad_weight: float = 1.0
) -> torch.Tensor:
    """Weighted multi-scale L1 + gradient L1.

    Shape:
        pred, target: [N, 3, H, W] in [-1, 1]; weight: [N, 1, H, W] (>= 1, larger on eyes and mouth).
    """
    loss = pred.new_zeros(())
    p, t, w = pred, target, weight
    for level in range(scales):
        if level:
            p, t, w = (F.avg_pool2d(v, 2) for v in (p, t, w))
        loss = loss + (w * (p - t).abs()).mean() / w.mean()
    if grad_weight:
        for gp, gt in zip(_image_gradients(pred), _image_gradients(target)):
            wg = weight[..., : gp.shape[-2], : gp.shape[-1]]
            loss = loss + grad_weight * (wg * (gp - gt).abs()).mean() / wg.mean()
    return loss


def _batch(z: np.ndarray, cfg: GeneratorTrainConfig) -> dict[str, torch.Tensor]:
    """Render the targets of z: images in [-1, 1] and loss weights."""
    renders = render_z(z, RenderConfig(resolution=cfg.resolution))
    images = np.stack([r.image for r in renders]).astype(np.float32) / 127.5 - 1
    weight = 1 + np.stack([cfg.eye_weight * r.eye_mask + cfg.mouth_weight * r.mouth_mask for r in renders])
    return {
        "z": torch.from_numpy(z),
        "image": torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(),
        "weight": torch.from_numpy(weight.astype(np.float32))[:, None],
    }


class _RenderedFaces(torch.utils.data.IterableDataset):
    """Endless batches of (z, target image, weight); batch k of a run is the same whatever the resumes."""

    def __init__(self, cfg: GeneratorTrainConfig, start_step: int) -> None:
        self.cfg, self.start_step = cfg, start_step

    def __iter__(self):
        step = self.start_step
        while True:
            rng = np.random.default_rng([self.cfg.seed, step])
            yield _batch(rng.standard_normal([self.cfg.batch, Z_DIM]).astype(np.float32), self.cfg)
            step += 1


def _lr_at(step: int, cfg: GeneratorTrainConfig) -> float:
    decay_start = cfg.total_steps * (1 - cfg.decay_fraction)
    if step < decay_start:
        return cfg.lr
    progress = min(1.0, (step - decay_start) / max(1.0, cfg.total_steps - decay_start))
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * progress))


@dataclass
class _TrainState:
    G: torch.nn.Module
    G_ema: torch.nn.Module
    opt: torch.optim.Optimizer
    step: int = 0
    seconds: float = 0.0  # training time summed over all pieces
    losses: list = field(default_factory=list)  # (step, loss) every 50 steps


def _new_state(cfg: GeneratorTrainConfig) -> _TrainState:
    torch.manual_seed(cfg.seed)
    G = build_generator("stylegan2", generator_kwargs(cfg)).train()
    G_ema = copy.deepcopy(G).eval().requires_grad_(False)
    opt = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=(0.9, 0.99), eps=1e-8)
    return _TrainState(G, G_ema, opt)


def _save_state(path: Path, state: _TrainState, cfg: GeneratorTrainConfig) -> None:
    torch_save_atomic(
        {
            "config": asdict(cfg),
            "G": state.G.state_dict(),
            "G_ema": state.G_ema.state_dict(),
            "opt": state.opt.state_dict(),
            "step": state.step,
            "seconds": state.seconds,
            "losses": state.losses,
        },
        path,
    )


def _load_state(path: Path) -> tuple[_TrainState, GeneratorTrainConfig]:
    data = torch.load(path, map_location="cpu", weights_only=True)
    cfg = GeneratorTrainConfig(**data["config"])
    state = _new_state(cfg)
    state.G.load_state_dict(data["G"])
    state.G_ema.load_state_dict(data["G_ema"])
    state.opt.load_state_dict(data["opt"])
    state.step, state.seconds, state.losses = data["step"], data["seconds"], list(data["losses"])
    return state, cfg


def _sample_grid(G_ema: torch.nn.Module, cfg: GeneratorTrainConfig, count: int = 8) -> np.ndarray:
    """Top row: renderer; bottom row: generator; same held-out z."""
    z = np.concatenate([z_from_seed(HELD_OUT_SEED_BASE + i, Z_DIM) for i in range(count)])
    target = _batch(z, cfg)["image"]
    with torch.no_grad():
        pred = G_ema(torch.from_numpy(z), None, noise_mode="const")
    rows = [torch.cat(list(x.clamp(-1, 1)), dim=2) for x in (target, pred)]
    grid = torch.cat(rows, dim=1)
    return ((grid.permute(1, 2, 0) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()


def evaluate_psnr(
    G: torch.nn.Module, count: int = 256, resolution: int | None = None, batch: int = 32
) -> float:
    """Mean PSNR (dB, images in [0, 1]) of G(z) against the rendering of params(z) on held-out seeds."""
    res = resolution or G.img_resolution
    scores = []
    for start in range(0, count, batch):
        z = np.concatenate(
            [z_from_seed(HELD_OUT_SEED_BASE + i, Z_DIM) for i in range(start, min(count, start + batch))]
        )
        target = (
            np.stack([r.image for r in render_z(z, RenderConfig(resolution=res))]).astype(np.float32) / 255
        )
        with torch.no_grad():
            pred = G(torch.from_numpy(z), None, noise_mode="const")
        pred = ((pred.clamp(-1, 1) + 1) / 2).permute(0, 2, 3, 1).numpy()
        mse = np.mean((pred - target) ** 2, axis=(1, 2, 3))
        scores.extend(10 * np.log10(1 / np.maximum(mse, 1e-10)))
    return float(np.mean(scores))


def export_generator(
    state_path: Path, out: Path, metrics: dict | None = None, argv: list[str] | None = None
) -> Path:
    """Write the EMA generator of a run as `out` (.safetensors + .json with provenance and metrics)."""
    state, cfg = _load_state(state_path)
    extra = {
        "produced_by": {
            "script": "scripts/train_toyfaces_generator.py",
            "argv": argv or [],
            "git_commit": git_commit(),
            "config": asdict(cfg),
            "steps": state.step,
            "train_seconds": round(state.seconds),
        },
        "metrics": metrics or {},
    }
    return save_generator(state.G_ema, out, extra=extra)


def train_generator(
    run_dir: Path,
    cfg: GeneratorTrainConfig | None = None,
    minutes: float | None = None,
    threads: int = 2,
    steps: int | None = None,
    total_steps: int | None = None,
) -> Path:
    """Train (or resume) in `run_dir` until `cfg.total_steps`, `minutes` of wall time or `steps` more steps.

    `total_steps` lengthens (or shortens) the schedule of a resumed run; before its cosine decay has
    begun this only moves where the decay starts. Ctrl-C saves the state before stopping.
    Returns the state file.

    A state file already in `run_dir` is resumed and its config wins over `cfg`.
    """
    torch.set_num_threads(threads)
    run_dir.mkdir(parents=True, exist_ok=True)
    state_path = run_dir / "state.pt"
    if state_path.exists():
        state, cfg = _load_state(state_path)
    else:
        cfg = cfg or GeneratorTrainConfig()
        state = _new_state(cfg)
    if total_steps is not None:
        cfg = replace(cfg, total_steps=total_steps)
    (run_dir / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
    loader = torch.utils.data.DataLoader(
        _RenderedFaces(cfg, state.step),
        batch_size=None,
        num_workers=1,
        prefetch_factor=4,
        persistent_workers=False,
    )
    deadline = time.monotonic() + 60 * minutes if minutes else math.inf
    stop_step = cfg.total_steps if steps is None else min(cfg.total_steps, state.step + steps)
    bar = tqdm(total=cfg.total_steps, initial=state.step, desc="toyfaces G", unit="step")
    try:
        _train_loop(state, cfg, loader, stop_step, deadline, bar, run_dir, state_path)
    except KeyboardInterrupt:
        bar.write("interrupted: saving the state")
    bar.close()
    _save_state(state_path, state, cfg)
    save_png(run_dir / "samples_latest.png", _sample_grid(state.G_ema, cfg))
    return state_path


def _train_loop(
    state: _TrainState,
    cfg: GeneratorTrainConfig,
    loader,
    stop_step: int,
    deadline: float,
    bar,
    run_dir: Path,
    state_path: Path,
) -> None:
    last_save = time.monotonic()
    ema_params = dict(state.G_ema.named_parameters())
    ema_buffers = dict(state.G_ema.named_buffers())
    running = None
    for batch in loader:
        if state.step >= stop_step or time.monotonic() > deadline:
            break
        started = time.monotonic()
        for group in state.opt.param_groups:
            group["lr"] = _lr_at(state.step, cfg)
        ws = state.G.mapping(batch["z"], None, update_emas=True)
        pred = state.G.synthesis(ws, noise_mode="const")
        loss = reconstruction_loss(pred, batch["image"], batch["weight"], cfg.scales, cfg.grad_weight)
        state.opt.zero_grad(set_to_none=True)
        loss.backward()
        state.opt.step()
        with torch.no_grad():
            for name, p in state.G.named_parameters():
                ema_params[name].lerp_(p, 1 - cfg.ema_beta)
            for name, b in state.G.named_buffers():
                ema_buffers[name].copy_(b)
        state.step += 1
        state.seconds += time.monotonic() - started
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if state.step % 50 == 0:
            state.losses.append((state.step, running))
        bar.update(1)
        bar.set_postfix(loss=f"{running:.4f}", lr=f"{_lr_at(state.step, cfg):.1e}")
        if state.step % cfg.sample_every == 0:
            save_png(run_dir / f"samples_{state.step:06d}.png", _sample_grid(state.G_ema, cfg))
        if time.monotonic() - last_save > cfg.checkpoint_every_s:
            _save_state(state_path, state, cfg)
            last_save = time.monotonic()


def export_with_metrics(state_path: Path, out: Path, argv: list[str] | None = None) -> float:
    """Export the EMA generator with its held-out PSNR recorded in the JSON; returns the PSNR (dB)."""
    state, _ = _load_state(state_path)
    psnr = evaluate_psnr(state.G_ema.eval())
    export_generator(state_path, out, metrics={"psnr_db_256_heldout": round(psnr, 2)}, argv=argv)
    return psnr
