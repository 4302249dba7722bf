"""`pix2pix train`'s options, generated from `TrainConfig`'s fields so the CLI and the dataclass cannot drift.

Every leaf field of `TrainConfig` (nested dataclasses included) becomes one click option: its name
is the field name with dashes (or the historical flag in `_FLAGS`), its type and default come from
the field, its help from the field's trailing comment. Three options derive their default from
others (`--norm-d`, `--n-critic`, and the discriminator's init, which follows `--init`).
"""

from __future__ import annotations

import dataclasses
import inspect
import io
import tokenize
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from autodrag.pix2pix.config import D_PRECISIONS, LR_POLICIES, TrainConfig, dataclass_from_dict
from autodrag.pix2pix.images import parse_size
from autodrag.pix2pix.layers import INITS, NORMS
from autodrag.pix2pix.losses import GAN_MODES

__all__ = ["SIZE", "TRAIN_OPTIONS", "OptionSpec", "SizeType", "config_from_options", "train_options"]


class SizeType(click.ParamType):
    """``WIDTHxHEIGHT`` (or ``N`` for a square) -> ``(width, height)``."""

    name = "WxH"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        try:
            return parse_size(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


SIZE = SizeType()

# Flags whose name is not the field name (kept from the hand-written CLI so scripts keep working).
_FLAGS = {
    "generator.in_channels": "--input-nc",
    "generator.out_channels": "--output-nc",
    "discriminator.arch": "--netd",
    "discriminator.n_layers": "--n-layers-d",
    "discriminator.norm": "--norm-d",
    "data.dataroot": "--dataroot",
    "data.direction": "--direction",
    "data.any_aspect": "--any-aspect",
    "data.num_workers": "--num-workers",
    "data.jitter.load_size": "--load-size",
    "data.jitter.crop_size": "--crop-size",
    "data.jitter.flip": "--flip",
    "save_every_epochs": "--save-every",
    "log_every_steps": "--log-every",
}
# Fields with a fixed set of values.
_CHOICES: dict[str, tuple[str, ...]] = {
    "generator.arch": ("unet", "resnet"),
    "generator.in_channels": ("1", "3"),
    "generator.out_channels": ("1", "3"),
    "generator.norm": NORMS,
    "generator.init": INITS,
    "discriminator.arch": ("patch", "pixel"),
    "discriminator.norm": NORMS,
    "data.direction": ("AtoB", "BtoA"),
    "gan_mode": GAN_MODES,
    "lr_policy": LR_POLICIES,
    "d_precision": D_PRECISIONS,
}
# Options without a fixed default: None means "derive it" (see `config_from_options`).
_DERIVED_HELP = {
    "discriminator.norm": "[default: --norm; layer for wgangp]",
    "n_critic": "[default: 5 for wgangp, else 1]",
    "data.dataroot": "(required for a new run)",
}
# Fields that follow another option instead of having their own.
_FOLLOWS = {"discriminator.init": "generator.init", "discriminator.init_gain": "generator.init_gain"}
_HELP_EXTRA = {"generator.init": "(G and D)", "generator.init_gain": "(G and D)"}


@dataclass(frozen=True)
class OptionSpec:
    """One generated option: the dotted `TrainConfig` field it sets and how click parses it."""

    path: str  # dotted field path, e.g. "generator.ngf"
    flag: str  # e.g. "--ngf"
    hint: Any  # the field's type
    default: Any  # the field's default (None for derived options)
    help: str  # the field's comment

    @property
    def dest(self) -> str:
        """The click parameter name: the path with "__" for dots."""
        return self.path.replace(".", "__")


def field_comments(cls: type) -> dict[str, str]:
    """Trailing `# ...` comment of each field of a dataclass (read from its source)."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    comments: dict[str, str] = {}
    current: str | None = None
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if (
            tok.type == tokenize.NAME
            and tok.start[1] == 4
            and tok.string in {f.name for f in dataclasses.fields(cls)}
        ):
            current = tok.string
        elif tok.type == tokenize.COMMENT and current is not None and current not in comments:
            comments[current] = tok.string.lstrip("#").strip()
        elif tok.type == tokenize.NAME and tok.start[1] == 4 and tok.string == "def":
            current = None
    return comments


def _leaf_fields(cls: type, prefix: str = "") -> Iterator[tuple[str, Any, Any, str]]:
    hints = typing.get_type_hints(cls)
    comments = field_comments(cls)
    default = cls()
    for f in dataclasses.fields(cls):
        hint, value = hints[f.name], getattr(default, f.name)
        if dataclasses.is_dataclass(hint):
            yield from _leaf_fields(hint, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", hint, value, comments.get(f.name, "")


def _specs() -> tuple[OptionSpec, ...]:
    specs = []
    for path, hint, default, comment in _leaf_fields(TrainConfig):
        if path in _FOLLOWS:
            continue
        flag = _FLAGS.get(path, "--" + path.rpartition(".")[2].replace("_", "-"))
        if path in _DERIVED_HELP and path != "data.dataroot":
            default = None
        help_text = " ".join(
            x for x in (comment, _HELP_EXTRA.get(path, ""), _DERIVED_HELP.get(path, "")) if x
        )
        specs.append(OptionSpec(path, flag, hint, default, help_text))
    return tuple(specs)


TRAIN_OPTIONS: tuple[OptionSpec, ...] = _specs()


def _click_option(spec: OptionSpec) -> Callable:
    kwargs: dict[str, Any] = {"help": spec.help}
    if spec.path == "data.dataroot":
        return click.option(spec.flag, spec.dest, type=click.Path(file_okay=False, path_type=Path), **kwargs)
    if spec.hint is bool:
        if spec.default:  # a default-on switch gets its "--no-" twin
            return click.option(
                f"{spec.flag}/--no-{spec.flag[2:]}", spec.dest, default=True, show_default=True, **kwargs
            )
        return click.option(spec.flag, spec.dest, is_flag=True, **kwargs)
    if spec.path in _CHOICES:
        kwargs["type"] = click.Choice(list(_CHOICES[spec.path]))
        default = None if spec.default is None else str(spec.default)
    elif typing.get_origin(spec.hint) in (typing.Union, types.UnionType):
        kwargs["type"] = SIZE  # the only optional fields are the (width, height) jitter sizes
        default = spec.default
    else:
        kwargs["type"] = spec.hint
        default = spec.default
    return click.option(spec.flag, spec.dest, default=default, show_default=default is not None, **kwargs)


def train_options(func: Callable) -> Callable:
    """Decorate a click command with one option per `TrainConfig` field (in field order)."""
    for spec in reversed(TRAIN_OPTIONS):
        func = _click_option(spec)(func)
    return func


def config_from_options(opts: dict[str, Any]) -> TrainConfig:
    """The `TrainConfig` that the generated options (`opts`, keyed by `OptionSpec.dest`) describe."""
    values: dict[str, Any] = {spec.path: opts[spec.dest] for spec in TRAIN_OPTIONS}
    wgan = values["gan_mode"] == "wgangp"
    if values["discriminator.norm"] is None:
        values["discriminator.norm"] = "layer" if wgan else values["generator.norm"]
    if values["n_critic"] is None:
        values["n_critic"] = 5 if wgan else 1
    for path, source in _FOLLOWS.items():
        values[path] = values[source]
    for path in ("generator.in_channels", "generator.out_channels"):
        values[path] = int(values[path])
    values["data.dataroot"] = str(values["data.dataroot"])
    nested: dict[str, Any] = {}
    for path, value in values.items():
        *parents, leaf = path.split(".")
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return dataclass_from_dict(TrainConfig, nested)
