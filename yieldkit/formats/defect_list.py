"""Plain defect lists: CSV or Parquet tables of defect positions.

Columns (a header row names them, in any order):

``wafer`` (required)
    Wafer id (text).
``x_mm``, ``y_mm`` (required)
    Defect centre [mm], wafer centre at the origin, x right, y up, notch down.
``size_um`` (optional)
    Defect diameter [um]; empty = unknown.
``class`` (optional)
    Integer defect class; empty = unknown.
``lot`` (optional)
    Lot id.

Any other column is an error (a misspelt ``size_um`` must not be silently
ignored). Files are read row by row (CSV) or by the Parquet reader; a bad
value raises :class:`~yieldkit.errors.InputError` naming the file, the line
(CSV, header = line 1) and what was expected.

Examples
--------
>>> import tempfile, os
>>> from yieldkit.formats.inspection import InspectionDefects
>>> d = InspectionDefects.from_arrays(["W1", "W2"], [1.0, -2.5], [0.0, 3.0], size_um=[0.7, float("nan")])
>>> path = os.path.join(tempfile.mkdtemp(), "defects.csv")
>>> write_defect_list(d, path)
>>> read_defect_list(path)
InspectionDefects(2 wafers, 2 defects)
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np

from yieldkit.errors import InputError
from yieldkit.formats.inspection import InspectionDefects, WaferInfo
from yieldkit.outputs import atomic_path, atomic_write

__all__ = ["read_defect_list", "write_defect_list"]

_REQUIRED = ("wafer", "x_mm", "y_mm")
_OPTIONAL = ("size_um", "class", "lot")


def _is_parquet(path: str | os.PathLike[str], fmt: str | None) -> bool:
    if fmt is not None:
        if fmt not in ("csv", "parquet"):
            raise InputError(f"must be csv or parquet, got {fmt!r}", parameter="fmt")
        return fmt == "parquet"
    return Path(path).suffix.lower() in (".parquet", ".pq")


def _check_header(names: list[str], source: str) -> None:
    for name in names:
        if name not in _REQUIRED + _OPTIONAL:
            raise InputError(f"{source}:1: unknown column {name!r}; expected {', '.join(_REQUIRED + _OPTIONAL)}")
    missing = [k for k in _REQUIRED if k not in names]
    if missing:
        raise InputError(f"{source}:1: missing column(s) {', '.join(missing)}")
    if len(set(names)) != len(names):
        raise InputError(f"{source}:1: a column is named twice")


def _build(rows: dict[str, list], source: str) -> InspectionDefects:
    keys: dict[tuple[str, str], int] = {}
    index = []
    for lot, wafer in zip(rows["lot"], rows["wafer"]):
        index.append(keys.setdefault((lot, wafer), len(keys)))
    wafers = tuple(WaferInfo(w, lot, source) for (lot, w) in keys)
    return InspectionDefects(wafers, np.array(index, np.int64), rows["x_mm"], rows["y_mm"],
                             rows["size_um"], rows["class"])


def read_defect_list(path: str | os.PathLike[str], fmt: str | None = None) -> InspectionDefects:
    """Read a CSV or Parquet defect list (format from the suffix unless ``fmt``).

    Parameters
    ----------
    path : str or path-like
        The file; ``.parquet``/``.pq`` is Parquet, anything else CSV.
    fmt : {"csv", "parquet"}, optional
        Force the format.

    Returns
    -------
    InspectionDefects

    Raises
    ------
    InputError
        Unreadable file, unknown or missing column, bad value (with the line).
    """
    source = os.fspath(path)
    rows: dict[str, list] = {k: [] for k in _REQUIRED + _OPTIONAL}
    if _is_parquet(path, fmt):
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(source)
        except (OSError, ValueError) as exc:
            raise InputError(f"{source}: cannot read as Parquet ({exc})") from None
        _check_header(list(table.column_names), source)
        cols = {name: table.column(name).to_pylist() for name in table.column_names}
        n = table.num_rows
        for i in range(n):
            _add_row(rows, {k: cols[k][i] for k in cols}, f"{source}: row {i + 1}")
        return _build(rows, source)
    try:
        handle = open(source, newline="", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{source}: cannot read ({exc})") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            if header is None:
                raise InputError(f"{source}:1: empty file; expected a header row {','.join(_REQUIRED)}")
            header = [h.strip() for h in header]
            _check_header(header, source)
            for record in reader:
                if not record or all(not v.strip() for v in record):
                    continue
                where = f"{source}:{reader.line_num}"
                if len(record) != len(header):
                    raise InputError(f"{where}: expected {len(header)} fields, got {len(record)}")
                _add_row(rows, dict(zip(header, record)), where)
        except UnicodeDecodeError as exc:
            raise InputError(f"{source}: not UTF-8 text ({exc})") from None
        except csv.Error as exc:
            raise InputError(f"{source}:{reader.line_num}: malformed CSV ({exc})") from None
    return _build(rows, source)


def _number(value: object, kind: type, where: str, name: str, optional: bool) -> float | int | None:
    if value is None or (isinstance(value, str) and not value.strip()) or (
            isinstance(value, float) and math.isnan(value)):
        if optional:
            return None
        raise InputError(f"{where}: expected a number in column {name}, got nothing")
    try:
        number = kind(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise InputError(f"{where}: expected {'an integer' if kind is int else 'a number'} in column {name}, "
                         f"got {value!r}") from None
    if not math.isfinite(number):
        raise InputError(f"{where}: expected a finite number in column {name}, got {value!r}")
    return number


def _add_row(rows: dict[str, list], record: dict[str, object], where: str) -> None:
    wafer = record["wafer"]
    if wafer is None or not str(wafer).strip():
        raise InputError(f"{where}: expected a wafer id, got nothing")
    rows["wafer"].append(str(wafer).strip())
    rows["lot"].append(str(record.get("lot") or "").strip())
    rows["x_mm"].append(_number(record["x_mm"], float, where, "x_mm", False))
    rows["y_mm"].append(_number(record["y_mm"], float, where, "y_mm", False))
    size = _number(record.get("size_um"), float, where, "size_um", True)
    if size is not None and size < 0:
        raise InputError(f"{where}: expected size_um >= 0, got {size!r}")
    rows["size_um"].append(math.nan if size is None else size)
    cls = _number(record.get("class"), int, where, "class", True)
    rows["class"].append(-1 if cls is None else cls)


def write_defect_list(defects: InspectionDefects, path: str | os.PathLike[str], fmt: str | None = None) -> None:
    """Write ``defects`` as a CSV or Parquet list (atomically; see :mod:`yieldkit.outputs`).

    Unknown sizes and classes are written empty (CSV) or null (Parquet); the
    full precision of the positions is kept (``repr`` of the floats).
    """
    wafer = [defects.wafers[i].wafer_id for i in defects.wafer_index]
    lot = [defects.wafers[i].lot_id for i in defects.wafer_index]
    if _is_parquet(path, fmt):
        import pyarrow as pa
        import pyarrow.parquet as pq

        size = [None if math.isnan(s) else float(s) for s in defects.size_um]
        cls = [None if c < 0 else int(c) for c in defects.class_number]
        table = pa.table({"lot": lot, "wafer": wafer, "x_mm": defects.x_mm, "y_mm": defects.y_mm,
                          "size_um": pa.array(size, pa.float64()), "class": pa.array(cls, pa.int64())})
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)
        return
    with atomic_write(path, "w") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["lot", "wafer", "x_mm", "y_mm", "size_um", "class"])
        for i in range(defects.n_defects):
            s, c = defects.size_um[i], defects.class_number[i]
            writer.writerow([lot[i], wafer[i], repr(float(defects.x_mm[i])), repr(float(defects.y_mm[i])),
                             "" if math.isnan(s) else repr(float(s)), "" if c < 0 else int(c)])
