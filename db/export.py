"""Export one table to CSV (streamed in chunks) or Parquet (via pandas/pyarrow).

Blob columns (sparse id maps, images) become lower-case hex in CSV and binary
in Parquet. Writing to a file goes through ``FILE.partial`` and a rename, so
a failed export never leaves a truncated file under the real name.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import BinaryIO

import pandas as pd
from sqlalchemy import Engine, LargeBinary, select

from db.models import TABLES
from yieldkit.errors import InputError

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
    """Write ``table`` as ``fmt`` to ``output`` (a path, or a binary stream); return the row count."""
    _check(table, fmt)
    if not isinstance(output, (str, Path)):
        return _write(engine, table, fmt, output)
    path = Path(output)
    if not path.parent.is_dir():
        raise ExportError(f"cannot write {path}: directory {path.parent} does not exist")
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "wb") as fh:
            n = _write(engine, table, fmt, fh)
        os.replace(partial, path)
    except OSError as err:
        raise ExportError(f"cannot write {path}: {err.strerror or err}") from None
    finally:
        if partial.exists():
            partial.unlink()
    return n
