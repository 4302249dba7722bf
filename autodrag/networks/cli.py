"""`autodrag generate`, `autodrag info`, `autodrag convert`: the generator commands."""

from __future__ import annotations

import warnings
from pathlib import Path

import click
import numpy as np
import torch
from tqdm import tqdm

from autodrag.cli_types import SEED_RANGE, device_option, resolve_device
from autodrag.errors import NonFiniteError, check_output_dir
from autodrag.images import save_png, to_uint8
from autodrag.latents import save_latent, z_from_seed
from autodrag.networks.loading import GeneratorLoadError, load_generator, save_generator

__all__ = ["convert", "generate", "info", "open_generator"]


def open_generator(ckpt: Path | None, device: torch.device) -> torch.nn.Module:
    """Load `ckpt` (or the bundled default) for a command, turning load errors into one-line CLI errors."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            G = load_generator(ckpt, device=device)
        except GeneratorLoadError as exc:
            raise click.ClickException(str(exc)) from None
    for warning in caught:
        click.echo(f"note: {warning.message}", err=True)
    return G


def _class_vector(G: torch.nn.Module, class_idx: int | None, device: torch.device) -> torch.Tensor:
    c = torch.zeros([1, G.c_dim], device=device)
    if G.c_dim == 0:
        if class_idx is not None:
            click.echo("note: --class ignored: the generator is unconditional", err=True)
        return c
    if class_idx is None:
        raise click.BadParameter(
            f"the generator is conditional ({G.c_dim} classes): give --class", param_hint="--class"
        )
    if not 0 <= class_idx < G.c_dim:
        raise click.BadParameter(f"must be in [0, {G.c_dim - 1}], got {class_idx}", param_hint="--class")
    c[:, class_idx] = 1
    return c


@click.command()
@click.option(
    "--ckpt",
    type=click.Path(path_type=Path),
    default=None,
    help="Generator (.pkl or .safetensors). Default: the bundled model.",
)
@click.option("--seeds", type=SEED_RANGE, default="0-3", show_default=True, help="Seeds, e.g. 0-7,12.")
@click.option("--trunc", "truncation_psi", type=float, default=1.0, show_default=True, help="Truncation psi.")
@click.option(
    "--trunc-cutoff", "truncation_cutoff", type=int, default=None, help="Truncate only the first N ws."
)
@click.option("--class", "class_idx", type=int, default=None, help="Class label (conditional generators).")
@click.option(
    "--noise-mode", type=click.Choice(["const", "random", "none"]), default="const", show_default=True
)
@click.option("--outdir", type=click.Path(path_type=Path), default=Path("out/generate"), show_default=True)
@device_option
def generate(
    ckpt: Path | None,
    seeds: list[int],
    truncation_psi: float,
    truncation_cutoff: int | None,
    class_idx: int | None,
    noise_mode: str,
    outdir: Path,
    device: str,
) -> None:
    """Generate one PNG and one latent (.npz with z and ws) per seed.

    \b
    Example:
      autodrag generate --ckpt stylegan2-ffhq-512x512.pkl --seeds 0-7,12 --trunc 0.7 --outdir out/
    """
    check_output_dir(outdir, "--outdir")
    dev = resolve_device(device)
    G = open_generator(ckpt, dev)
    c = _class_vector(G, class_idx, dev)
    for seed in tqdm(seeds, desc="generate", unit="img"):
        z = z_from_seed(seed, G.z_dim)
        with torch.no_grad():
            ws = G.mapping(
                torch.from_numpy(z).to(dev),
                c,
                truncation_psi=truncation_psi,
                truncation_cutoff=truncation_cutoff,
            )
            image = G.synthesis(ws, noise_mode=noise_mode)
        if not bool(torch.isfinite(image).all()):
            raise NonFiniteError(
                f"seed {seed}: the image of {ckpt or 'the bundled generator'} contains NaN or inf"
            )
        save_png(outdir / f"seed{seed:04d}.png", to_uint8(image))
        save_latent(
            outdir / f"seed{seed:04d}.npz", z=z[0], ws=ws[0].cpu().numpy(), seed=seed, psi=truncation_psi
        )
    click.echo(f"wrote {len(seeds)} images and latents to {outdir}")


@click.command()
@click.argument("ckpt", type=click.Path(path_type=Path))
def info(ckpt: Path) -> None:
    """Print a generator's family, resolution, num_ws, parameter count and conditioning."""
    G = open_generator(ckpt, torch.device("cpu"))
    params = sum(p.numel() for p in G.parameters())
    click.echo(f"file:        {ckpt}")
    click.echo(f"family:      {G.family}")
    click.echo(f"resolution:  {G.img_resolution}x{G.img_resolution}x{G.img_channels}")
    click.echo(f"z_dim/w_dim: {G.z_dim}/{G.w_dim}")
    click.echo(f"num_ws:      {G.num_ws}")
    click.echo(f"parameters:  {params:,}")
    click.echo(f"conditional: {'yes, c_dim=' + str(G.c_dim) if G.c_dim else 'no'}")


@click.command()
@click.argument("src", type=click.Path(path_type=Path))
@click.argument("dst", type=click.Path(path_type=Path))
def convert(src: Path, dst: Path) -> None:
    """Convert an NVIDIA .pkl into AutoDrag's safe format (DST.safetensors + DST.json).

    \b
    Example:
      autodrag convert stylegan2-ffhq-512x512.pkl checkpoints/ffhq512.safetensors
    """
    if dst.suffix != ".safetensors":
        raise click.BadParameter(f"{dst}: must end in .safetensors", param_hint="DST")
    G = open_generator(src, torch.device("cpu"))
    save_generator(G, dst, extra={"converted_from": src.name})
    click.echo(
        f"{src} -> {dst} ({G.family}, {G.img_resolution}px, {np.sum([p.numel() for p in G.parameters()]):,} "
        "parameters)"
    )
