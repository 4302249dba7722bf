"""Train the bundled landmark detector on rendered faces (plus optional extra labelled images).

Resumable: the run directory holds `state.pt` (model, optimiser, step, elapsed time), rewritten
atomically every `checkpoint_every` steps; re-running the same command continues from it.  Batch
sampling and augmentation are seeded by (seed, step), so a resumed run draws what an unbroken
one would.  The finished detector goes to `output` (.safetensors + .json with the script, its
arguments, the git commit and the metrics).

Seed ranges (z = z_from_seed(seed, Z_DIM)): training faces 10_000_000 + i, validation faces
20_000_000 + i; tests draw from 30_000_000 on.  None overlaps the generator's held-out seeds
(1_000_000 + i), so the detector can be scored fairly on generator outputs.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F
from tqdm import tqdm

from autodrag.atomic import torch_save_atomic, write_atomic
from autodrag.landmarks.heatmap_net import HeatmapNet, HeatmapNetConfig, save_heatmap_net, soft_argmax
from autodrag.landmarks.measures import nme
from autodrag.pixels import rescale_points, size_ratio
from autodrag.provenance import git_commit
from autodrag.toyfaces.augment import AugmentConfig, augment_batch
from autodrag.toyfaces.render import RenderConfig, mean_landmarks, render_seed

__all__ = [
    "TEST_SEED_BASE",
    "TRAIN_SEED_BASE",
    "VAL_SEED_BASE",
    "ImageSource",
    "LandmarkTrainConfig",
    "NpzImageSource",
    "evaluate",
    "landmark_loss",
    "measure_latency_ms",
    "render_dataset",
    "train_landmarks",
    "training_step",
]

TRAIN_SEED_BASE = 10_000_000
VAL_SEED_BASE = 20_000_000
TEST_SEED_BASE = 30_000_000

# (count) -> (uint8 images [count, H, W, 3], float32 landmarks [count, 68, 2] (x, y) pixels)
ImageSource = Callable[[int, np.random.Generator], tuple[np.ndarray, np.ndarray]]


@dataclass
class LandmarkTrainConfig:
    """One training run of the landmark detector."""

    run_dir: str = "runs/toyfaces_landmarks"  # resumable state, dataset cache
    output: str = "checkpoints/toyfaces_landmarks.safetensors"  # final detector (+ .json)
    steps: int = 3000  # optimiser steps
    batch_size: int = 32  # images per step
    lr: float = 2e-3  # AdamW peak learning rate (linear warm-up, cosine decay to 0)
    warmup: int = 200  # warm-up steps
    weight_decay: float = 1e-4  # AdamW weight decay
    heatmap_weight: float = 0.1  # weight of the auxiliary heatmap cross-entropy (Gaussian target)
    heatmap_sigma: float = 1.0  # target Gaussian sigma, in heatmap cells
    train_faces: int = 12000  # rendered training faces (cached in run_dir)
    val_faces: int = 500  # rendered held-out faces for the final metrics
    checkpoint_every: int = 250  # steps between resumable state writes
    eval_every: int = 500  # steps between quick validation NMEs in the progress bar
    threads: int = 1  # torch CPU threads (the machine is shared)
    seed: int = 0  # sampling/augmentation seed
    extra_npz: str | None = None  # optional .npz with `images` uint8 [N,H,W,3] and `landmarks` [N,68,2]
    extra_fraction: float = 0.0  # share of each batch drawn from the extra source
    net: HeatmapNetConfig = field(default_factory=HeatmapNetConfig)  # architecture
    augment: AugmentConfig = field(default_factory=AugmentConfig)  # augmentation strengths


def _resize_batch(images: np.ndarray, landmarks: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Resize uint8 [N, H, W, 3] to `size` (Pillow, antialiased) and rescale (x, y) accordingly."""
    _, h, w, _ = images.shape
    if (h, w) == (size, size):
        return images, landmarks.astype(np.float32)
    out = np.stack(
        [np.asarray(Image.fromarray(im).resize((size, size), Image.Resampling.BILINEAR)) for im in images]
    )
    return out, rescale_points(landmarks, size_ratio((w, h), (size, size))).astype(np.float32)


