"""Shared pieces of every ``yieldkit`` command: output formats and progress.

Commands that print a table take ``--json`` (the default when stdout is not a
terminal), ``--csv`` or ``--table`` (the default on a terminal), in the manner
of sqlite-utils.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import click
import numpy as np

__all__ = ["output_options", "emit", "progress_enabled", "parse_float_list", "parse_int_list"]

F = TypeVar("F", bound=Callable[..., Any])


def output_options(func: F) -> F:
    """Add ``--json/--csv/--table`` (one destination ``fmt``) to a command."""
    for flag, value, text in (
        ("--table", "table", "Readable table (default on a terminal)."),
        ("--csv", "csv", "CSV with a header row."),
        ("--json", "json", "JSON (default when stdout is not a terminal)."),
    ):
        func = click.option(flag, "fmt", flag_value=value, help=text)(func)
    return func


def _plain(value: Any) -> Any:
    """JSON-safe scalars: numpy numbers to Python, NaN/inf to None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    return value


def emit(records: Mapping[str, Any] | Sequence[Mapping[str, Any]], fmt: str | None) -> None:
    """Print one record (a mapping) or a list of records in the chosen format."""
    if fmt is None:
        fmt = "table" if sys.stdout.isatty() else "json"
    single = isinstance(records, Mapping)
    rows = [records] if single else list(records)
    rows = [_plain(dict(r)) for r in rows]
    if fmt == "json":
        click.echo(json.dumps(rows[0] if single else rows, indent=2))
        return
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
        return
    if single:
        width = max((len(k) for k in columns), default=0)
        for key in columns:
            click.echo(f"{key:<{width}}  {_cell(rows[0].get(key))}")
        return
    _print_table(columns, rows)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _print_table(columns: list[str], rows: Iterable[Mapping[str, Any]]) -> None:
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    click.echo("  ".join("-" * w for w in widths))
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths)))


def progress_enabled(quiet: bool) -> bool:
    """A progress bar goes to stderr only when it is a terminal and not ``--quiet``."""
    return not quiet and sys.stderr.isatty()


def _parse_list(text: str, kind: type, name: str) -> list[Any]:
    try:
        values = [kind(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"expected a comma-separated list of {kind.__name__}s, got {text!r}", param_hint=name) from None
    if not values:
        raise click.BadParameter("empty list", param_hint=name)
    return values


def parse_float_list(text: str, name: str) -> list[float]:
    return _parse_list(text, float, name)


def parse_int_list(text: str, name: str) -> list[int]:
    return _parse_list(text, int, name)
