"""Run a trained generator: on one image, a folder, a test split, or from Python.

By default inference follows the paper: dropout stays on and batch norm uses the statistics of the
test batch, so outputs vary slightly with the seed. ``eval_mode=True`` gives deterministic output
with the running statistics.
"""

from __future__ import annotations

import csv
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from autodrag.pix2pix.checkpoint import load_checkpoint
from autodrag.pix2pix.config import TrainConfig, dataclass_from_dict
from autodrag.pix2pix.datasets import DataConfig, open_dataset
from autodrag.pix2pix.distributed import resolve_device
from autodrag.pix2pix.errors import CheckpointError, DatasetError, format_paths
from autodrag.pix2pix.images import Size, flatten_alpha, list_images, load_image, to_pil, to_tensor
from autodrag.pix2pix.metrics import METRIC_NAMES, image_metrics
from autodrag.pix2pix.networks import GeneratorConfig, build_translator
from autodrag.pix2pix.report import write_image_table

__all__ = [
    "YOUNG_STATISTICS_STEPS",
    "BatchReport",
    "ItemResult",
    "Predictor",
    "YoungStatisticsWarning",
    "evaluate_split",
    "load_translator",
    "predict_folder",
    "young_statistics_message",
]

ImageLike = Image.Image | np.ndarray | torch.Tensor | str | Path


# Below this many training steps, batch-norm running statistics may lag the weights enough that --eval
# output is clearly worse than the paper's test-batch statistics (measured: docs/PIX2PIX.md, Inference).
YOUNG_STATISTICS_STEPS = 1000


class YoungStatisticsWarning(UserWarning):
    """``eval_mode`` asked for a generator whose batch-norm running statistics are young or unknown."""


