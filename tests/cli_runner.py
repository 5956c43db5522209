"""Running the ``yieldkit`` command line in-process, as the CLI tests do."""

from __future__ import annotations

import os

from click.testing import CliRunner, Result

from yieldkit.cli import cli


def run(*args: str | os.PathLike[str], input: str | bytes | None = None,  # noqa: A002 - click's name
        env: dict[str, str] | None = None) -> Result:
    """``yieldkit ARGS...`` through click's test runner (stdout and stderr kept apart)."""
    return CliRunner().invoke(cli, [os.fspath(a) for a in args], input=input, env=env, prog_name="yieldkit")


def one_error_line(result: Result) -> str:
    """The single stderr line of a failed command (no traceback, no blank line)."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]
