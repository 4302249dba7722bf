"""Side-by-side pix2pix benchmark against junyanz/pytorch-CycleGAN-and-pix2pix (issue #19).

Run through ``scripts/bench_pix2pix.py --junyanz-root DIR``; see that script's docstring.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
import time
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autodrag.atomic import write_json_atomic
from autodrag.pix2pix.config import TrainConfig
from autodrag.pix2pix.fastconv import FastConv2d, FastConvTranspose2d
from autodrag.pix2pix.images import to_pil
from autodrag.pix2pix.metrics import image_metrics
from autodrag.pix2pix.networks import GeneratorConfig
from autodrag.pix2pix.trainer import Pix2PixTrainer

__all__ = [
    "Theirs",
    "build_pair",
    "copy_weights",
    "evaluate",
    "inference_ms",
    "load_junyanz_networks",
    "make_scenes",
    "run_ablation",
    "run_inference_study",
    "run_side_by_side",
]

SIDE = 128
# label colours of the input maps (Cityscapes-like) and base colours of the rendered classes
LABELS = {"sky": (70, 130, 180), "ground": (107, 142, 35), "ball": (220, 20, 60), "block": (250, 170, 30)}
BASES = {
    "sky": (0.55, 0.70, 0.95),
    "ground": (0.45, 0.36, 0.22),
    "ball": (0.85, 0.25, 0.20),
    "block": (0.30, 0.45, 0.80),
}


def make_scenes(count: int, seed: int, side: int = SIDE) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` procedural pairs: A = label map with black edges, B = the shaded scene, [-1, 1].

    Each scene has a horizon, a striped ground, and 2-5 balls (Lambert-shaded spheres with a
    highlight) and blocks (lit top, shaded side). Everything in B follows from A's shapes.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) / side
    out_a = np.zeros((count, side, side, 3), np.float32)
    out_b = np.zeros((count, side, side, 3), np.float32)
    for i in range(count):
        horizon = rng.uniform(0.3, 0.6)
        label = np.where(yy < horizon, 0, 1)  # 0 sky, 1 ground, 2 ball, 3 block
        shade = np.where(yy < horizon, 1.0 - 0.4 * yy / horizon, 0.6 + 0.4 * (yy - horizon) / (1 - horizon))
        stripes = 0.08 * np.sin(40.0 * np.sqrt(np.clip(yy - horizon, 0.0, None)) + 6.0 * xx)
        shade = shade + np.where(yy >= horizon, stripes, 0.0)
        for _ in range(int(rng.integers(2, 6))):
            cx, cy = rng.uniform(0.15, 0.85), rng.uniform(horizon, 0.9)
            size = rng.uniform(0.06, 0.16) * (0.5 + cy)
            if rng.random() < 0.5:
                d2 = ((xx - cx) ** 2 + (yy - cy) ** 2) / size**2
                inside = d2 < 1.0
                nz = np.sqrt(np.clip(1.0 - d2, 0.0, 1.0))
                nx, ny = (xx - cx) / size, (yy - cy) / size
                lambert = np.clip(-0.5 * nx - 0.6 * ny + 0.62 * nz, 0.0, 1.0)
                spec = np.clip(lambert, 0, 1) ** 20
                label = np.where(inside, 2, label)
                shade = np.where(inside, 0.25 + 0.75 * lambert + 0.5 * spec, shade)
            else:
                w, h = size * 1.2, size
                inside = (np.abs(xx - cx) < w) & (np.abs(yy - cy) < h)
                top = inside & (yy < cy - 0.5 * h)
                left = xx < cx
                label = np.where(inside, 3, label)
                shade = np.where(inside, np.where(top, 1.0, np.where(left, 0.75, 0.5)), shade)
        names = list(LABELS)
        a = np.zeros((side, side, 3), np.float32)
        b = np.zeros((side, side, 3), np.float32)
        for k, name in enumerate(names):
            mask = (label == k)[..., None]
            a = np.where(mask, np.array(LABELS[name], np.float32) / 255.0, a)
            b = np.where(mask, np.array(BASES[name], np.float32) * shade[..., None], b)
        edges = (
            np.abs(np.diff(label, axis=0, prepend=label[:1]))
            + np.abs(np.diff(label, axis=1, prepend=label[:, :1]))
        ) > 0
        a[edges] = 0.0
        out_a[i], out_b[i] = a, np.clip(b, 0.0, 1.0)
    to_t = lambda arr: torch.from_numpy(arr).permute(0, 3, 1, 2).contiguous() * 2.0 - 1.0
    return to_t(out_a), to_t(out_b)


def load_junyanz_networks(root: str | Path) -> ModuleType:
    """Import ``ROOT/models/networks.py`` by file path (not its package, whose __init__ imports more)."""
    path = Path(root) / "models" / "networks.py"
    if not path.is_file():
        raise SystemExit(f"--junyanz-root {root}: no models/networks.py there (expected a junyanz checkout)")
    spec = importlib.util.spec_from_file_location("junyanz_networks", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def _weighted(net: nn.Module) -> list[nn.Module]:
    kinds = (nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm2d)
    return [m for m in net.modules() if isinstance(m, kinds)]


def copy_weights(ours: nn.Module, theirs: nn.Module) -> int:
    """Copy every conv / batch-norm tensor of ``ours`` into ``theirs`` (same module order).

    Where ours has a bias theirs lacks (our un-normalised outer/inner U-Net convs), ours is zeroed
    so both compute the same function at step 0. Their U-Net concatenates [skip, decoded], ours
    [decoded, skip]: the input-channel halves of every decoder conv but the innermost are swapped.
    Returns the number of modules copied.
    """
    a, b = _weighted(ours), _weighted(theirs)
    if len(a) != len(b):
        raise ValueError(f"architectures differ: {len(a)} vs {len(b)} conv/norm layers")
    first_up = True
    with torch.no_grad():
        for mine, other in zip(a, b):
            if mine.weight.shape != other.weight.shape:
                raise ValueError(f"layer mismatch: {mine} vs {other}")
            weight = mine.weight
            if isinstance(mine, nn.ConvTranspose2d):
                if not first_up:
                    half = weight.shape[0] // 2
                    weight = torch.cat([weight[half:], weight[:half]], 0)
                first_up = False
            other.weight.copy_(weight)
            if other.bias is not None:
                other.bias.copy_(mine.bias)
            elif mine.bias is not None:
                mine.bias.zero_()
            if isinstance(mine, nn.BatchNorm2d):
                other.running_mean.copy_(mine.running_mean)
                other.running_var.copy_(mine.running_var)
    return len(a)


class Theirs:
    """junyanz's pix2pix step (models/pix2pix_model.py's optimize_parameters) on their networks."""

    def __init__(self, jnet: ModuleType, netG: nn.Module, netD: nn.Module, lr: float = 2e-4) -> None:
        self.netG, self.netD = netG, netD
        self.optG = torch.optim.Adam(netG.parameters(), lr=lr, betas=(0.5, 0.999))
        self.optD = torch.optim.Adam(netD.parameters(), lr=lr, betas=(0.5, 0.999))

    @staticmethod
    def _gan(pred: torch.Tensor, real: bool) -> torch.Tensor:  # their GANLoss('vanilla'): BCEWithLogits
        return F.binary_cross_entropy_with_logits(pred, torch.full_like(pred, 1.0 if real else 0.0))

    def step(self, a: torch.Tensor, b: torch.Tensor) -> None:
        fake = self.netG(a)
        for p in self.netD.parameters():
            p.requires_grad_(True)
        self.optD.zero_grad()
        pred_fake = self.netD(torch.cat((a, fake), 1).detach())
        pred_real = self.netD(torch.cat((a, b), 1))
        ((self._gan(pred_fake, False) + self._gan(pred_real, True)) * 0.5).backward()
        self.optD.step()
        for p in self.netD.parameters():
            p.requires_grad_(False)
        self.optG.zero_grad()
        pred = self.netD(torch.cat((a, fake), 1))
        (self._gan(pred, True) + F.l1_loss(fake, b) * 100.0).backward()
        self.optG.step()


def build_pair(root: str, seed: int, d_precision: str = "auto") -> tuple[Pix2PixTrainer, Theirs]:
    """Our trainer (default options but ``d_precision``) and junyanz's networks + step, from identical weights."""
    jnet = load_junyanz_networks(root)
    cfg = TrainConfig(
        generator=GeneratorConfig(unet_depth=7), seed=seed, progress=False, d_precision=d_precision
    )
    ours = Pix2PixTrainer(cfg, torch.device("cpu"))
    norm = jnet.get_norm_layer("batch")
    their_g = jnet.UnetGenerator(3, 3, 7, 64, norm_layer=norm, use_dropout=True)
    their_d = jnet.NLayerDiscriminator(6, 64, n_layers=3, norm_layer=norm)
    copy_weights(ours.netG, their_g)
    copy_weights(ours.netD, their_d)
    return ours, Theirs(jnet, their_g, their_d)