def _load(checkpoint: str | Path) -> tuple[nn.Module, GeneratorConfig, int | None]:
    payload = load_checkpoint(checkpoint)
    try:
        if payload["kind"] == "pix2pix":
            state, steps = payload["trainer"]["netG"], payload["trainer"].get("step")
        elif payload["kind"] == "pix2pix-generator":
            state, steps = payload["netG"], payload.get("steps")  # snapshots before issue #19 lack it
        else:
            raise CheckpointError(f"{checkpoint} holds a {payload['kind']} model, not a pix2pix generator")
        cfg = dataclass_from_dict(TrainConfig, payload["config"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"{checkpoint}: not a complete pix2pix checkpoint (no {exc} entry)") from None
    net = build_translator(cfg.generator)
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:  # another depth or width: torch's multi-line 'size mismatch' report
        first = next(
            (line.strip() for line in str(exc).splitlines() if "size mismatch" in line or "Missing" in line),
            str(exc).splitlines()[0],
        )
        raise CheckpointError(
            f"{checkpoint}: its weights do not fit the generator its options describe ({first})"
        ) from None
    return net, cfg.generator, None if steps is None else int(steps)


def load_translator(checkpoint: str | Path) -> tuple[nn.Module, GeneratorConfig]:
    """Build the generator saved in a run folder, ``latest.pt`` or a ``G_epoch_XXXX.pt`` snapshot.

    Raises:
        CheckpointError: Missing file, or no generator inside.
    """
    net, cfg, _ = _load(checkpoint)
    return net, cfg


def young_statistics_message(steps: int | None, norm: str) -> str | None:
    """Why ``eval_mode`` is a poor choice for a generator trained ``steps`` steps, or None if it is fine."""
    if norm != "batch":
        return None  # instance / layer / no norm: eval and train mode normalise alike
    if steps is None:
        return "--eval: this checkpoint does not record its training steps; its batch-norm running statistics may be young"
    if steps < YOUNG_STATISTICS_STEPS:
        return (
            f"--eval after only {steps} training steps: batch-norm running statistics lag the weights and "
            f"usually give a worse result than the default (test-batch statistics, as in the paper)"
        )
    return None


def _paper_mode(net: nn.Module) -> None:
    """Train-mode layers (dropout on, batch statistics) without touching the running statistics."""
    net.train()
    for module in net.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.momentum = 0.0  # running = (1 - 0) * running: train-mode forwards leave it unchanged


class Predictor:
    """A generator ready for inference.

    Args:
        generator: The network.
        config: Its architecture (for channel counts).
        device: ``auto``, ``cpu``, ``cuda``...
        eval_mode: Deterministic output (dropout off, running statistics).
        seed: Seeds the test-time dropout when ``eval_mode`` is off.
        resize: Resize inputs to this (width, height) before the generator; outputs keep it.

    Example:
        >>> predictor = Predictor.from_checkpoint("runs/signatures")
        >>> predictor("generated/Ada.png").save("Ada_signature.png")
    """

    def __init__(
        self,
        generator: nn.Module,
        config: GeneratorConfig,
        device: str = "auto",
        eval_mode: bool = False,
        seed: int = 0,
        resize: Size | None = None,
    ) -> None:
        self.device = resolve_device(device)
        self.net = generator.to(self.device)
        self.config, self.eval_mode, self.resize = config, eval_mode, resize
        if eval_mode:
            self.net.eval()
        else:
            _paper_mode(self.net)
        self.generator = torch.Generator().manual_seed(seed)  # draws one dropout seed per call
        self.training_steps: int | None = None  # set by from_checkpoint when the checkpoint records it

    @classmethod
    def from_checkpoint(cls, checkpoint: str | Path, **kwargs) -> Predictor:
        """Load a run folder or checkpoint file; ``kwargs`` as for the constructor."""
        net, cfg, steps = _load(checkpoint)
        predictor = cls(net, cfg, **kwargs)
        predictor.training_steps = steps
        message = young_statistics_message(steps, cfg.norm) if predictor.eval_mode else None
        if message:
            warnings.warn(message, YoungStatisticsWarning, stacklevel=2)
        return predictor

    def _to_image(self, image: ImageLike) -> Image.Image:
        channels = self.config.in_channels
        if isinstance(image, (str, Path)):
            img = load_image(image, channels)
        elif isinstance(image, torch.Tensor):
            img = to_pil(image)
        elif isinstance(image, np.ndarray):
            img = Image.fromarray(image)
        else:
            img = image
        img = flatten_alpha(img).convert("L" if channels == 1 else "RGB")
        if self.resize is not None and img.size != tuple(self.resize):
            img = img.resize(tuple(self.resize), Image.Resampling.BICUBIC)
        return img

    @torch.no_grad()
    def predict_tensor(self, batch: torch.Tensor) -> torch.Tensor:
        """[N, Cin, H, W] in [-1, 1] -> [N, Cout, H, W] in [-1, 1] (on CPU)."""
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(
            devices=devices
        ):  # dropout draws from our own seed, global state is restored
            if not self.eval_mode:
                torch.manual_seed(int(torch.randint(0, 2**62, (1,), generator=self.generator)))
            return self.net(batch.to(self.device)).float().cpu()

    def __call__(self, image: ImageLike) -> Image.Image:
        """Translate one image (path, PIL image, HxW[xC] uint8 array or [C,H,W] tensor in [-1, 1])."""
        return to_pil(self.predict_tensor(to_tensor(self._to_image(image))[None])[0])


@dataclass
class ItemResult:
    """One translated image."""

    name: str  # file stem
    output: Path  # the generated image
    source: Path | None = None  # the input image as shown in the HTML index
    target: Path | None = None  # the target image, when given
    metrics: dict[str, float] = field(default_factory=dict)  # L1 / PSNR / SSIM against the target


@dataclass
class BatchReport:
    """A folder or split translated by :func:`predict_folder` / :func:`evaluate_split`."""

    items: list[ItemResult]  # per image
    index_html: Path  # page showing input / output / target side by side
    metrics_csv: Path | None  # per-image metrics, when targets were available

    def mean_metrics(self) -> dict[str, float]:
        """Average of each metric over the images that have it (PSNR skips identical pairs)."""
        out = {}
        for name in METRIC_NAMES:
            values = [
                it.metrics[name]
                for it in self.items
                if name in it.metrics and math.isfinite(it.metrics[name])
            ]
            if values:
                out[name] = float(np.mean(values))
        return out


def _write_outputs(items: list[ItemResult], out_dir: Path, title: str) -> BatchReport:
    has_targets = any(it.metrics for it in items)

    def rel(path: Path | None) -> str:  # the HTML page refers to files relative to itself
        return os.path.relpath(path, out_dir) if path is not None else ""

    headers = ["name", "input", "output"] + (["target", *METRIC_NAMES] if has_targets else [])
    rows = []
    for it in items:
        row = [it.name, rel(it.source), rel(it.output)]
        if has_targets:
            row += [rel(it.target)] + [f"{it.metrics.get(m, float('nan')):.4f}" for m in METRIC_NAMES]
        rows.append(row)
    metrics_csv = None
    if has_targets:
        metrics_csv = out_dir / "metrics.csv"
        with metrics_csv.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["name", *METRIC_NAMES])
            writer.writerows([[it.name, *(f"{it.metrics[m]:.6g}" for m in METRIC_NAMES)] for it in items])
    report = BatchReport(items, out_dir / "index.html", metrics_csv)
    means = report.mean_metrics()
    summary = ", ".join(f"{k} {v:.4f}" for k, v in means.items())
    write_image_table(report.index_html, title, headers, rows, f"<p>{len(items)} images. {summary}</p>")
    return report


