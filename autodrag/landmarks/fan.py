"""face-alignment's FAN as a landmark backend, run on the RGB synthesis output.

GAN faces are aligned, so by default the whole image is the face box and the SFD face detector
is not used (`use_face_detector=True` turns it on). Weights are looked up in torch.hub's cache
(`$TORCH_HOME/hub/checkpoints`, where face-alignment itself keeps them); when they are missing
and cannot be fetched, `LandmarkWeightsMissing` names the files and the folder.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import torch

from autodrag.atomic import write_atomic
from autodrag.cli_types import resolve_device
from autodrag.landmarks.base import LandmarkDetector, check_image, register_detector

__all__ = [
    "FanDetector",
    "LandmarkWeightsMissing",
    "NoFaceFound",
    "fan_soft_landmarks",
    "fan_weight_files",
    "weights_cache_dir",
]

CROP_SIZE, HEATMAP_SIZE = 256, 64  # FAN's input crop and heatmap sizes (face-alignment's constants)
SOFT_ARGMAX_SHARPNESS = 50.0  # heatmap values (peaks ~0.5-1) are scaled by this before the softmax

FAN_URL = "https://www.adrianbulat.com/downloads/python-fan/2DFAN4-11f355bf06.pth.tar"
SFD_URL = "https://www.adrianbulat.com/downloads/python-fan/s3fd-619a316812.pth"


class LandmarkWeightsMissing(RuntimeError):
    """face-alignment's weights are not in the cache and could not be downloaded."""


class NoFaceFound(ValueError):
    """The detector found no face in the image."""