class NpzImageSource:
    """Labelled images from an .npz file (`images` uint8 [N, H, W, 3], `landmarks` [N, 68, 2])."""

    def __init__(self, path: str | os.PathLike, size: int):
        data = np.load(path)
        try:
            images, landmarks = data["images"], data["landmarks"]
        except KeyError:
            raise ValueError(
                f"{path}: needs arrays 'images' [N,H,W,3] uint8 and 'landmarks' [N,68,2]"
            ) from None
        if images.ndim != 4 or landmarks.shape != (len(images), 68, 2):
            raise ValueError(f"{path}: images {images.shape} / landmarks {landmarks.shape} do not match")
        self.images, self.landmarks = _resize_batch(images.astype(np.uint8), landmarks, size)

    def __call__(self, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        idx = rng.integers(0, len(self.images), count)
        return self.images[idx], self.landmarks[idx]


def render_dataset(
    first_seed: int,
    count: int,
    resolution: int,
    cache_dir: str | os.PathLike | None = None,
    desc: str = "render",
) -> tuple[np.ndarray, np.ndarray]:
    """Render faces for seeds first_seed .. first_seed + count - 1 (cached as .npz if cache_dir)."""
    cache = Path(cache_dir) / f"faces_{first_seed}_{count}_{resolution}.npz" if cache_dir else None
    if cache is not None and cache.is_file():
        data = np.load(cache)
        return data["images"], data["landmarks"]
    images = np.empty((count, resolution, resolution, 3), np.uint8)
    landmarks = np.empty((count, 68, 2), np.float32)
    for i in tqdm(range(count), desc=desc, leave=False, mininterval=2.0):
        r = render_seed(first_seed + i, RenderConfig(resolution))
        images[i], landmarks[i] = r.image, r.landmarks
    if cache is not None:
        write_atomic(cache, lambda tmp: _savez(tmp, images=images, landmarks=landmarks))
    return images, landmarks


def _to_input(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> float [N, 3, H, W] in [0, 1]."""
    t = torch.as_tensor(images)
    return t.permute(0, 3, 1, 2).float().div_(255.0)


def landmark_loss(
    logits: torch.Tensor, target: torch.Tensor, stride: int, heatmap_weight: float, sigma: float
) -> dict[str, torch.Tensor]:
    """Soft-argmax L1 (in heatmap cells) + cross-entropy to a Gaussian heatmap.

    Landmarks pushed outside the image by augmentation get no weight.

    Args:
        logits: [N, 68, h, w].
        target: [N, 68, 2] (x, y) input pixels.
    Returns:
        {"loss", "l1", "ce"} scalars.
    """
    n, k, h, w = logits.shape
    size = torch.tensor([w * stride, h * stride], dtype=target.dtype)
    visible = ((target >= 0) & (target <= size - 1)).all(dim=-1).float()  # [N, 68]
    pred = soft_argmax(logits, stride)
    l1 = ((pred - target).abs().sum(-1) * visible).sum() / (2 * stride * visible.sum().clamp(min=1))
    cells = rescale_points(target, 1 / stride)  # target in cell coordinates (stride 4: exact)
    gx = torch.arange(w, dtype=logits.dtype)
    gy = torch.arange(h, dtype=logits.dtype)
    tx = torch.exp(-0.5 * ((gx - cells[..., 0:1]) / sigma) ** 2)  # [N, 68, w]
    ty = torch.exp(-0.5 * ((gy - cells[..., 1:2]) / sigma) ** 2)  # [N, 68, h]
    heat = ty[..., :, None] * tx[..., None, :]
    heat = heat / heat.sum(dim=(-1, -2), keepdim=True).clamp(min=1e-8)
    logp = F.log_softmax(logits.reshape(n, k, -1), dim=-1).reshape(n, k, h, w)
    ce = (-(heat * logp).sum(dim=(-1, -2)) * visible).sum() / visible.sum().clamp(min=1)
    return {"loss": l1 + heatmap_weight * ce, "l1": l1, "ce": ce}


def training_step(
    model: HeatmapNet,
    opt: torch.optim.Optimizer,
    images: torch.Tensor,
    target: torch.Tensor,
    cfg: LandmarkTrainConfig,
) -> dict[str, float]:
    """One optimiser step on a batch (images float [N, 3, S, S] in [0, 1]); returns the losses."""
    model.train()
    logits = model(images * 2.0 - 1.0)
    losses = landmark_loss(logits, target, model.config.stride, cfg.heatmap_weight, cfg.heatmap_sigma)
    opt.zero_grad(set_to_none=True)
    losses["loss"].backward()
    opt.step()
    return {k: float(v.detach()) for k, v in losses.items()}


@torch.inference_mode()
def predict(model: HeatmapNet, images: torch.Tensor, batch: int = 64) -> np.ndarray:
    """(x, y) predictions float32 [N, 68, 2] for images float [N, 3, S, S] in [0, 1]."""
    model.eval()
    out = [
        soft_argmax(model(images[i : i + batch] * 2.0 - 1.0), model.config.stride)
        for i in range(0, len(images), batch)
    ]
    return torch.cat(out).numpy().astype(np.float32)


def evaluate(model: HeatmapNet, images: torch.Tensor, landmarks: np.ndarray) -> dict[str, float]:
    """NME statistics (by inter-ocular distance, outer corners 37/46) on a labelled set."""
    err = nme(predict(model, images), landmarks)
    return {
        "nme_mean": float(err.mean()),
        "nme_median": float(np.median(err)),
        "nme_p95": float(np.quantile(err, 0.95)),
    }


def measure_latency_ms(model: HeatmapNet, repeats: int = 50) -> float:
    """Median single-image forward + soft-argmax time on one CPU thread, in milliseconds."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = model.eval()
        x = torch.zeros(1, 3, model.config.input_size, model.config.input_size)
        times = []
        with torch.inference_mode():
            for i in range(repeats + 5):
                t = time.perf_counter()
                soft_argmax(model(x), model.config.stride)
                if i >= 5:
                    times.append(time.perf_counter() - t)
        return float(np.median(times) * 1000.0)
    finally:
        torch.set_num_threads(old)


def _lr_at(step: int, cfg: LandmarkTrainConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    t = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * 0.5 * (1.0 + math.cos(math.pi * min(1.0, t)))


def _savez(path: Path, **arrays: np.ndarray) -> None:
    with open(path, "wb") as f:  # a file object: np.savez would append ".npz" to a temp name
        np.savez(f, **arrays)


def _save_state(path: Path, state: dict) -> None:
    torch_save_atomic(state, path)


def train_landmarks(
    cfg: LandmarkTrainConfig, extra_source: ImageSource | None = None, record_args: dict | None = None
) -> dict:
    """Train (or resume) and export the detector.

    Args:
        cfg: the run.
        extra_source: labelled images mixed into every batch (share `cfg.extra_fraction`), e.g.
            generator outputs with their renderer landmarks; `cfg.extra_npz` builds one from a file.
        record_args: the command-line arguments to store in the checkpoint JSON (default: cfg).
    Returns:
        The metrics written to the checkpoint JSON.
    """
    torch.set_num_threads(cfg.threads)
    run_dir = Path(cfg.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    size = cfg.net.input_size
    if extra_source is None and cfg.extra_npz:
        extra_source = NpzImageSource(cfg.extra_npz, size)
    n_extra = round(cfg.batch_size * cfg.extra_fraction) if extra_source is not None else 0

    train_images, train_marks = render_dataset(
        TRAIN_SEED_BASE, cfg.train_faces, size, run_dir, "render train"
    )
    val_images, val_marks = render_dataset(VAL_SEED_BASE, cfg.val_faces, size, run_dir, "render val")
    val_input = _to_input(val_images)

    model = HeatmapNet(cfg.net)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    state_path = run_dir / "state.pt"
    step, elapsed, history = 0, 0.0, []
    if state_path.is_file():
        state = torch.load(state_path, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, elapsed, history = state["step"], state["elapsed"], state["history"]

    bar = tqdm(total=cfg.steps, initial=step, desc="train landmarks", mininterval=5.0)
    t_start = time.perf_counter() - elapsed
    running: dict[str, float] = {}
    while step < cfg.steps:
        rng = np.random.default_rng([cfg.seed, step])
        g = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
        idx = rng.integers(0, len(train_images), cfg.batch_size - n_extra)
        images, marks = train_images[idx], train_marks[idx]
        if n_extra:
            ex_images, ex_marks = _resize_batch(*extra_source(n_extra, rng), size)
            images, marks = np.concatenate([images, ex_images]), np.concatenate([marks, ex_marks])
        x, y = augment_batch(
            _to_input(images), torch.from_numpy(np.asarray(marks, np.float32)), cfg.augment, g
        )
        for group in opt.param_groups:
            group["lr"] = _lr_at(step, cfg)
        losses = training_step(model, opt, x, y, cfg)
        running = {k: 0.98 * running.get(k, v) + 0.02 * v for k, v in losses.items()}
        step += 1
        bar.update(1)
        if step % cfg.eval_every == 0 or step == cfg.steps:
            quick = evaluate(model, val_input[:200], val_marks[:200])
            history.append({"step": step, **running, **quick})
            bar.set_postfix(l1=f"{running['l1']:.3f}", nme=f"{quick['nme_mean']:.4f}")
        elif step % 50 == 0:
            bar.set_postfix(l1=f"{running['l1']:.3f}")
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            _save_state(
                state_path,
                {
                    "model": model.state_dict(),
                    "opt": opt.state_dict(),
                    "step": step,
                    "elapsed": time.perf_counter() - t_start,
                    "history": history,
                },
            )
    bar.close()
    elapsed = time.perf_counter() - t_start

    metrics = {"val_renders": evaluate(model, val_input, val_marks)}
    g = torch.Generator().manual_seed(12345)
    aug_x, aug_y = augment_batch(val_input.clone(), torch.from_numpy(val_marks), cfg.augment, g)
    metrics["val_renders_augmented"] = evaluate(model, aug_x, aug_y.numpy())
    metrics["ms_per_image_1_thread"] = measure_latency_ms(model)
    record = {
        "script": "scripts/train_toyfaces_landmarks.py",
        "args": record_args if record_args is not None else asdict(cfg),
        "git_commit": git_commit(),
        "metrics": metrics,
        "framing": {"size": size, "mean_landmarks": mean_landmarks(size).tolist()},
        "training": {
            "steps": step,
            "wall_seconds": round(elapsed, 1),
            "threads": cfg.threads,
            "train_faces": cfg.train_faces,
            "seed_ranges": {"train": TRAIN_SEED_BASE, "val": VAL_SEED_BASE},
            "history": history,
        },
    }
    save_heatmap_net(model, cfg.output, record)
    metrics["size_bytes"] = Path(cfg.output).stat().st_size
    return metrics