def _frozen_bn(nets: list[nn.Module]):
    """Context: batch-norm momentum 0 (train-mode forwards leave running statistics alone)."""

    class _Ctx:
        def __enter__(self):
            self.saved = [(m, m.momentum) for n in nets for m in n.modules() if isinstance(m, nn.BatchNorm2d)]
            for m, _ in self.saved:
                m.momentum = 0.0

        def __exit__(self, *exc):
            for m, mom in self.saved:
                m.momentum = mom

    return _Ctx()


@torch.no_grad()
def evaluate(
    net: nn.Module, a: torch.Tensor, b: torch.Tensor, eval_mode: bool, seed: int = 123
) -> dict[str, float]:
    """Mean L1 / PSNR / SSIM over the test pairs, one image per forward (batch 1, as trained).

    ``eval_mode`` False is the paper's test-time mode: dropout on, batch statistics of the image.
    """
    was_training = net.training
    net.train(not eval_mode)
    sums = {"L1": 0.0, "PSNR": 0.0, "SSIM": 0.0}
    with torch.random.fork_rng(devices=[]), _frozen_bn([net]):
        torch.manual_seed(seed)
        for i in range(a.shape[0]):
            out = net(a[i : i + 1]).clamp(-1, 1)
            for key, value in image_metrics(to_pil(out[0]), to_pil(b[i])).items():
                sums[key] += value
    net.train(was_training)
    return {key: value / a.shape[0] for key, value in sums.items()}


