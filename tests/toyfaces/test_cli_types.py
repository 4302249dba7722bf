"""SeedRange (autodrag.cli_types) parsing and its errors, as the toyfaces commands use it."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from autodrag.cli_types import SeedRange


@click.command()
@click.option("--seeds", type=SeedRange(), default="0-1")
def _cmd(seeds):
    click.echo(repr(seeds))


@pytest.mark.parametrize(
    "text, seeds",
    [
        ("0-3", [0, 1, 2, 3]),
        ("0-2,120", [0, 1, 2, 120]),
        (" 5 , 7-8 ", [5, 7, 8]),
        ("4", [4]),
        ("3-3,1,3", [3, 1]),
    ],
)
def test_parse(text, seeds):
    result = CliRunner().invoke(_cmd, ["--seeds", text])
    assert result.exit_code == 0 and result.output.strip() == repr(seeds)


def test_default_is_parsed_too():
    assert CliRunner().invoke(_cmd, []).output.strip() == "[0, 1]"


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "is not a seed"),
        ("1,,2", "is not a seed"),
        ("a-3", "is not a seed"),
        ("1-2-3", "is not a seed"),
        ("-1", "is not a seed"),
        ("5-3", "below its start"),
        ("4294967296", "2**32"),
    ],
)
def test_errors(text, message):
    result = CliRunner().invoke(_cmd, ["--seeds", text])
    assert (
        result.exit_code == 2 and "Invalid value for '--seeds'" in result.output and message in result.output
    )
