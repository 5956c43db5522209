"""KLARF (KLA Results File) defect files, versions 1.2 and 1.8: a streaming reader and a 1.2 writer.

KLARF 1.2 is a sequence of statements ``Keyword value ... ;``; 1.8 nests the
same information in ``Record NAME "id" { ... }``, ``Field NAME n { v, ... }``
and ``List NAME { Columns n { type NAME, ... } Data m { row; ... } }``
blocks. Both are read line by line, one wafer at a time
(:func:`iter_klarf` yields each wafer as soon as its last defect is read), so
a file of many large wafers never sits in memory whole.

What is read
------------
``FileVersion`` / ``FileRecord`` (1.2 or 1.8), ``LotID`` / ``LotRecord``,
``WaferID`` / ``WaferRecord``, ``DiePitch``, ``DieOrigin``,
``SampleCenterLocation``, ``OrientationMarkLocation``, ``SampleTestPlan``,
``DefectRecordSpec`` + ``DefectList`` (1.2) or ``List DefectList`` (1.8) with
the columns ``XREL``, ``YREL``, ``XINDEX``, ``YINDEX`` (required) and
``DEFECTSIZE`` (else ``DSIZE``, else the larger of ``XSIZE``/``YSIZE``) and
``CLASSNUMBER`` (optional), and ``EndOfFile``. Every other record is skipped
(it must still be well formed). A value given at lot level holds for every
wafer of the lot unless the wafer gives its own.

Coordinates
-----------
All KLARF lengths are micrometres. A defect's position in the tool frame,
measured from the lower-left corner of die (0, 0), is
``index * DiePitch + DieOrigin + REL`` per axis; ``SampleCenterLocation`` is
the wafer centre in that same frame. The position in wafer coordinates is

.. math:: (x, y)_{mm} = R_{notch}\\,(\\mathrm{XINDEX}\\,p_x + o_x + \\mathrm{XREL} - c_x,\\;
          \\mathrm{YINDEX}\\,p_y + o_y + \\mathrm{YREL} - c_y) / 1000

where :math:`R_{notch}` rotates the tool frame so that the notch
(``OrientationMarkLocation`` ``DOWN``, ``UP``, ``LEFT``, ``RIGHT``; ``DOWN``
when absent) is at the bottom, the yieldkit convention.

Errors
------
Malformed input raises :class:`~yieldkit.errors.InputError` with
``FILE:LINE: expected ...``.

References
----------
.. [1] KLA-Tencor, *KLARF File Format Specification*, revisions 1.2 and 1.8
   (KLA Results File).

Examples
--------
>>> import tempfile, os
>>> from yieldkit.formats.inspection import InspectionDefects
>>> d = InspectionDefects.from_arrays(["W1", "W1"], [0.5, -20.25], [1.0, 30.0], size_um=[0.8, 3.0],
...                                   class_number=[1, 2], lot_id="LOT7")
>>> path = os.path.join(tempfile.mkdtemp(), "lot7.klarf")
>>> write_klarf(d, path, die_pitch_um=(10000.0, 12000.0))
>>> back = read_klarf(path)
>>> back, back.x_mm.round(6).tolist(), back.size_um.tolist()
(InspectionDefects(lot LOT7: 1 wafers, 2 defects), [0.5, -20.25], [0.8, 3.0])
"""

from __future__ import annotations

import math
import os
import re
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from yieldkit.errors import InputError
from yieldkit.formats.inspection import NOTCH_ROTATIONS, InspectionDefects, WaferInfo
from yieldkit.outputs import atomic_write

__all__ = ["KlarfError", "iter_klarf", "read_klarf", "write_klarf"]

_TOKEN = re.compile(r'"([^"]*)"|([{};,])|([^\s{};,"]+)')
_ROTATIONS = NOTCH_ROTATIONS


class KlarfError(InputError):
    """A KLARF file is malformed; the message is ``FILE:LINE: expected ...``."""


class _Tok(NamedTuple):
    text: str
    line: int
    quoted: bool = False