@torch.no_grad()
def inference_ms(net: nn.Module, a: torch.Tensor, repeats: int = 5) -> float:
    """Milliseconds per 128 px image, paper test mode, batch 1."""
    with _frozen_bn([net]):
        net.train()
        net(a[:1])
        start = time.perf_counter()
        for i in range(repeats):
            net(a[i % a.shape[0] : i % a.shape[0] + 1])
        return (time.perf_counter() - start) / repeats * 1000


def _both_evals(ours: nn.Module, theirs: nn.Module, a: torch.Tensor, b: torch.Tensor) -> dict[str, Any]:
    return {
        side: {"train_mode": evaluate(net, a, b, False), "eval_mode": evaluate(net, a, b, True)}
        for side, net in (("ours", ours), ("junyanz", theirs))
    }


def run_side_by_side(args: Namespace) -> dict[str, Any]:
    """Train both alternately for ``args.iters`` steps; print the markdown table; return the figures."""
    torch.manual_seed(args.seed)
    train_a, train_b = make_scenes(args.train_pairs, args.seed)
    test_a, test_b = make_scenes(args.test_pairs, 10_000 + args.seed)
    ours, theirs = build_pair(args.junyanz_root, args.seed, args.d_precision)
    order = np.random.default_rng(args.seed).permutation(args.iters) % args.train_pairs
    times = {"ours": 0.0, "junyanz": 0.0}
    for it in tqdm(range(args.iters), desc="side by side", unit="step"):
        a, b = train_a[order[it] : order[it] + 1], train_b[order[it] : order[it] + 1]
        for side in ("ours", "junyanz") if it % 2 == 0 else ("junyanz", "ours"):
            start = time.perf_counter()
            if side == "ours":
                ours.training_step({"A": a, "B": b})
            else:
                theirs.step(a, b)
            times[side] += time.perf_counter() - start
    ours_time_at_iters = times["ours"]
    equal_iters = _both_evals(ours.netG, theirs.netG, test_a, test_b)
    # equal wall-clock time: ours continues alone until its summed step time reaches junyanz's
    extra, rng = 0, np.random.default_rng(args.seed + 1)
    budget = times["junyanz"]
    with tqdm(desc="ours, equal time", unit="step") as bar:
        while times["ours"] < budget:
            k = int(rng.integers(args.train_pairs))
            start = time.perf_counter()
            ours.training_step({"A": train_a[k : k + 1], "B": train_b[k : k + 1]})
            times["ours"] += time.perf_counter() - start
            extra += 1
            bar.update()
    equal_time = {
        "ours": evaluate(ours.netG, test_a, test_b, False),
        "ours_eval": evaluate(ours.netG, test_a, test_b, True),
    }
    figures = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}",
        "threads": torch.get_num_threads(),
        "d_precision": f"{args.d_precision} ({'bfloat16' if ours.d_bf16 else 'float32'})",
        "iters": args.iters,
        "seed": args.seed,
        "it_per_s": {"ours": args.iters / ours_time_at_iters, "junyanz": args.iters / budget},
        "equal_iters": equal_iters,
        "equal_time": {"ours_iters": args.iters + extra, **equal_time},
        "inference_ms": {
            "ours": inference_ms(ours.netG, test_a),
            "junyanz": inference_ms(theirs.netG, test_a),
        },
    }
    _print_table(figures)
    if args.json:
        write_json_atomic(args.json, figures)
    return figures


