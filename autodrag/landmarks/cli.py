"""The top-level `autodrag landmarks` command: print the 68 landmarks of images (registered by autodrag/cli.py)."""

from __future__ import annotations

import json
import os

import click
import numpy as np
from PIL import Image

from autodrag.landmarks import fan as _fan_backend  # registers the "fan" backend (face-alignment)
from autodrag.landmarks import toy as _toy_backend  # registers the "toy" backend
from autodrag.landmarks.base import available_detectors, create_detector
from autodrag.landmarks.heatmap_net import LandmarkCheckpointError
from autodrag.landmarks.measures import eye_aspect_ratio, inner_mouth_gap, jaw_width, mouth_width

__all__ = ["landmarks_command"]


def _read_rgb(path: str) -> np.ndarray:
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except OSError as exc:
        raise click.ClickException(f"{path}: cannot read the image ({exc})") from None


@click.command("landmarks")
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--backend",
    type=click.Choice(available_detectors()),
    default="toy",
    show_default=True,
    help="Landmark detector.",
)
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False),
    default=None,
    help="Detector weights (default: the bundled ones).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: [{image, landmarks_xy: [[x, y] x 68]}].")
@click.option(
    "--min-score",
    type=click.FloatRange(0, 1),
    default=_toy_backend.MIN_FACE_SCORE,
    show_default=True,
    help="toy backend: face/no-face confidence below which an image is 'no face found' (0: off).",
)
def landmarks_command(
    images: tuple[str, ...], backend: str, checkpoint: str | None, as_json: bool, min_score: float
) -> None:
    """Print the 68 facial landmarks (x, y pixels, iBUG-68 order) of each IMAGE.

    `toy` is the bundled detector for toy faces and the bundled generator's outputs (offline);
    `fan` is face-alignment's FAN for real-looking faces (needs the face-alignment package).

    \b
    Example:
        autodrag landmarks out/toy/seed0000.png --json
    """
    if checkpoint and backend != "toy":
        raise click.BadParameter("only the toy backend takes --checkpoint", param_hint="--checkpoint")
    kwargs = {"checkpoint": checkpoint} if checkpoint else {}
    try:
        detector = create_detector(backend, **kwargs)
    except (LandmarkCheckpointError, _fan_backend.LandmarkWeightsMissing) as exc:
        raise click.ClickException(str(exc)) from None
    except ImportError as exc:  # an optional backend's package is not installed
        raise click.ClickException(
            f"the {backend} backend needs a package that is not installed: {exc}"
        ) from None
    arrays = [_read_rgb(p) for p in images]
    if hasattr(detector, "face_scores") and min_score > 0:
        for path, score in zip(images, detector.face_scores(arrays)):
            if score < min_score:
                raise click.ClickException(
                    f"{path}: no face found (toy detector confidence {score:.2f} < "
                    f"--min-score {min_score:.2f})"
                )
    try:
        results = detector.detect_many(arrays)
    except _fan_backend.NoFaceFound as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        payload = [
            {"image": os.fspath(p), "landmarks_xy": np.round(lm.astype(np.float64), 3).tolist()}
            for p, lm in zip(images, results)
        ]
        click.echo(json.dumps(payload))
        return
    for path, lm in zip(images, results):
        click.echo(
            f"{path}: EAR left {eye_aspect_ratio(lm, 'left'):.3f} right {eye_aspect_ratio(lm, 'right'):.3f}, "
            f"mouth gap {inner_mouth_gap(lm):.3f}, mouth width {mouth_width(lm):.3f}, "
            f"jaw width {jaw_width(lm):.3f} "
            "(lengths / inter-ocular distance; --json for the points)"
        )