class _Tokens:
    """Tokens of a file, read line by line, with one token of look-ahead."""

    def __init__(self, handle: Any, source: str) -> None:
        self.source = source
        self._lines = enumerate(handle, start=1)
        self._pending: list[_Tok] = []
        self.line = 0

    def _fill(self) -> bool:
        while not self._pending:
            try:
                self.line, text = next(self._lines)
            except StopIteration:
                return False
            except UnicodeDecodeError as exc:
                raise KlarfError(f"{self.source}:{self.line + 1}: expected text, got undecodable bytes ({exc.reason})"
                                 ) from None
            if text.count('"') % 2:
                raise KlarfError(f"{self.source}:{self.line}: expected a closing '\"' on the same line")
            self._pending = [_Tok(m.group(1) if m.group(1) is not None else (m.group(2) or m.group(3)), self.line,
                                  m.group(1) is not None) for m in _TOKEN.finditer(text)]
            self._pending.reverse()
        return True

    def peek(self) -> _Tok | None:
        return self._pending[-1] if self._fill() else None

    def next(self, expected: str) -> _Tok:
        if not self._fill():
            raise KlarfError(f"{self.source}:{self.line}: expected {expected}, got the end of the file")
        return self._pending.pop()

    def error(self, tok: _Tok, expected: str) -> KlarfError:
        got = f'"{tok.text}"' if tok.quoted else repr(tok.text)
        return KlarfError(f"{self.source}:{tok.line}: expected {expected}, got {got}")

    def expect(self, text: str) -> _Tok:
        tok = self.next(repr(text))
        if tok.text != text or tok.quoted:
            raise self.error(tok, repr(text))
        return tok

    def number(self, expected: str, kind: type = float) -> float:
        tok = self.next(expected)
        return self.to_number(tok, expected, kind)

    def to_number(self, tok: _Tok, expected: str, kind: type = float) -> Any:
        try:
            value = kind(tok.text) if kind is float else int(tok.text)
        except ValueError:
            raise self.error(tok, expected) from None
        if kind is float and not math.isfinite(value):
            raise self.error(tok, expected)
        return value


@dataclass
class _Context:
    """Values in force for the wafer being read (lot-level values are copied into each wafer)."""

    lot_id: str = ""
    die_pitch: tuple[float, float] | None = None
    die_origin: tuple[float, float] = (0.0, 0.0)
    sample_center: tuple[float, float] | None = None
    orientation: str = "DOWN"
    columns: list[str] = field(default_factory=list)
    wafer_id: str = ""
    line: int = 0
    plan: list[tuple[int, int]] = field(default_factory=list)
    table: "_Table | None" = None

    def for_wafer(self, wafer_id: str, line: int) -> "_Context":
        return _Context(self.lot_id, self.die_pitch, self.die_origin, self.sample_center, self.orientation,
                        list(self.columns), wafer_id, line)


_DEFECT_COLUMNS = {"XREL": "d", "YREL": "d", "XINDEX": "q", "YINDEX": "q", "DEFECTSIZE": "d", "DSIZE": "d",
                   "XSIZE": "d", "YSIZE": "d", "CLASSNUMBER": "q"}
_PLAN_COLUMNS = {"XINDEX": "q", "YINDEX": "q"}
_SIZE_COLUMNS = ("DEFECTSIZE", "DSIZE", "XSIZE", "YSIZE")


class _Table:
    """Rows of a defect list or sample plan, converted as they are read.

    Only the columns yieldkit uses are kept, as compact numeric arrays (8
    bytes a value), so a wafer of millions of defects is not held as text.
    """

    def __init__(self, columns: list[str], wanted: dict[str, str], tokens: _Tokens) -> None:
        self.columns = columns
        self.tokens = tokens
        self.keep = [(i, name, wanted[name]) for i, name in enumerate(columns) if name in wanted]
        self.data = {name: array(kind) for _, name, kind in self.keep}
        self.n = 0

    def add(self, row: list[_Tok]) -> None:
        for i, name, kind in self.keep:
            tok = row[i]
            value = self.tokens.to_number(tok, f"{'an integer' if kind == 'q' else 'a number'} in column {name}",
                                          int if kind == "q" else float)
            if value < 0 and name in _SIZE_COLUMNS:
                raise self.tokens.error(tok, f"a size >= 0 in column {name}")
            self.data[name].append(value)
        self.n += 1

    def column(self, name: str) -> np.ndarray:
        return np.frombuffer(self.data[name], dtype=np.int64 if self.data[name].typecode == "q" else float
                             ).astype(float) if self.n else np.zeros(0)