def _print_table(f: dict[str, Any]) -> None:
    ours_ips, their_ips = f["it_per_s"]["ours"], f["it_per_s"]["junyanz"]
    print(
        f"# {f['machine']}, {f['threads']} threads, seed {f['seed']}, {f['iters']} steps each, U-Net-128 + PatchGAN-70, batch 1, our D: {f['d_precision']}"
    )
    print(
        f"training: ours {ours_ips:.2f} it/s, junyanz {their_ips:.2f} it/s, ratio {ours_ips / their_ips:.2f}x"
    )
    print(
        f"inference (paper mode, 128 px): ours {f['inference_ms']['ours']:.0f} ms, junyanz {f['inference_ms']['junyanz']:.0f} ms"
    )
    print("| test set (40 pairs) | steps | L1 | PSNR (dB) | SSIM | L1 with --eval |")
    print("|---|---|---|---|---|---|")
    for side in ("junyanz", "ours"):
        tm, em = f["equal_iters"][side]["train_mode"], f["equal_iters"][side]["eval_mode"]
        print(
            f"| {side}, equal steps | {f['iters']} | {tm['L1']:.4f} | {tm['PSNR']:.2f} | {tm['SSIM']:.3f} | {em['L1']:.4f} |"
        )
    et = f["equal_time"]
    print(
        f"| ours, equal time | {et['ours_iters']} | {et['ours']['L1']:.4f} | {et['ours']['PSNR']:.2f} | {et['ours']['SSIM']:.3f} | {et['ours_eval']['L1']:.4f} |"
    )


