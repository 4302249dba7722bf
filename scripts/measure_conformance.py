#!/usr/bin/env python3
"""Measure our generators against NVIDIA's reference outputs and write docs/CONFORMANCE.md.

Usage: python scripts/measure_conformance.py [--fixtures ../shared/fixtures/nvidia_pickles] [--out docs/CONFORMANCE.md]
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import numpy as np
import torch

from autodrag.networks import load_generator

REPO = Path(__file__).resolve().parents[1]


def measure(pkl: Path) -> dict[str, float]:
    """Max abs error per reference array (features: over all blocks, relative to max(1, max|ref|))."""
    G = load_generator(pkl)
    ref = dict(np.load(pkl.with_suffix(".ref.npz")))
    z, c = torch.from_numpy(ref["z"]), torch.from_numpy(ref["c"])
    errors = {"w_avg": float(np.abs(G.mapping.w_avg.numpy() - ref["w_avg"]).max())}
    with torch.no_grad():
        for psi, key in [(1.0, "psi1"), (0.7, "psi07")]:
            ws = G.mapping(z, c, truncation_psi=psi)
            img = G.synthesis(ws, noise_mode="const", force_fp32=True)
            errors[f"ws_{key}"] = float(np.abs(ws.numpy() - ref[f"ws_{key}"]).max())
            errors[f"img_{key}"] = float(np.abs(img.numpy() - ref[f"img_{key}"]).max())
        if "img_psi1_noise_none" in ref:
            img = G.synthesis(torch.from_numpy(ref["ws_psi1"]), noise_mode="none", force_fp32=True)
            errors["img_psi1_noise_none"] = float(np.abs(img.numpy() - ref["img_psi1_noise_none"]).max())
        out = G.synthesis.forward_features(torch.from_numpy(ref["ws_psi1"][:1]), noise_mode="const")
        feat_err = 0.0
        for k, feat in enumerate(out.features):
            r = ref[f"feat_{k}"]
            err = np.abs(feat[:, : r.shape[1]].numpy() - r).max() / max(1.0, np.abs(r).max())
            feat_err = max(feat_err, float(err))
        errors["features (rel)"] = feat_err
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--fixtures", type=Path, default=REPO.parent / "shared" / "fixtures" / "nvidia_pickles"
    )
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "CONFORMANCE.md")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = {pkl.stem: measure(pkl) for pkl in sorted(args.fixtures.glob("*.pkl"))}
    keys = sorted({k for r in rows.values() for k in r})
    lines = [
        "# Conformance with NVIDIA's reference outputs",
        "",
        "Max absolute error of our float32 CPU implementation against the `.ref.npz` arrays computed by NVIDIA's",
        "own code (stylegan2-ada-pytorch / stylegan3) from the same pickles; tolerance 1e-4 (features relative",
        "to max(1, max|ref|)). Asserted by `tests/networks/test_conformance.py`.",
        "",
        f"Measured with `python scripts/measure_conformance.py` on {platform.machine()}, torch {torch.__version__}, "
        "1 thread.",
        "",
        "| fixture | " + " | ".join(keys) + " |",
        "|---|" + "---|" * len(keys),
    ]
    for name, errs in rows.items():
        lines.append(
            f"| `{name}` | " + " | ".join(f"{errs[k]:.1e}" if k in errs else "n/a" for k in keys) + " |"
        )
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