def _size_column(columns: list[str]) -> list[str]:
    for name in ("DEFECTSIZE", "DSIZE"):
        if name in columns:
            return [name]
    return [c for c in ("XSIZE", "YSIZE") if c in columns]


def _finish(ctx: _Context, tokens: _Tokens) -> InspectionDefects:
    """The wafer read into ``ctx`` as wafer-centre positions."""
    where = f"{tokens.source}:{ctx.line}"
    table = ctx.table
    n = 0 if table is None else table.n
    if n:
        assert table is not None
        if ctx.die_pitch is None:
            raise KlarfError(f"{where}: expected DiePitch before the defects of wafer {ctx.wafer_id!r}")
        if ctx.sample_center is None:
            raise KlarfError(f"{where}: expected SampleCenterLocation for wafer {ctx.wafer_id!r}")
        missing = [c for c in ("XREL", "YREL", "XINDEX", "YINDEX") if c not in table.columns]
        if missing:
            raise KlarfError(f"{where}: expected defect columns XREL YREL XINDEX YINDEX, missing {' '.join(missing)}")
        tx = table.column("XINDEX") * ctx.die_pitch[0] + ctx.die_origin[0] + table.column("XREL") - ctx.sample_center[0]
        ty = table.column("YINDEX") * ctx.die_pitch[1] + ctx.die_origin[1] + table.column("YREL") - ctx.sample_center[1]
        sized = _size_column(table.columns)
        size = np.max([table.column(c) for c in sized], axis=0) if sized else np.full(n, np.nan)
        cls = table.column("CLASSNUMBER").astype(np.int64) if "CLASSNUMBER" in table.columns else np.full(n, -1)
    else:
        tx = ty = size = np.zeros(0)
        cls = np.zeros(0, np.int64)
    a, b, c, d = _ROTATIONS[ctx.orientation]
    x_mm, y_mm = (a * tx + b * ty) / 1000.0, (c * tx + d * ty) / 1000.0
    info = WaferInfo(ctx.wafer_id, ctx.lot_id, where, ctx.die_pitch, tuple(ctx.plan), ctx.orientation,
                     ctx.sample_center)
    return InspectionDefects((info,), np.zeros(n, np.int64), x_mm, y_mm, size, cls)


def _orientation(tok: _Tok, tokens: _Tokens) -> str:
    value = tok.text.upper()
    if value not in _ROTATIONS:
        raise tokens.error(tok, "OrientationMarkLocation UP, DOWN, LEFT or RIGHT")
    return value


# -- KLARF 1.2 -------------------------------------------------------------------------------

def _statement(tokens: _Tokens, keyword: _Tok) -> list[_Tok]:
    """The values of a 1.2 statement up to its ';'."""
    values: list[_Tok] = []
    while True:
        tok = tokens.next(f"';' ending {keyword.text} (line {keyword.line})")
        if tok.text == ";" and not tok.quoted:
            return values
        if tok.text in "{}" and not tok.quoted:
            raise tokens.error(tok, f"a value or ';' in {keyword.text}")
        if tok.text != "," or tok.quoted:
            values.append(tok)


def _pair(tokens: _Tokens, keyword: _Tok, values: list[_Tok]) -> tuple[float, float]:
    if len(values) != 2:
        raise KlarfError(f"{tokens.source}:{keyword.line}: expected 2 numbers after {keyword.text}, got {len(values)}")
    return (tokens.to_number(values[0], f"a number in {keyword.text}"),
            tokens.to_number(values[1], f"a number in {keyword.text}"))


def _count_list(tokens: _Tokens, keyword: _Tok, values: list[_Tok], width: int) -> list[list[_Tok]]:
    """``n v11 .. v1w v21 ...``: n rows of ``width`` values."""
    if not values:
        raise KlarfError(f"{tokens.source}:{keyword.line}: expected a count after {keyword.text}")
    n = tokens.to_number(values[0], f"a count after {keyword.text}", int)
    if len(values) - 1 != n * width:
        raise KlarfError(f"{tokens.source}:{keyword.line}: expected {n} x {width} values in {keyword.text}, "
                         f"got {len(values) - 1}")
    return [values[1 + i * width:1 + (i + 1) * width] for i in range(n)]


