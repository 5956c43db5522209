"""One entry point per direction, choosing the format from the file: what the CLI commands call.

- :func:`read_defects`: a KLARF file (1.2 or 1.8, recognised by its first
  record) or a CSV / Parquet defect list, as :class:`InspectionDefects`;
- :func:`write_map` / :func:`read_map`: a :class:`SiteMap` as SEMI G85 or
  E142 XML (on reading, recognised by the root element).

Examples
--------
>>> import os, tempfile
>>> from yieldkit.formats.klarf import write_klarf
>>> d = InspectionDefects.from_arrays(["W1", "W2"], [1.0, -2.0], [0.5, 3.0], size_um=[1.0, 2.0], lot_id="L4")
>>> path = os.path.join(tempfile.mkdtemp(), "inspection.001")
>>> write_klarf(d, path)
>>> defects_format(path), read_defects(path, wafer="W2")
('klarf', InspectionDefects(lot L4: 1 wafers, 1 defects))
"""

from __future__ import annotations

import os

from yieldkit.errors import InputError
from yieldkit.formats import _xml
from yieldkit.formats.defect_list import read_defect_list
from yieldkit.formats.e142 import read_e142, write_e142
from yieldkit.formats.g85 import read_g85, write_g85
from yieldkit.formats.inspection import InspectionDefects
from yieldkit.formats.klarf import read_klarf
from yieldkit.formats.sitemap import SiteMap

__all__ = ["MAP_FORMATS", "defects_format", "read_defects", "read_map", "write_map"]

#: Map formats of :func:`write_map`.
MAP_FORMATS = ("g85", "e142")


def defects_format(path: str | os.PathLike[str]) -> str:
    """``klarf``, ``parquet`` or ``csv``: KLARF by its first record, Parquet by its magic bytes."""
    source = os.fspath(path)
    try:
        with open(source, "rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        raise InputError(f"{source}: cannot read ({exc.strerror or exc})") from None
    if head.startswith(b"PAR1"):
        return "parquet"
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n").split(None, 1)
    if first and first[0] in (b"FileVersion", b"Record"):
        return "klarf"
    return "csv"


def read_defects(path: str | os.PathLike[str], wafer: str | None = None) -> InspectionDefects:
    """Read inspected defects from a KLARF file or a CSV / Parquet defect list.

    Parameters
    ----------
    path : str or path-like
    wafer : str, optional
        Keep only this wafer id.
    """
    fmt = defects_format(path)
    if fmt == "klarf":
        return read_klarf(path, wafer=wafer)
    defects = read_defect_list(path, fmt=fmt)
    return defects if wafer is None else defects.wafer(wafer)


def write_map(site_map: SiteMap, path: str | os.PathLike[str], fmt: str, *, bin_type: str | None = None) -> None:
    """Write ``site_map`` as ``fmt`` (``g85``: ASCII bins by default; ``e142``: hexadecimal)."""
    if fmt == "g85":
        write_g85(site_map, path, bin_type=bin_type or "ASCII")
    elif fmt == "e142":
        write_e142(site_map, path, bin_type=bin_type or "HexaDecimal")
    else:
        raise InputError(f"must be one of {', '.join(MAP_FORMATS)}, got {fmt!r}", parameter="format")


def read_map(path: str | os.PathLike[str]) -> SiteMap:
    """Read a G85 or E142 map, recognised by its root element (``Map`` or ``MapData``)."""
    root = _xml.parse(path)
    if root.tag == "Map":
        return read_g85(path)
    if root.tag == "MapData":
        return read_e142(path)
    raise InputError(f"{os.fspath(path)}:{root.line}: expected a SEMI G85 <Map> or E142 <MapData> root element, "
                     f"got <{root.tag}>")
