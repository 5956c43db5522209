"""The ``yieldkit`` command-line root.

The library does the work; command modules in ``yieldkit/commands`` parse
options, call one library function and format the result. Packages above
``yieldkit`` in the import order (``firmware_map``, ``db``, ``burnin``)
register their command groups under the ``yieldkit.commands`` entry point,
so this root never imports them.

Exit codes: 0 success, 1 failure, 2 bad usage or bad input. Errors are one
line on stderr, never a traceback (set ``YIELDKIT_DEBUG=1`` to see one).
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import entry_points
from typing import Any

import click

from yieldkit import __version__
from yieldkit.errors import InputError

__all__ = ["main", "cli"]

_BUILTIN = {
    "design": "yieldkit.commands.design:design",
    "simulate": "yieldkit.commands.simulate:simulate",
    "sweep": "yieldkit.commands.simulate:sweep",
    "defects": "yieldkit.commands.defects:defects",
    "demo": "yieldkit.commands.demo:demo",
    "repair": "yieldkit.commands.repair:repair",
    "plan": "yieldkit.commands.plan:plan",
}


def _fail(message: str, code: int) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


class YieldkitGroup(click.Group):
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
        module = __import__(module_name, fromlist=[attr])
        return getattr(module, attr)

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
        except click.Abort:
            _fail("aborted", 1)
        except InputError as exc:
            _fail(str(exc), 2)
        except BrokenPipeError:
            sys.stderr.close()
            sys.exit(1)
        except OSError as exc:  # a path the user gave: missing folder, a directory, no permission
            where = exc.filename if exc.filename is not None else ""
            _fail(f"{where}: {exc.strerror or exc}" if where else f"{exc.strerror or exc}", 2)
        except MemoryError:
            _fail("out of memory: reduce the problem size (wafers, D0, bins)", 1)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:  # noqa: BLE001 - the CLI boundary: one line, never a traceback
            _fail(f"{type(exc).__name__}: {exc}", 1)
        sys.exit(result if isinstance(result, int) else 0)


@click.group(cls=YieldkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