def _iter_12(tokens: _Tokens) -> Iterator[InspectionDefects]:
    lot = _Context()
    wafer: _Context | None = None
    while True:
        keyword = tokens.next("a KLARF 1.2 record or EndOfFile")
        if keyword.quoted or keyword.text in "{};,":
            raise tokens.error(keyword, "a KLARF 1.2 record name")
        name = keyword.text
        if name == "EndOfFile":
            _statement(tokens, keyword)
            if wafer is not None:
                yield _finish(wafer, tokens)
            extra = tokens.peek()
            if extra is not None:
                raise tokens.error(extra, "nothing after EndOfFile")
            return
        if name == "DefectList":
            if wafer is None:
                raise KlarfError(f"{tokens.source}:{keyword.line}: expected WaferID before DefectList")
            if not wafer.columns:
                raise KlarfError(f"{tokens.source}:{keyword.line}: expected DefectRecordSpec before DefectList")
            wafer.table = _defect_list_12(tokens, keyword, wafer.columns)
            continue
        values = _statement(tokens, keyword)
        ctx = wafer if wafer is not None else lot
        if name == "LotID":
            if wafer is not None:
                yield _finish(wafer, tokens)
                wafer = None
            lot = lot.for_wafer("", keyword.line)
            lot.lot_id = values[0].text if values else ""
        elif name == "WaferID":
            if len(values) != 1:
                raise KlarfError(f"{tokens.source}:{keyword.line}: expected one wafer id after WaferID")
            if wafer is not None:
                yield _finish(wafer, tokens)
            wafer = lot.for_wafer(values[0].text, keyword.line)
        elif name == "DiePitch":
            ctx.die_pitch = _pair(tokens, keyword, values)
            if min(ctx.die_pitch) <= 0:
                raise KlarfError(f"{tokens.source}:{keyword.line}: expected a positive DiePitch")
        elif name == "DieOrigin":
            ctx.die_origin = _pair(tokens, keyword, values)
        elif name == "SampleCenterLocation":
            ctx.sample_center = _pair(tokens, keyword, values)
        elif name == "OrientationMarkLocation":
            if len(values) != 1:
                raise KlarfError(f"{tokens.source}:{keyword.line}: expected one value after OrientationMarkLocation")
            ctx.orientation = _orientation(values[0], tokens)
        elif name == "SampleTestPlan":
            ctx.plan = [(tokens.to_number(a, "a die index", int), tokens.to_number(b, "a die index", int))
                        for a, b in _count_list(tokens, keyword, values, 2)]
        elif name == "DefectRecordSpec":
            ctx.columns = [v.text.upper() for row in _count_list(tokens, keyword, values, 1) for v in row]


def _defect_list_12(tokens: _Tokens, keyword: _Tok, columns: list[str]) -> _Table:
    """The rows of a 1.2 ``DefectList``, ``len(columns)`` values each, up to its ';'."""
    table = _Table(columns, _DEFECT_COLUMNS, tokens)
    width = len(columns)
    row: list[_Tok] = []
    while True:
        tok = tokens.next(f"';' ending DefectList (line {keyword.line})")
        if not tok.quoted and tok.text == ";":
            break
        if not tok.quoted and tok.text in "{},":
            raise tokens.error(tok, "a defect value or ';'")
        row.append(tok)
        if len(row) == width:
            table.add(row)
            row = []
    if row:
        raise KlarfError(f"{tokens.source}:{tok.line}: expected rows of {width} values in DefectList "
                         f"(DefectRecordSpec), the last row has {len(row)}")
    return table


# -- KLARF 1.8 -------------------------------------------------------------------------------

def _skip_braces(tokens: _Tokens, opening: _Tok) -> list[_Tok]:
    """Tokens up to the '}' matching an already read '{' (nested braces allowed)."""
    depth, out = 1, []
    while True:
        tok = tokens.next(f"'}}' closing the '{{' of line {opening.line}")
        if not tok.quoted and tok.text == "{":
            depth += 1
        elif not tok.quoted and tok.text == "}":
            depth -= 1
            if depth == 0:
                return out
        out.append(tok)


