"""The default test-time mode and the warning when --eval meets young batch-norm statistics."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from autodrag.pix2pix.infer import (
    YOUNG_STATISTICS_STEPS,
    Predictor,
    YoungStatisticsWarning,
    young_statistics_message,
)


def test_eval_on_young_statistics_warns(trained_run: Path) -> None:
    assert young_statistics_message(YOUNG_STATISTICS_STEPS, "batch") is None
    assert young_statistics_message(10, "instance") is None
    assert "only 10 training steps" in young_statistics_message(10, "batch")
    with pytest.warns(YoungStatisticsWarning, match="training steps"):
        predictor = Predictor.from_checkpoint(trained_run, eval_mode=True)
    assert predictor.training_steps is not None and predictor.training_steps < YOUNG_STATISTICS_STEPS
    with warnings.catch_warnings():
        warnings.simplefilter("error", YoungStatisticsWarning)
        Predictor.from_checkpoint(trained_run)  # the default (paper) mode: no warning
    snapshots = sorted(trained_run.glob("G_epoch_*.pt"))
    if snapshots:  # generator snapshots record their steps too
        with pytest.warns(YoungStatisticsWarning, match="only"):
            Predictor.from_checkpoint(snapshots[-1], eval_mode=True)


def test_cli_eval_prints_one_warning_line(trained_run: Path, small_root: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from autodrag.cli import main

    args = ["pix2pix", "test", "--checkpoint", str(trained_run), "--dataroot", str(small_root)]
    args += ["--phase", "val", "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(main, [*args, "--eval"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("warning: --eval after only")]
    assert len(lines) == 1
    quiet = CliRunner().invoke(main, args)  # the default mode: no warning
    assert quiet.exit_code == 0 and "warning:" not in quiet.output
