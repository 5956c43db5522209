"""``yieldkit design``: list presets and show a design's resolved parameters."""

from __future__ import annotations

import click

from yieldkit.cli.command import Group
from yieldkit.cli.options import format_options
from yieldkit.cli.output import emit
from yieldkit.design import list_presets, load_design

__all__ = ["design"]


@click.group(cls=Group)
def design() -> None:
    """Wafer designs: presets and TOML files."""


@design.command("show")
@click.argument("name_or_file", metavar="NAME|FILE")
@format_options
def show(name_or_file: str, fmt: str | None) -> None:
    """Print the resolved parameters of a preset or a design TOML file.

    \b
    Example:
      yieldkit design show wse --json
      yieldkit design show my_wafer.toml --table
    """
    emit(load_design(name_or_file).to_dict(), fmt)


@design.command("list")
@format_options
def list_(fmt: str | None) -> None:
    """List the shipped presets with their sizes.

    \b
    Example:
      yieldkit design list --table
    """
    rows = []
    for name in list_presets():
        d = load_design(name)
        rows.append({"name": name, "rows": d.rows, "cols": d.cols, "existing_sites": d.existing_sites,
                     "logical_rows": d.logical_rows, "logical_cols": d.logical_cols,
                     "scheme": d.scheme, "description": d.description})
    emit(rows, fmt)