def _field(tokens: _Tokens) -> tuple[_Tok, list[_Tok]]:
    name = tokens.next("a field name")
    count = tokens.number(f"the value count of Field {name.text}", int)
    opening = tokens.expect("{")
    values = [t for t in _skip_braces(tokens, opening) if t.quoted or t.text != ","]
    if len(values) != count:
        raise KlarfError(f"{tokens.source}:{name.line}: expected {count} values in Field {name.text}, "
                         f"got {len(values)}")
    return name, values


def _list(tokens: _Tokens) -> tuple[_Tok, _Table]:
    name = tokens.next("a list name")
    tokens.expect("{")
    tokens.expect("Columns")
    ncols = tokens.number("the column count", int)
    tokens.expect("{")
    columns: list[str] = []
    while True:
        tok = tokens.next("a column 'type NAME' or '}'")
        if tok.text == "}" and not tok.quoted:
            break
        if tok.text == ",":
            continue
        col = tokens.next("a column name")
        if col.quoted or col.text in "{};,":
            raise tokens.error(col, "a column name after its type")
        columns.append(col.text.upper())
    if len(columns) != ncols:
        raise KlarfError(f"{tokens.source}:{name.line}: expected {ncols} columns in List {name.text}, got {len(columns)}")
    data = tokens.expect("Data")
    nrows = tokens.number("the row count", int)
    tokens.expect("{")
    wanted = {"DefectList": _DEFECT_COLUMNS, "SampleTestPlan": _PLAN_COLUMNS}.get(name.text, {})
    table = _Table(columns, wanted, tokens)
    row: list[_Tok] = []
    while True:
        tok = tokens.next(f"a row of List {name.text} or '}}'")
        if tok.text == "}" and not tok.quoted:
            break
        if tok.text == ";" and not tok.quoted:
            if len(row) != ncols:
                raise KlarfError(f"{tokens.source}:{tok.line}: expected {ncols} values in a row of List {name.text}, "
                                 f"got {len(row)}")
            table.add(row)
            row = []
        elif tok.quoted or tok.text != ",":
            row.append(tok)
    if row:
        raise KlarfError(f"{tokens.source}:{row[-1].line}: expected ';' ending a row of List {name.text}")
    if table.n != nrows:
        raise KlarfError(f"{tokens.source}:{data.line}: expected {nrows} rows in List {name.text}, got {table.n}")
    tokens.expect("}")
    return name, table


def _record_body(tokens: _Tokens, ctx: _Context, kind: str) -> Iterator[InspectionDefects]:
    """Items of a record up to its '}'; wafers found inside are yielded."""
    while True:
        tok = tokens.next("Record, Field, List or '}'")
        if tok.text == "}" and not tok.quoted:
            return
        if tok.quoted:
            raise tokens.error(tok, "Record, Field, List or '}'")
        if tok.text == "Record":
            name = tokens.next("a record name")
            ident = tokens.next(f"the id of Record {name.text}")
            tokens.expect("{")
            if name.text == "LotRecord":
                lot = ctx.for_wafer("", name.line)
                lot.lot_id = ident.text
                yield from _record_body(tokens, lot, "lot")
            elif name.text == "WaferRecord":
                wafer = ctx.for_wafer(ident.text, name.line)
                yield from _record_body(tokens, wafer, "wafer")
                yield _finish(wafer, tokens)
            else:
                yield from _record_body(tokens, _Context(), "other")
        elif tok.text == "Field":
            name, values = _field(tokens)
            if kind == "other":
                continue
            if name.text == "DiePitch":
                ctx.die_pitch = _pair(tokens, name, values)
                if min(ctx.die_pitch) <= 0:
                    raise KlarfError(f"{tokens.source}:{name.line}: expected a positive DiePitch")
            elif name.text == "DieOrigin":
                ctx.die_origin = _pair(tokens, name, values)
            elif name.text == "SampleCenterLocation":
                ctx.sample_center = _pair(tokens, name, values)
            elif name.text == "OrientationMarkLocation":
                if len(values) != 1:
                    raise KlarfError(f"{tokens.source}:{name.line}: expected one value in OrientationMarkLocation")
                ctx.orientation = _orientation(values[0], tokens)
        elif tok.text == "List":
            name, table = _list(tokens)
            if kind != "wafer":
                continue
            if name.text == "DefectList":
                ctx.columns, ctx.table = table.columns, table
            elif name.text == "SampleTestPlan":
                if "XINDEX" not in table.columns or "YINDEX" not in table.columns:
                    raise KlarfError(f"{tokens.source}:{name.line}: expected XINDEX and YINDEX columns in SampleTestPlan")
                ctx.plan = list(zip(table.column("XINDEX").astype(int).tolist(),
                                    table.column("YINDEX").astype(int).tolist()))
        else:
            raise tokens.error(tok, "Record, Field, List or '}'")


