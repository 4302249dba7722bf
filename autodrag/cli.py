"""The `autodrag` command line: one click group; each subsystem registers its own commands.

The group is the one error boundary (autodrag/errors.py): every command's user errors end as one line on
stderr with exit 2 (usage) or 1 (run failure); `--debug` or AUTODRAG_DEBUG=1 adds the traceback.
"""

from __future__ import annotations

from autodrag.errors import quiet_interrupts  # standard library only: quick to import

_quiet_start = quiet_interrupts()  # Ctrl-C from here until the commands are registered: one line, exit 130
_quiet_start.__enter__()

import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import traceback  # noqa: E402

import click  # noqa: E402

from autodrag.errors import EXIT_RUN, EXIT_USAGE, debug_enabled, describe  # noqa: E402
from autodrag.runtime import configure_process  # noqa: E402

__all__ = ["AutodragGroup", "main"]


def _fail(message: str, code: int, exc: BaseException | None = None) -> int:
    if exc is not None and debug_enabled():
        traceback.print_exception(exc, file=sys.stderr)
    click.echo(f"Error: {message}", err=True)
    return code


def _on_sigterm(signum, frame) -> None:  # a polite kill runs every `finally` (temp files, claims, staging)
    raise SystemExit(128 + signum)


class AutodragGroup(click.Group):
    """A click group whose `main` maps every known error to one line and an exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, _on_sigterm)
        debug_before = os.environ.get("AUTODRAG_DEBUG")
        try:
            code = self._run(args, prog_name, complete_var, **extra)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            if debug_before is None:
                os.environ.pop("AUTODRAG_DEBUG", None)
            else:
                os.environ["AUTODRAG_DEBUG"] = debug_before
        sys.stdout.flush()
        sys.exit(code)

    def _run(self, args, prog_name, complete_var, **extra) -> int:
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            return rv if isinstance(rv, int) and not isinstance(rv, bool) else 0
        except click.exceptions.Exit as exc:
            return exc.exit_code
        except click.UsageError as exc:
            hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
            return _fail(exc.format_message() + hint, EXIT_USAGE, exc)
        except click.ClickException as exc:
            return _fail(exc.format_message(), exc.exit_code, exc)
        except (click.Abort, KeyboardInterrupt) as exc:
            return _fail("interrupted", 130, exc)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_RUN)
        except Exception as exc:  # the boundary: user errors -> one line; bugs -> one line + --debug hint
            described = describe(exc)
            if described is not None:
                return _fail(*described, exc)
            if debug_enabled():
                return _fail(f"internal error: {type(exc).__name__}: {exc}", EXIT_RUN, exc)
            return _fail(
                f"internal error: {type(exc).__name__}: {exc} (run with `autodrag --debug ...` or "
                "AUTODRAG_DEBUG=1 for the traceback, and please report it)",
                EXIT_RUN,
            )


@click.group(cls=AutodragGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="autodrag")
@click.option("--debug", is_flag=True, help="Show tracebacks (same as AUTODRAG_DEBUG=1).")
def main(debug: bool) -> None:
    """AutoDrag: point-drag editing of StyleGAN faces, expression presets and pix2pix."""
    if debug:
        os.environ["AUTODRAG_DEBUG"] = "1"


def _register_subcommands() -> None:
    """Attach the commands each subsystem defines (kept in their own modules)."""
    from autodrag.demo import demo
    from autodrag.drag.cli import drag
    from autodrag.gui.cli import gui
    from autodrag.landmarks.cli import landmarks_command as landmarks
    from autodrag.networks.cli import convert, generate, info
    from autodrag.photos.cli import invert
    from autodrag.pix2pix.cli import pix2pix
    from autodrag.presets.cli import batch, edit
    from autodrag.toyfaces.cli import toyfaces
    from autodrag.web.cli import web

    for command in (
        generate,
        info,
        convert,
        drag,
        edit,
        batch,
        demo,
        gui,
        landmarks,
        toyfaces,
        pix2pix,
        web,
        invert,
    ):
        main.add_command(command)


configure_process()  # before the subsystems below import torch
try:
    _register_subcommands()  # the subsystems import torch and more: seconds in which Ctrl-C stays quiet
finally:
    _quiet_start.__exit__(None, None, None)

if __name__ == "__main__":  # `python -m autodrag.cli` (e.g. under torchrun)
    main()
