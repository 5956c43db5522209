"""Export one table to CSV (streamed in chunks) or Parquet (via pandas/pyarrow).

Blob columns (sparse id maps, images) become lower-case hex in CSV and binary
in Parquet. A file is written through :func:`yieldkit.outputs.atomic_write`
(a temporary file in the same folder, renamed when complete), so a failed or
killed export leaves the previous file, or none, never a truncated one.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import BinaryIO

import pandas as pd
from sqlalchemy import Engine, LargeBinary, select

from db.models import TABLES
from yieldkit.errors import InputError
from yieldkit.outputs import atomic_write, check_output_path

__all__ = ["FORMATS", "ExportError", "export_table"]

FORMATS = ("csv", "parquet")
CHUNK_ROWS = 100_000


class ExportError(InputError):
    """Unknown table or format, or an unusable output path."""


def _check(table: str, fmt: str) -> None:
    if table not in TABLES:
        raise ExportError(f"unknown table {table!r}; expected one of {', '.join(TABLES)}")
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def _write(engine: Engine, table: str, fmt: str, out: BinaryIO) -> int:
    t = TABLES[table]
    stmt = select(t).order_by(*t.primary_key.columns)
    blobs = {c.name for c in t.columns if isinstance(c.type, LargeBinary)}
    n = 0
    with engine.connect() as conn:
        if fmt == "parquet":
            result = conn.execute(stmt)
            frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
            for name in blobs:
                frame[name] = [None if v is None else bytes(v) for v in frame[name]]
            frame.to_parquet(out, index=False)
            return len(frame)
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        try:
            writer = csv.writer(text, lineterminator="\n")
            result = conn.execution_options(yield_per=CHUNK_ROWS).execute(stmt)
            keys = list(result.keys())
            writer.writerow(keys)
            hex_at = [i for i, k in enumerate(keys) if k in blobs]
            for rows in result.partitions():
                if hex_at:
                    rows = [list(r) for r in rows]
                    for r in rows:
                        for i in hex_at:
                            r[i] = "" if r[i] is None else bytes(r[i]).hex()
                writer.writerows(rows)
                n += len(rows)
            text.flush()
        finally:
            text.detach()
    return n


def export_table(engine: Engine, table: str, fmt: str, output: str | Path | BinaryIO) -> int:
    """Write ``table`` as ``fmt`` to ``output``; return the number of rows.

    Parameters
    ----------
    engine : Engine
        The database (a read-only engine is enough).
    table : str
        One of :data:`db.models.TABLES`.
    fmt : {"csv", "parquet"}
        Output format.
    output : str, Path or binary stream
        A file, replaced only once complete (umask permissions), or a stream.

    Raises
    ------
    ExportError
        Unknown table or format.
    InputError
        The output's folder is missing or not writable (before any work).
    OutputError
        The file could not be written (e.g. a full disk); the old one is intact.

    Examples
    --------
    >>> import io
    >>> from db.engine import make_engine
    >>> from db.migrate import upgrade
    >>> engine = make_engine("sqlite://")
    >>> _ = upgrade(engine)
    >>> out = io.BytesIO()
    >>> export_table(engine, "lots", "csv", out), out.getvalue()
    (0, b'id,name,created_at,notes,params\\n')
    """
    _check(table, fmt)
    if not isinstance(output, (str, Path)):
        return _write(engine, table, fmt, output)
    path = check_output_path(output, "output")
    with atomic_write(path, "wb") as handle:
        return _write(engine, table, fmt, handle)