def _iter_18(tokens: _Tokens) -> Iterator[InspectionDefects]:
    tokens.expect("Record")
    tokens.expect("FileRecord")
    version = tokens.next("the file version")
    if version.text != "1.8":
        raise tokens.error(version, 'file version "1.8"')
    tokens.expect("{")
    yield from _record_body(tokens, _Context(), "file")
    extra = tokens.peek()
    if extra is not None and extra.text != "EndOfFile":
        raise tokens.error(extra, "EndOfFile after the FileRecord")
    if extra is not None:
        tokens.next("EndOfFile")
        if tokens.peek() is not None and tokens.peek().text == ";":  # type: ignore[union-attr]
            tokens.next("';'")
    if tokens.peek() is not None:
        raise tokens.error(tokens.peek(), "nothing after the FileRecord")  # type: ignore[arg-type]


# -- public ----------------------------------------------------------------------------------

def iter_klarf(path: str | os.PathLike[str]) -> Iterator[InspectionDefects]:
    """Read a KLARF 1.2 or 1.8 file one wafer at a time.

    Parameters
    ----------
    path : str or path-like
        The KLARF file (text).

    Yields
    ------
    InspectionDefects
        One wafer each, in file order, positions in wafer-centre mm (module docstring).

    Raises
    ------
    KlarfError
        ``FILE:LINE: expected ...`` for malformed input (an InputError, exit 2).
    """
    source = os.fspath(path)
    try:
        handle = open(source, encoding="utf-8", errors="strict")
    except OSError as exc:
        raise KlarfError(f"{source}: cannot read ({exc.strerror or exc})") from None
    with handle:
        tokens = _Tokens(handle, source)
        first = tokens.peek()
        if first is None:
            raise KlarfError(f"{source}:1: expected FileVersion (KLARF 1.2) or Record FileRecord (1.8), got an empty file")
        if first.text == "FileVersion" and not first.quoted:
            keyword = tokens.next("FileVersion")
            version = [v.text for v in _statement(tokens, keyword)]
            if version != ["1", "2"]:
                raise KlarfError(f"{source}:{keyword.line}: expected FileVersion 1 2, got {' '.join(version)}")
            yield from _iter_12(tokens)
        elif first.text == "Record" and not first.quoted:
            yield from _iter_18(tokens)
        else:
            raise tokens.error(first, "FileVersion (KLARF 1.2) or Record FileRecord (KLARF 1.8)")


def read_klarf(path: str | os.PathLike[str], wafer: str | None = None) -> InspectionDefects:
    """All wafers of a KLARF file (or only wafer ``wafer``), see :func:`iter_klarf`.

    Raises
    ------
    KlarfError
        Malformed file; InputError when ``wafer`` is not in the file.
    """
    parts = []
    for one in iter_klarf(path):
        if wafer is None or one.wafers[0].wafer_id == wafer:
            parts.append(one)
    if wafer is not None and not parts:
        raise InputError(f"{os.fspath(path)}: no wafer {wafer!r}", parameter="wafer")
    return InspectionDefects.concat(parts)


def _num(value: float) -> str:
    return repr(float(value))


