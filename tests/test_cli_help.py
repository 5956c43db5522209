"""Every command has help with an example and an entry in the README's CLI reference."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from yieldkit.cli import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    ctx = click.Context(group)
    paths = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, f"'{name}' is registered but cannot be loaded"
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, prefix + (name,)))
        else:
            paths.append(prefix + (name,))
    return paths


COMMANDS = command_paths(cli)


def test_the_commands_of_every_package_are_found() -> None:
    found = {path[0] for path in COMMANDS}
    assert {"design", "simulate", "sweep", "defects", "demo"} <= found


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_help_has_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"'yieldkit {' '.join(path)} --help' shows no example"


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_readme_documents_the_command(path: tuple[str, ...]) -> None:
    assert f"yieldkit {' '.join(path)}" in README, f"README has no entry for 'yieldkit {' '.join(path)}'"


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "yieldkit" in result.output


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    ctx = click.Context(cli)
    for name in path:
        assert isinstance(command, click.Group)
        command = command.get_command(ctx, name)
        ctx = click.Context(command, parent=ctx)
    return command


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_float_option_refuses_nan(path: tuple[str, ...]) -> None:
    from yieldkit.cli.types import Number

    for param in _command(path).params:
        if isinstance(param.type, click.types.FloatParamType):
            assert isinstance(param.type, Number), f"{' '.join(path)} {param.opts}: a float option that accepts NaN"


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_output_option_is_the_shared_one(path: tuple[str, ...]) -> None:
    opts = {opt: param for param in _command(path).params for opt in getattr(param, "opts", [])}
    if "--output" in opts or "--out" in opts:
        assert "-o" in opts and "--output" in opts and opts["--out"].hidden, f"{' '.join(path)}: -o/--output, hidden --out"
