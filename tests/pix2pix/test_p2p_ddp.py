"""Data-parallel training under torchrun: 2 CPU processes with gloo match one process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from autodrag.pix2pix.checkpoint import load_checkpoint
from autodrag.pix2pix.config import save_options
from autodrag.pix2pix.train import train

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import sys, torch
    torch.set_num_threads(1)
    from autodrag.pix2pix.config import load_options
    from autodrag.pix2pix.train import train
    cfg = load_options(sys.argv[1])
    train(sys.argv[2], cfg)
    """
)


@pytest.mark.skipif(
    not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
    reason="torch built without gloo",
)
def test_torchrun_two_processes_match_one(small_root: Path, make_config, tmp_path: Path) -> None:
    """2 ranks x batch 2 take the same steps as 1 process x batch 4 (no batch statistics, no dropout)."""
    # no norm layers: a bias before instance norm has a zero gradient that Adam would turn into noise-sized steps
    common = {
        "generator__norm": "none",
        "generator__dropout": 0.0,
        "discriminator__norm": "none",
        "n_epochs": 1,
        "n_epochs_decay": 1,
        "d_precision": "float32",  # bfloat16 rounds differently for a batch of 2 and one of 4
    }
    ddp_cfg = make_config(small_root, batch_size=2, **common)
    save_options(ddp_cfg, tmp_path / "cfg")
    (tmp_path / "run_ddp.py").write_text(SCRIPT)
    env = dict(
        os.environ, PYTHONPATH=f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", OMP_NUM_THREADS="1"
    )
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(tmp_path / "run_ddp.py"), str(tmp_path / "cfg"), str(tmp_path / "ddp")]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    single = train(tmp_path / "single", make_config(small_root, batch_size=4, **common))
    ddp = load_checkpoint(tmp_path / "ddp")
    assert ddp["trainer"]["step"] == single.steps == 4  # 8 pairs / (2 ranks x 2) = 2 steps per epoch
    reference = load_checkpoint(tmp_path / "single")["trainer"]
    for net in ("netG", "netD"):
        for key, value in reference[net].items():
            # equal up to float summation order (observed <= 1e-7; one Adam step moves weights by ~2e-4)
            assert torch.allclose(ddp["trainer"][net][key], value, atol=2e-6), f"{net}.{key}"
    assert ddp["val_history"] == pytest.approx(single.val_l1, abs=1e-4)