def _timed_variants(root: str, seed: int) -> dict[str, Callable[[torch.Tensor, torch.Tensor], None]]:
    """Our step with each speed-up switched off in turn, plus junyanz's, from identical weights."""
    variants: dict[str, Callable[[torch.Tensor, torch.Tensor], None]] = {}
    ours, theirs = build_pair(root, seed)
    variants["junyanz"] = theirs.step
    variants["ours (default: fused Adam + matmul convs + paired D pass + bfloat16 D on AMX)"] = (
        lambda a, b, t=ours: t.training_step({"A": a, "B": b})
    )
    fp32_d, _ = build_pair(root, seed, "float32")
    variants["ours with a float32 D"] = lambda a, b, t=fp32_d: t.training_step({"A": a, "B": b})
    two_calls, _ = build_pair(root, seed)
    two_calls.D = lambda src, tgt, net=two_calls.netD: net(src, tgt)  # not netD itself: one call per batch
    variants["ours without the paired D pass"] = lambda a, b, t=two_calls: t.training_step({"A": a, "B": b})
    no_fuse, _ = build_pair(root, seed)
    for opt in (no_fuse.optG, no_fuse.optD):
        for group in opt.param_groups:
            group["fused"] = None
    variants["ours without fused Adam"] = lambda a, b, t=no_fuse: t.training_step({"A": a, "B": b})
    no_mm, _ = build_pair(root, seed)
    for m in [*no_mm.netG.modules(), *no_mm.netD.modules()]:
        if isinstance(m, (FastConv2d, FastConvTranspose2d)):
            m.small_positions, m.thin = 0, False
    variants["ours without matmul convs"] = lambda a, b, t=no_mm: t.training_step({"A": a, "B": b})
    cl, _ = build_pair(root, seed)
    cl.netG.to(memory_format=torch.channels_last)
    cl.netD.to(memory_format=torch.channels_last)
    cl.memory_format = torch.channels_last
    variants["ours + channels_last"] = lambda a, b, t=cl: t.training_step({"A": a, "B": b})
    if torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        bf, _ = build_pair(root, seed)
        bf.g_bf16 = True  # G under bfloat16 autocast as well as D
        variants["ours + bf16 autocast of G too (CPU)"] = lambda a, b, t=bf: t.training_step({"A": a, "B": b})
    return variants


def run_ablation(root: str, iters: int, seed: int) -> dict[str, float]:
    """Time every variant of :func:`_timed_variants` interleaved, step by step; print it/s."""
    variants = _timed_variants(root, seed)
    a, b = make_scenes(8, seed)
    for fn in variants.values():  # warm-up
        fn(a[:1], b[:1])
    times = dict.fromkeys(variants, 0.0)
    steps = max(iters // 5, 4)
    for it in tqdm(range(steps), desc="ablation", unit="round"):
        for name, fn in variants.items():
            start = time.perf_counter()
            fn(a[it % 8 : it % 8 + 1], b[it % 8 : it % 8 + 1])
            times[name] += time.perf_counter() - start
    rates = {name: steps / t for name, t in times.items()}
    print(
        f"# {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, {steps} interleaved steps each"
    )
    print("| variant | it/s | vs junyanz |")
    print("|---|---|---|")
    for name, rate in rates.items():
        print(f"| {name} | {rate:.2f} | {rate / rates['junyanz']:.2f}x |")
    return rates


def run_inference_study(args: Namespace) -> list[dict[str, Any]]:
    """Train ours alone for ``args.iters`` steps; at doubling step counts, test L1 in both modes.

    The evidence for the default test-time mode: train mode (dropout on, the test image's batch
    statistics, as in the paper) against ``--eval`` (dropout off, running statistics).
    """
    train_a, train_b = make_scenes(args.train_pairs, args.seed)
    test_a, test_b = make_scenes(args.test_pairs, 10_000 + args.seed)
    ours, _ = build_pair(args.junyanz_root, args.seed)
    rng = np.random.default_rng(args.seed)
    marks = {args.iters} | {m for m in (50, 100, 200, 400, 800, 1600, 3200, 6400) if m < args.iters}
    rows = []
    for step in tqdm(range(1, args.iters + 1), desc="inference study", unit="step"):
        k = int(rng.integers(args.train_pairs))
        ours.training_step({"A": train_a[k : k + 1], "B": train_b[k : k + 1]})
        if step in marks:
            train_mode, eval_mode = (
                evaluate(ours.netG, test_a, test_b, False),
                evaluate(ours.netG, test_a, test_b, True),
            )
            rows.append({"steps": step, "train_mode": train_mode, "eval_mode": eval_mode})
    print("| steps | L1, default (paper) mode | L1, --eval | PSNR default / --eval |")
    print("|---|---|---|---|")
    for r in rows:
        tm, em = r["train_mode"], r["eval_mode"]
        print(f"| {r['steps']} | {tm['L1']:.4f} | {em['L1']:.4f} | {tm['PSNR']:.2f} / {em['PSNR']:.2f} |")
    if args.json:
        write_json_atomic(args.json, rows)
    return rows
