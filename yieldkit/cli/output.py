"""Printing results: JSON, CSV or a readable table, in the manner of sqlite-utils.

JSON is the default when stdout is not a terminal, a table when it is.
JSON and CSV carry every field; a table may show only the columns a person
needs at a terminal (``table_columns``) and says how many it left out.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click
import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["emit", "resolve_format"]

Records = "Mapping[str, Any] | Sequence[Mapping[str, Any]] | pd.DataFrame"


def _is_frame(records: Any) -> bool:
    """Whether ``records`` is a DataFrame, without importing pandas (slow) when nothing has."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(records, pandas.DataFrame)


def _plain(value: Any) -> Any:
    """JSON-safe values: numpy numbers to Python, NaN/inf to None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    return value


def resolve_format(fmt: str | None) -> str:
    """The format to print: ``fmt`` as chosen, else a table on a terminal and JSON otherwise.

    Examples
    --------
    >>> resolve_format("csv")
    'csv'
    """
    if fmt is not None:
        return fmt
    return "table" if sys.stdout.isatty() else "json"


def emit(records: Records, fmt: str | None, *, table_columns: Sequence[str] | None = None) -> None:
    """Print one record (a mapping), a list of records or a DataFrame in the chosen format.

    Parameters
    ----------
    records : mapping, sequence of mappings or DataFrame
        What to print. A DataFrame keeps its columns even when it has no
        rows, so an empty result still prints its CSV header.
    fmt : {"json", "csv", "table"} or None
        None: a table on a terminal, JSON otherwise.
    table_columns : sequence of str, optional
        The columns a table shows, in this order (those present); JSON and CSV show all.

    Examples
    --------
    >>> import pandas as pd
    >>> emit(pd.DataFrame(columns=["fault_class", "count"]), "csv")
    fault_class,count
    >>> emit([{"a": 1, "b": 2.5}], "table", table_columns=["b"])
    b
    ---
    2.5
    (1 more column in --json or --csv: a)
    """
    fmt = resolve_format(fmt)
    single = isinstance(records, Mapping)
    if _is_frame(records):
        columns = [str(c) for c in records.columns]
        rows = [_plain(r) for r in records.to_dict(orient="records")]
    else:
        rows = [_plain(dict(r)) for r in ([records] if single else records)]
        columns = []
        for row in rows:
            columns.extend(k for k in row if k not in columns)
    if fmt == "json":
        click.echo(json.dumps(rows[0] if single else rows, indent=2))
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
    elif single:
        width = max((len(k) for k in columns), default=0)
        for key in columns:
            click.echo(f"{key:<{width}}  {_cell(rows[0].get(key))}")
    else:
        shown = [c for c in table_columns if c in columns] if table_columns is not None else columns
        _print_table(shown, rows)
        hidden = [c for c in columns if c not in shown]
        if hidden:
            many = "s" if len(hidden) > 1 else ""
            click.echo(f"({len(hidden)} more column{many} in --json or --csv: {', '.join(hidden)})")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _print_table(columns: list[str], rows: list[dict[str, Any]]) -> None:
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