def predict_folder(
    predictor: Predictor,
    inputs: str | Path,
    out_dir: str | Path,
    targets: str | Path | None = None,
) -> BatchReport:
    """Translate one image file or every image of a folder into ``out_dir/<stem>.png``.

    Args:
        predictor: The model.
        inputs: An image file or a folder of images.
        out_dir: Created if needed; also receives ``index.html`` (and ``metrics.csv``).
        targets: Optional folder of targets matched by file stem, for metrics.

    Raises:
        DatasetError: No input images, or targets missing for some inputs (named).
    """
    inputs, out_dir = Path(inputs), Path(out_dir)
    files = [inputs] if inputs.is_file() else (list_images(inputs) if inputs.is_dir() else [])
    if not files:
        raise DatasetError(f"no input images at {inputs}")
    target_files: dict[str, Path] = {}
    if targets is not None:
        target_files = {p.stem: p for p in list_images(targets)}
        lacking = [f.name for f in files if f.stem not in target_files]
        if lacking:
            raise DatasetError(f"no target in {targets} for: {format_paths(lacking)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    items = []
    for path in files:
        output = predictor(path)
        out_path = out_dir / f"{path.stem}.png"
        output.save(out_path)
        item = ItemResult(path.stem, out_path, source=path)
        if path.stem in target_files:
            item.target = target_files[path.stem]
            target = load_image(item.target, predictor.config.out_channels).resize(
                output.size, Image.Resampling.BICUBIC
            )
            item.metrics = image_metrics(output, target)
        items.append(item)
    return _write_outputs(items, out_dir, f"pix2pix predictions: {inputs.name}")


def evaluate_split(
    predictor: Predictor,
    data: DataConfig,
    out_dir: str | Path,
    phase: str = "test",
) -> BatchReport:
    """Translate every pair of a dataset split, save input / output / target and their metrics.

    Raises:
        DatasetError: As for training data (unpaired names, bad A|B images...).
    """
    cfg = predictor.config
    dataset = open_dataset(data, phase, cfg.in_channels, cfg.out_channels, train=False)
    if dataset is None:
        raise DatasetError(f"no {phase} split in {data.dataroot}")
    out_dir = Path(out_dir)
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    items = []
    for index in range(len(dataset)):
        sample = dataset[index]
        fake = predictor.predict_tensor(sample["A"][None])[0]
        paths = {}
        for label, tensor in (("real_A", sample["A"]), ("fake_B", fake), ("real_B", sample["B"])):
            paths[label] = out_dir / "images" / f"{sample['name']}_{label}.png"
            to_pil(tensor).save(paths[label])
        item = ItemResult(sample["name"], paths["fake_B"], paths["real_A"], paths["real_B"])
        item.metrics = image_metrics(to_pil(fake), to_pil(sample["B"]))
        items.append(item)
    return _write_outputs(items, out_dir, f"pix2pix {phase}: {Path(data.dataroot).name}")
