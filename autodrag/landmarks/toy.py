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
from autodrag.landmarks.heatmap_net import LandmarkCheckpointError, load_heatmap_net, soft_argmax

__all__ = ["RESTORE_HINT", "LandmarkCheckpointError", "ToyLandmarkDetector"]

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

    def _prepare(self, image: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:
        image = check_image(image)
        h, w = image.shape[:2]
        if (h, w) != (self.size, self.size):
            image = np.asarray(
                Image.fromarray(image).resize((self.size, self.size), Image.Resampling.BILINEAR)
            )
        x = torch.from_numpy(np.array(image, dtype=np.float32)).permute(2, 0, 1) / 127.5 - 1.0
        return x, np.array([w / self.size, h / self.size], dtype=np.float32)

    @torch.inference_mode()
    def detect_many(self, images) -> np.ndarray:
        """Landmarks float32 [N, 68, 2] (x, y) pixels of each image (one batched forward)."""
        if len(images) == 0:
            return np.zeros((0, 68, 2), np.float32)
        prepared = [self._prepare(im) for im in images]
        x = torch.stack([p[0] for p in prepared]).to(self.device)
        pts = soft_argmax(self.model(x), self.model.config.stride).cpu().numpy()
        scale = np.stack([p[1] for p in prepared])[:, None, :]
        return ((pts + 0.5) * scale - 0.5).astype(np.float32)

    def detect_tensor(self, image: torch.Tensor) -> torch.Tensor:
        """Differentiable landmarks [68, 2] (x, y) pixels of a synthesis image [1, 3, H, W] in [-1, 1]."""
        h, w = image.shape[-2:]
        x = image.clamp(-1, 1)
        if (h, w) != (self.size, self.size):
            x = torch.nn.functional.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        pts = soft_argmax(self.model(x.to(self.device)), self.model.config.stride)[0]
        scale = torch.tensor([w / self.size, h / self.size], device=pts.device)
        return (pts + 0.5) * scale - 0.5

    def detect(self, image: np.ndarray) -> np.ndarray:
        """Landmarks float32 [68, 2] (x, y) pixels of `image` (uint8 [H, W, 3])."""
        return self.detect_many([image])[0]