def write_klarf(defects: InspectionDefects, path: str | os.PathLike[str], *,
                die_pitch_um: tuple[float, float] = (10000.0, 10000.0),
                die_origin_um: tuple[float, float] = (0.0, 0.0),
                sample_center_um: tuple[float, float] = (150000.0, 150000.0),
                sample_plan: Sequence[tuple[int, int]] | None = None, wafer_diameter_mm: float = 300.0) -> None:
    """Write ``defects`` as a KLARF 1.2 file (atomically), one ``WaferID`` block per wafer.

    Each defect is given as die index + position relative to the die origin
    (module docstring) on a die grid of ``die_pitch_um`` whose die (0, 0)
    lower-left corner is ``sample_center_um`` below-left of the wafer centre.
    Sizes go to ``DEFECTSIZE`` [um] (0 when unknown), classes to ``CLASSNUMBER``
    (0 when unknown). Positions are written with full float precision.

    ``sample_plan`` lists the inspected dies (x, y indices) of every wafer;
    by default every die that touches the wafer (diameter ``wafer_diameter_mm``).
    Defects outside the plan are an error.
    """
    for w in defects.wafers:
        for text in (w.wafer_id, w.lot_id):
            if '"' in text or "\n" in text:
                raise InputError(f"KLARF ids cannot hold quotes or line breaks, got {text!r}", parameter="wafer_id")
    if not (min(die_pitch_um) > 0 and all(math.isfinite(v) for v in (*die_pitch_um, *die_origin_um,
                                                                      *sample_center_um))):
        raise InputError(f"must be positive and finite, got {die_pitch_um!r}", parameter="die_pitch_um")
    px, py = die_pitch_um
    ox, oy = die_origin_um
    cx, cy = sample_center_um
    if sample_plan is None:
        half = wafer_diameter_mm * 500.0
        i = np.arange(math.floor((cx - half) / px), math.floor((cx + half) / px) + 1)
        j = np.arange(math.floor((cy - half) / py), math.floor((cy + half) / py) + 1)
        ii, jj = np.meshgrid(i, j, indexing="ij")
        gap_x = np.maximum(np.maximum(ii * px - cx, cx - (ii + 1) * px), 0.0)
        gap_y = np.maximum(np.maximum(jj * py - cy, cy - (jj + 1) * py), 0.0)
        touch = gap_x**2 + gap_y**2 <= half**2
        plan = sorted(zip(ii[touch].tolist(), jj[touch].tolist()))
    else:
        plan = sorted({(int(a), int(b)) for a, b in sample_plan})
    plan_set = set(plan)
    with atomic_write(path, "w") as out:
        out.write("FileVersion 1 2;\n")
        lots: dict[str, list[int]] = {}
        for i, w in enumerate(defects.wafers):
            lots.setdefault(w.lot_id, []).append(i)
        for lot_id, members in lots.items():
            out.write(f'LotID "{lot_id}";\n')
            out.write(f"DiePitch {_num(px)} {_num(py)};\nDieOrigin {_num(ox)} {_num(oy)};\n")
            out.write("OrientationMarkLocation DOWN;\n")
            for i in members:
                w = defects.wafers[i]
                keep = defects.wafer_index == i
                tx = defects.x_mm[keep] * 1000.0 + cx - ox
                ty = defects.y_mm[keep] * 1000.0 + cy - oy
                xi, yi = np.floor(tx / px).astype(np.int64), np.floor(ty / py).astype(np.int64)
                xr, yr = tx - xi * px, ty - yi * py
                size = np.nan_to_num(defects.size_um[keep], nan=0.0)
                cls = np.maximum(defects.class_number[keep], 0)
                out.write(f'WaferID "{w.wafer_id}";\nSampleCenterLocation {_num(cx)} {_num(cy)};\n')
                outside = set(zip(xi.tolist(), yi.tolist())) - plan_set
                if outside:
                    raise InputError(f"wafer {w.wafer_id!r} has defects in dies outside the sample plan, "
                                     f"e.g. {min(outside)}", parameter="sample_plan")
                out.write(f"SampleTestPlan {len(plan)}" + "".join(f"\n {a} {b}" for a, b in plan) + ";\n")
                out.write("DefectRecordSpec 7 DEFECTID XREL YREL XINDEX YINDEX DEFECTSIZE CLASSNUMBER;\n")
                out.write("DefectList")
                for k in range(xi.size):
                    out.write(f"\n {k + 1} {_num(xr[k])} {_num(yr[k])} {xi[k]} {yi[k]} {_num(size[k])} {cls[k]}")
                out.write(";\n")
        out.write("EndOfFile;\n")