def weights_cache_dir() -> Path:
    """Where face-alignment (through torch.hub) keeps its weights: $TORCH_HOME/hub/checkpoints."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def fan_weight_files(use_face_detector: bool) -> list[Path]:
    """The weight files the configured backend needs, in the cache folder."""
    urls = [FAN_URL] + ([SFD_URL] if use_face_detector else [])
    return [weights_cache_dir() / os.path.basename(urlparse(u).path) for u in urls]


def _fetch(url: str, dest: Path, timeout_s: float) -> None:
    """Download `url` to `dest` atomically, failing fast (no hang) when offline."""

    def download(tmp: Path) -> None:
        with urllib.request.urlopen(url, timeout=timeout_s) as response, open(tmp, "wb") as out:
            while chunk := response.read(1 << 20):
                out.write(chunk)

    write_atomic(dest, download)


def _ensure_weights(use_face_detector: bool, download: bool, timeout_s: float) -> None:
    missing = [
        (u, f) for u, f in zip([FAN_URL, SFD_URL], fan_weight_files(use_face_detector)) if not f.exists()
    ]
    failures, why = [], "downloading is off"
    for url, path in missing:
        if not download:
            failures.append(path)
            continue
        try:
            _fetch(url, path, timeout_s)
        except (OSError, urllib.error.URLError) as exc:
            failures.append(path)
            why = f"download failed: {exc}"
    if failures:
        names = ", ".join(p.name for p in failures)
        raise LandmarkWeightsMissing(
            f"face-alignment weights not found: {names} ({why}); put the file(s) in {weights_cache_dir()} "
            "(set TORCH_HOME to use another cache) or use --landmarks toy"
        )


def whole_image_crop(width: int, height: int) -> tuple[tuple[float, float], float]:
    """FAN's crop for the whole-image box: (centre (x, y), side in image pixels), as face-alignment makes it
    (centre moved up by 12 % of the box height, side = 200 * (box width + height) / 195)."""
    w, h = width - 1.0, height - 1.0
    return (w / 2, h / 2 - 0.12 * h), 200.0 * (w + h) / 195.0


def fan_soft_landmarks(
    network: torch.nn.Module, image: torch.Tensor, sharpness: float = SOFT_ARGMAX_SHARPNESS
) -> torch.Tensor:
    """Differentiable FAN landmarks: crop (grid_sample), FAN, soft-argmax over each heatmap.

    The crop and the heatmap-to-image mapping are face-alignment's for the whole-image box; the
    read-out is the softmax-weighted mean of the heatmap cells (values x `sharpness`) instead of the
    argmax, so on a peaked heatmap it is the argmax, and the gradient reaches the image.

    Args:
        network: FAN (face-alignment's `FAN`; a list output uses its last heatmaps).
        image: [1, 3, H, W] synthesis image in [-1, 1].
    Returns:
        [68, 2] (x, y) image pixels.
    """
    height, width = image.shape[-2:]
    (cx, cy), side = whole_image_crop(width, height)
    steps = (torch.arange(CROP_SIZE, dtype=image.dtype, device=image.device) + 0.5) / CROP_SIZE - 0.5
    xs, ys = cx + steps * side, cy + steps * side  # image pixel (centre = integer) of each crop pixel
    gx, gy = (2 * xs + 1) / width - 1, (2 * ys + 1) / height - 1  # grid_sample, align_corners=False
    grid = torch.stack(torch.meshgrid(gy, gx, indexing="ij")[::-1], dim=-1)[None]  # [1, S, S, (x, y)]
    crop = torch.nn.functional.grid_sample(
        (image.clamp(-1, 1) + 1) / 2, grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    heatmaps = network(crop)
    heatmaps = heatmaps[-1] if isinstance(heatmaps, (list, tuple)) else heatmaps  # [1, 68, 64, 64]
    n, k, hh, hw = heatmaps.shape
    prob = torch.softmax(heatmaps.reshape(n, k, hh * hw).float() * sharpness, dim=-1).reshape(n, k, hh, hw)
    cells_x = torch.arange(hw, dtype=prob.dtype, device=prob.device) + 0.5
    cells_y = torch.arange(hh, dtype=prob.dtype, device=prob.device) + 0.5
    u = (prob.sum(dim=2) * cells_x).sum(dim=-1)[0]  # [68] heatmap x (face-alignment's `preds`)
    v = (prob.sum(dim=3) * cells_y).sum(dim=-1)[0]
    return torch.stack([cx + (u / hw - 0.5) * side, cy + (v / hh - 0.5) * side], dim=-1)


@register_detector("fan")
class FanDetector(LandmarkDetector):
    """68 2-D landmarks from face-alignment's FAN (`LandmarksType.TWO_D`)."""

    def __init__(
        self,
        device: str = "auto",  # 'auto' = cuda when available
        flip_input: bool = False,  # also run on the mirrored image and average (slower, a bit steadier)
        compile: bool | None = None,  # torch.compile FAN; None = only on CUDA
        use_face_detector: bool = False,  # run SFD to find the face instead of using the whole image
        download: bool = True,  # fetch missing weights (short timeout); False = cache only
        download_timeout_s: float = 20.0,
    ) -> None:
        import face_alignment  # imported here: heavy, and only this backend needs it

        device = str(resolve_device(device))
        if compile is None:
            compile = device.startswith("cuda")
        _ensure_weights(use_face_detector, download, download_timeout_s)
        self.use_face_detector = use_face_detector
        self._fa = face_alignment.FaceAlignment(
            face_alignment.LandmarksType.TWO_D,
            device=device,
            flip_input=flip_input,
            face_detector="sfd" if use_face_detector else "folder",
            compile=compile,
        )

    @property
    def differentiable(self) -> bool:
        """`detect_tensor` works with the whole-image box (not with the SFD face detector)."""
        return not self.use_face_detector

    def detect_tensor(self, image: torch.Tensor) -> torch.Tensor:
        """Differentiable landmarks [68, 2] (x, y) of a synthesis image [1, 3, H, W] in [-1, 1]: FAN on the
        whole-image crop with a soft-argmax read-out (`fan_soft_landmarks`)."""
        if self.use_face_detector:
            raise NotImplementedError("FanDetector(use_face_detector=True) has no differentiable read-out")
        return fan_soft_landmarks(self._fa.face_alignment_net, image)

    def detect(self, image: np.ndarray) -> np.ndarray:
        image = np.asarray(image)
        if image.ndim == 3 and image.shape[2] == 4:  # RGBA (e.g. a GUI framebuffer): drop alpha
            image = image[:, :, :3]
        image = np.ascontiguousarray(check_image(image))
        h, w = image.shape[:2]
        boxes = None if self.use_face_detector else [[0.0, 0.0, float(w - 1), float(h - 1)]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # face-alignment warns instead of returning a status
            found = self._fa.get_landmarks_from_image(image, detected_faces=boxes)
        if not found:
            raise NoFaceFound(f"no face found in the {w}x{h} image")
        return np.asarray(found[0], dtype=np.float32)[:, :2]
