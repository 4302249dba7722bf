"""The bundled landmark backend "toy": the heatmap CNN trained on procedural toy faces.

It expects one tightly framed, roughly upright face filling the image (a generator output or a
toy render); it has no face detector.  Any image size works: the image is resized to the
network's input size and the landmarks are scaled back.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from autodrag import paths
from autodrag.landmarks.base import LandmarkDetector, check_image, register_detector
from autodrag.landmarks.fan import NoFaceFound
from autodrag.landmarks.heatmap_net import LandmarkCheckpointError, load_heatmap_net, soft_argmax
from autodrag.pixels import rescale_points, size_ratio

__all__ = ["MIN_FACE_SCORE", "RESTORE_HINT", "LandmarkCheckpointError", "NoFaceFound", "ToyLandmarkDetector"]

# face/no-face threshold of `face_score` (mean heatmap peak mass): see docs/RELIABILITY.md for the measured
# ranges (bundled-generator faces well above, noise and flat images well below)
MIN_FACE_SCORE = 0.3

RESTORE_HINT = (
    "Restore the bundled files with `git checkout -- checkpoints/toyfaces_landmarks.safetensors "
    "checkpoints/toyfaces_landmarks.json`, or retrain them with `autodrag toyfaces train-landmarks` "
    "(same as `python scripts/train_toyfaces_landmarks.py`, about an hour on one CPU core)."
)


@register_detector("toy")
class ToyLandmarkDetector(LandmarkDetector):
    """68-point detector for toy faces and the bundled generator's outputs."""

    fast = True  # one CPU core keeps up with a drag (docs/BENCHMARKS.md): presets track their handles with it
    differentiable = True  # soft-argmax heatmaps: presets guide drags with `detect_tensor`

    def __init__(self, checkpoint: str | os.PathLike | None = None, device: str = "cpu"):
        """
        Args:
            checkpoint: .safetensors path (its .json next to it); default: the bundled detector.
            device: torch device for inference.
        Raises:
            LandmarkCheckpointError: missing or corrupt checkpoint (the message says how to fix it).
        """
        path = Path(checkpoint) if checkpoint is not None else paths.BUNDLED_LANDMARK_CHECKPOINT
        hint = (
            RESTORE_HINT
            if checkpoint is None
            else "Check the path, or retrain with `autodrag toyfaces train-landmarks`."
        )
        self.model, self.metadata = load_heatmap_net(path, hint)
        self.device = torch.device(device)
        self.model.to(self.device)
        self.size = self.model.config.input_size

    def framing(self, size: int | None = None) -> np.ndarray:
        """The face framing the detector was trained on: mean landmarks float64 [68, 2] (x, y) of a
        `size` px image (default: the network's input size), from the checkpoint JSON's `framing`."""
        framing = self.metadata.get("framing")
        if not framing or "mean_landmarks" not in framing:
            raise LandmarkCheckpointError(
                "the landmark checkpoint's JSON has no `framing` (mean landmarks); retrain it with "
                "`autodrag toyfaces train-landmarks`, or restore the bundled files"
            )
        mean = np.asarray(framing["mean_landmarks"], dtype=np.float64)
        size = self.size if size is None else int(size)
        return mean if size == framing["size"] else rescale_points(mean, size / framing["size"])

    def _prepare(self, image: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:
        image = check_image(image)
        h, w = image.shape[:2]
        if (h, w) != (self.size, self.size):
            image = np.asarray(
                Image.fromarray(image).resize((self.size, self.size), Image.Resampling.BILINEAR)
            )
        x = torch.from_numpy(np.array(image, dtype=np.float32)).permute(2, 0, 1) / 127.5 - 1.0
        return x, size_ratio((self.size, self.size), (w, h))

    @torch.inference_mode()
    def detect_many(self, images) -> np.ndarray:
        """Landmarks float32 [N, 68, 2] (x, y) pixels of each image (one batched forward)."""
        if len(images) == 0:
            return np.zeros((0, 68, 2), np.float32)
        prepared = [self._prepare(im) for im in images]
        x = torch.stack([p[0] for p in prepared]).to(self.device)
        pts = soft_argmax(self.model(x), self.model.config.stride).cpu().numpy()
        scale = np.stack([p[1] for p in prepared])[:, None, :]
        return rescale_points(pts, scale).astype(np.float32)

    def detect_tensor(self, image: torch.Tensor) -> torch.Tensor:
        """Differentiable landmarks [68, 2] (x, y) pixels of a synthesis image [1, 3, H, W] in [-1, 1]."""
        h, w = image.shape[-2:]
        x = image.clamp(-1, 1)
        if (h, w) != (self.size, self.size):
            x = torch.nn.functional.interpolate(
                x, size=(self.size, self.size), mode="bilinear", align_corners=False
            )
        pts = soft_argmax(self.model(x.to(self.device)), self.model.config.stride)[0]
        scale = torch.tensor([w / self.size, h / self.size], device=pts.device)
        return rescale_points(pts, scale)

    @torch.inference_mode()
    def face_scores(self, images) -> np.ndarray:
        """Face/no-face confidence in [0, 1] of each image: the mean over the 68 heatmaps of the softmax mass
        in the 3x3 cells around the peak (a sharp single peak per landmark -> near 1; noise -> small)."""
        if len(images) == 0:
            return np.zeros(0, np.float32)
        x = torch.stack([self._prepare(im)[0] for im in images]).to(self.device)
        logits = self.model(x)
        n, k, h, w = logits.shape
        prob = torch.softmax(logits.reshape(n, k, h * w).float(), dim=-1).reshape(n, k, h, w)
        pooled = torch.nn.functional.avg_pool2d(prob, 3, stride=1, padding=1) * 9
        return pooled.reshape(n, k, -1).max(dim=-1).values.mean(dim=-1).cpu().numpy().astype(np.float32)

    def face_score(self, image: np.ndarray) -> float:
        """`face_scores` of one image."""
        return float(self.face_scores([image])[0])

    def detect(self, image: np.ndarray, min_score: float | None = None) -> np.ndarray:
        """Landmarks float32 [68, 2] (x, y) pixels of `image` (uint8 [H, W, 3]).

        With `min_score` (e.g. MIN_FACE_SCORE), raise NoFaceFound when `face_score` is below it; off by
        default (the drag loop's per-step tracking must stay fast).
        """
        if min_score is not None:
            score = self.face_score(image)
            if score < min_score:
                raise NoFaceFound(f"no face found (toy detector confidence {score:.2f} < {min_score:.2f})")
        return self.detect_many([image])[0]
