"""The ``yieldkit`` root command: finds the sub-commands and turns errors into exit codes.

The library does the work; each command module of :mod:`yieldkit.cli`
parses options, calls the library and prints the result. Packages above
``yieldkit`` in the import order (``firmware_map``, ``db``, ``burnin``)
register their command groups under the ``yieldkit.commands`` entry point,
so this root never imports them.

Exit codes: 0 success; 1 the job failed (:class:`~yieldkit.errors.Failure`,
a file that could not be written, an I/O error, out of memory); 2 bad usage
or bad input (:class:`~yieldkit.errors.InputError`, click's usage errors);
130 interrupted (Ctrl-C). Errors are one line on stderr, never a
traceback (set ``YIELDKIT_DEBUG=1`` to see one).
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any, NoReturn

import click

from yieldkit import __version__
from yieldkit.cli.command import Group
from yieldkit.errors import Failure, InputError

__all__ = ["cli", "main"]

_BUILTIN = {
    "design": "yieldkit.cli.design:design",
    "simulate": "yieldkit.cli.simulate:simulate",
    "sweep": "yieldkit.cli.sweep:sweep",
    "defects": "yieldkit.cli.defects:defects",
    "demo": "yieldkit.cli.demo:demo",
    "repair": "yieldkit.cli.repair:repair",
    "plan": "yieldkit.cli.plan:plan",
    "calibrate": "yieldkit.cli.calibrate:calibrate",
    "reliability": "yieldkit.cli.reliability:reliability",
}

EXIT_INTERRUPTED = 130


class Interrupted(Exception):
    """Ctrl-C during a command (click would print a blank line and exit 1)."""


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


class RootGroup(Group):
    """Root group: lazy sub-commands and one-line errors with fixed exit codes."""

    def _registry(self) -> dict[str, str]:
        found = dict(_BUILTIN)
        for ep in entry_points(group="yieldkit.commands"):
            found[ep.name] = ep.value
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._registry()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        target = self._registry().get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(import_module(module_name), attr)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted from None
        except SystemError as exc:  # Ctrl-C inside a compiled (numba) loop arrives wrapped
            if _caused_by_interrupt(exc):
                raise Interrupted from None
            raise

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if os.environ.get("YIELDKIT_DEBUG"):
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            result = super().main(args, prog_name or "yieldkit", complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
            sys.exit(0)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            _fail(exc.format_message() + hint, 2)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except Interrupted:
            _fail("interrupted", EXIT_INTERRUPTED)
        except click.Abort:
            _fail("aborted", 1)
        except InputError as exc:
            _fail(str(exc), 2)
        except Failure as exc:
            _fail(str(exc), 1)
        except MemoryError:
            _fail("out of memory: reduce the problem size (wafers, D0, bins)", 1)
        except OSError as exc:  # not a path the user gave (those are checked before the work): I/O, network
            where = f"{exc.filename}: " if exc.filename is not None else ""
            _fail(f"{where}{exc.strerror or exc}", 1)
        except Exception as exc:  # noqa: BLE001 - the CLI boundary: one line, never a traceback
            _fail(f"{type(exc).__name__}: {exc} (YIELDKIT_DEBUG=1 shows the traceback)", 1)
        sys.exit(result if isinstance(result, int) else 0)


def _caused_by_interrupt(exc: BaseException) -> bool:
    """True when a KeyboardInterrupt is in the exception's cause or context chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="yieldkit")
def cli() -> None:
    """Yield and reliability of wafer-scale processors.

    \b
    Example:
      yieldkit demo
      yieldkit simulate --design wse --d0 0.1 --alpha 2 --wafers 100000 --seed 7 --json
    """


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="yieldkit")
