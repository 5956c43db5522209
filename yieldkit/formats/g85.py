"""SEMI G85 XML wafer maps of site states: writer and reader.

The map of one wafer, in the XML form of SEMI G85 ("Specification for map
data items")::

    <?xml version="1.0" encoding="UTF-8"?>
    <Map xmlns:semi="http://www.semi.org" SubstrateType="Wafer" SubstrateId="W01"
         FormatRevision="SEMI G85-0703">
      <Device ProductId="wse" LotId="LOT42" Orientation="0" OriginLocation="UpperLeft"
              Rows="1200" Columns="810" BinType="ASCII" NullBin="." MapType="Array"
              DeviceSizeX="0.25" DeviceSizeY="0.19" WaferSize="300" SupplierName="yieldkit">
        <Bin BinCode="1" BinCount="..." BinQuality="Pass" BinDescription="good: ..."/>
        ...
        <Data MapName="SiteStates" MapVersion="1">
          <Row><![CDATA[...1111X11...]]></Row>
          ...
        </Data>
      </Device>
    </Map>

One ``<Row>`` per row as drawn, top first, one bin code per site left to
right; with the default ``notch="DOWN"`` of :class:`SiteMap` the rows are the
physical rows, top of the wafer first. ``Orientation`` is where the notch is
drawn, in degrees clockwise from the bottom (0 down, 90 left, 180 up, 270
right: yieldkit's reading; the grid is turned to match). Codes are one character with
``BinType="ASCII"``, two hexadecimal digits with ``BinType="HexaDecimal"``;
absent sites carry the ``NullBin`` code. The bin codes and their meaning are
:data:`yieldkit.formats.sitemap.BIN_DEFINITIONS`; ``BinCount`` is the number
of sites in each bin, so every site is counted exactly once.

Schema: SEMI publishes G85 as a document, and its XML schema is not
available offline here, so maps are not validated against it. The element
and attribute names follow G85-0703; the ``Orientation``/``OriginLocation``
values could not be checked against the standard's enumerations: the reader
relies only on the row order documented above. yieldkit's own minimal
schema of what it writes (``tests/data/yieldkit_g85.xsd``) is checked in the
tests.

References
----------
.. [1] SEMI G85-0703, "Specification for Map Data Items", SEMI, 2003.

Examples
--------
>>> import numpy as np, os, tempfile
>>> from yieldkit.formats.sitemap import SiteMap, SiteState
>>> m = SiteMap(np.array([[4, 0, 4], [1, 2, 3]]), wafer_id="W1", lot_id="L1", product="demo")
>>> path = os.path.join(tempfile.mkdtemp(), "w1.xml")
>>> write_g85(m, path)
>>> back = read_g85(path)
>>> back.states.tolist(), back.wafer_id
([[4, 0, 4], [1, 2, 3]], 'W1')
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from xml.sax.saxutils import quoteattr

import numpy as np

from yieldkit.errors import InputError
from yieldkit.formats import _xml
from yieldkit.formats.sitemap import BIN_DEFINITIONS, NOTCH_DEGREES, SiteMap, SiteState, drawn_grid, states_from_drawn
from yieldkit.outputs import atomic_write

__all__ = ["BIN_TYPES", "read_g85", "write_g85"]

#: Bin code types: characters per site.
BIN_TYPES = {"ASCII": 1, "HexaDecimal": 2}


def _codes(bin_type: str) -> dict[int, str]:
    if bin_type not in BIN_TYPES:
        raise InputError(f"must be one of {', '.join(BIN_TYPES)}, got {bin_type!r}", parameter="bin_type")
    return {int(b.state): (b.ascii_code if bin_type == "ASCII" else b.hex_code) for b in BIN_DEFINITIONS}


def row_strings(states: np.ndarray, bin_type: str) -> list[str]:
    """The bin-code string of each row of ``states``."""
    codes = _codes(bin_type)
    table = np.array([codes.get(i, "") for i in range(max(codes) + 1)])
    return ["".join(table[row]) for row in states]


def bin_elements(site_map: SiteMap, bin_type: str, tag: str, indent: str) -> list[str]:
    """``<Bin .../>``-like elements of the non-null bins with their counts."""
    counts = np.bincount(site_map.states.ravel(), minlength=len(SiteState))
    out = []
    for b in BIN_DEFINITIONS:
        if b.state == SiteState.ABSENT:
            continue
        code = b.ascii_code if bin_type == "ASCII" else b.hex_code
        out.append(f"{indent}<{tag} BinCode={quoteattr(code)} BinCount=\"{int(counts[b.state])}\" "
                   f"BinQuality={quoteattr(b.quality)} BinDescription={quoteattr(b.description)}/>")
    return out


def write_g85(site_map: SiteMap, path: str | os.PathLike[str], *, bin_type: str = "ASCII") -> None:
    """Write ``site_map`` as a SEMI G85 XML map (atomically).

    Parameters
    ----------
    site_map : SiteMap
        The states of every site (or die).
    path : str or path-like
        Output file.
    bin_type : {"ASCII", "HexaDecimal"}
        One character or two hex digits per site.
    """
    codes = _codes(bin_type)
    null = codes[SiteState.ABSENT]
    now = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    m = site_map
    grid = drawn_grid(m.states, m.notch)
    sx, sy = (m.pitch_y_mm, m.pitch_x_mm) if m.notch in ("LEFT", "RIGHT") else (m.pitch_x_mm, m.pitch_y_mm)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<Map xmlns:semi="http://www.semi.org" SubstrateType="Wafer" SubstrateId={quoteattr(m.wafer_id)} '
             'FormatRevision="SEMI G85-0703">',
             f'  <Device ProductId={quoteattr(m.product)} LotId={quoteattr(m.lot_id)} CreateDate="{now}" '
             f'SupplierName="yieldkit" Orientation="{NOTCH_DEGREES[m.notch]}" OriginLocation="UpperLeft" '
             f'Rows="{grid.shape[0]}" Columns="{grid.shape[1]}" BinType="{bin_type}" NullBin={quoteattr(null)} '
             f'MapType="Array" DeviceSizeX="{sx!r}" DeviceSizeY="{sy!r}" WaferSize="{m.wafer_diameter_mm!r}">']
    lines += bin_elements(m, bin_type, "Bin", "    ")
    lines.append('    <Data MapName="SiteStates" MapVersion="1">')
    with atomic_write(path, "w") as out:
        out.write("\n".join(lines) + "\n")
        for row in row_strings(grid, bin_type):
            out.write(f"      <Row><![CDATA[{row}]]></Row>\n")
        out.write("    </Data>\n  </Device>\n</Map>\n")


def decode_rows(rows: list[_xml.Node], n_cols: int, bin_type: str, null: str, bin_codes: dict[str, int],
                source: str) -> np.ndarray:
    """The state grid of ``<Row>``-like nodes; every code must be a defined bin or the null bin."""
    width = BIN_TYPES[bin_type]
    lookup = dict(bin_codes)
    lookup[null] = int(SiteState.ABSENT)
    # code -> state through a 256-entry table over the code's byte (ASCII) or value (two hex digits)
    table = np.full(256, 255, dtype=np.uint8)
    for code, state in lookup.items():
        if len(code) != width or not code.isascii():
            raise InputError(f"{source}: bin code {code!r} is not {width} character(s) wide (BinType {bin_type})")
        table[ord(code) if width == 1 else _hex_value(code)] = state
    hex_digit = np.full(256, 255, dtype=np.int64)
    for i, ch in enumerate("0123456789ABCDEF"):
        hex_digit[ord(ch)] = hex_digit[ord(ch.lower())] = i
    states = np.empty((len(rows), n_cols), dtype=np.uint8)
    for r, node in enumerate(rows):
        text = "".join(node.text.split())
        raw = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
        if raw.size != n_cols * width or not text.isascii():
            raise InputError(f"{source}:{node.line}: expected {n_cols} bin codes of {width} character(s) in row "
                             f"{r}, got {len(text)} characters")
        if width == 1:
            index = raw.astype(np.int64)
        else:
            digits = hex_digit[raw].reshape(n_cols, 2)
            index = np.where((digits < 16).all(axis=1), digits[:, 0] * 16 + digits[:, 1], -1)
        row = np.where(index >= 0, table[np.clip(index, 0, 255)], 255)
        bad = np.flatnonzero(row == 255)
        if bad.size:
            c = int(bad[0])
            raise InputError(f"{source}:{node.line}: expected a defined bin code in row {r} column {c}, "
                             f"got {text[c * width:(c + 1) * width]!r}")
        states[r] = row
    return states


def _hex_value(code: str) -> int:
    try:
        return int(code, 16)
    except ValueError:
        raise InputError(f"bin code {code!r} is not two hexadecimal digits") from None


def bin_lookup(bins: list[_xml.Node], bin_type: str, source: str) -> dict[str, int]:
    """Bin code -> SiteState, from the bin definitions of a map (matched by code, then by description)."""
    by_code = {(b.ascii_code if bin_type == "ASCII" else b.hex_code): int(b.state) for b in BIN_DEFINITIONS}
    by_word = {b.description.split(":")[0]: int(b.state) for b in BIN_DEFINITIONS}
    out: dict[str, int] = {}
    for node in bins:
        code = node.attrib.get("BinCode")
        if code is None:
            raise InputError(f"{source}:{node.line}: expected a BinCode attribute")
        code = code.upper() if bin_type == "HexaDecimal" else code
        word = node.attrib.get("BinDescription", "").split(":")[0].strip()
        if word in by_word:
            out[code] = by_word[word]
        elif code in by_code:
            out[code] = by_code[code]
        else:
            raise InputError(f"{source}:{node.line}: expected a yieldkit site-state bin, got BinCode {code!r} "
                             f"({node.attrib.get('BinDescription', '')!r})")
    return out


def _int_attr(node: _xml.Node, name: str, source: str) -> int:
    try:
        value = int(node.attrib[name])
    except KeyError:
        raise InputError(f"{source}:{node.line}: expected attribute {name} on <{node.tag}>") from None
    except ValueError:
        raise InputError(f"{source}:{node.line}: expected an integer {name}, got {node.attrib[name]!r}") from None
    if value <= 0:
        raise InputError(f"{source}:{node.line}: expected a positive {name}, got {value}")
    return value


def _float_attr(node: _xml.Node, name: str) -> float:
    try:
        return float(node.attrib.get(name, "0"))
    except ValueError:
        return 0.0


def read_g85(path: str | os.PathLike[str]) -> SiteMap:
    """Read a SEMI G85 XML map written by :func:`write_g85` (or another tool using its bins).

    Raises
    ------
    InputError
        ``FILE:LINE: expected ...``: not well-formed XML, not a G85 map, a row
        of the wrong length, an undefined bin code, bin counts that do not
        match the rows.
    """
    source = os.fspath(path)
    root = _xml.parse(source)
    if root.tag != "Map":
        raise InputError(f"{source}:{root.line}: expected a G85 <Map> root element, got <{root.tag}>")
    device = root.find("Device")
    if device is None:
        raise InputError(f"{source}:{root.line}: expected a <Device> element in <Map>")
    rows, cols = _int_attr(device, "Rows", source), _int_attr(device, "Columns", source)
    bin_type = device.attrib.get("BinType", "ASCII")
    if bin_type not in BIN_TYPES:
        raise InputError(f"{source}:{device.line}: expected BinType ASCII or HexaDecimal, got {bin_type!r}")
    null = device.attrib.get("NullBin", _codes(bin_type)[SiteState.ABSENT])
    null = null.upper() if bin_type == "HexaDecimal" else null
    data = device.find("Data")
    if data is None:
        raise InputError(f"{source}:{device.line}: expected a <Data> element in <Device>")
    row_nodes = data.findall("Row")
    if len(row_nodes) != rows:
        raise InputError(f"{source}:{data.line}: expected {rows} <Row> elements (Rows), got {len(row_nodes)}")
    bins = device.findall("Bin")
    grid = decode_rows(row_nodes, cols, bin_type, null, bin_lookup(bins, bin_type, source), source)
    check_counts(bins, grid, bin_type, source)
    notch = notch_of(device, source)
    sx, sy = _float_attr(device, "DeviceSizeX"), _float_attr(device, "DeviceSizeY")
    if notch in ("LEFT", "RIGHT"):
        sx, sy = sy, sx
    return SiteMap(states_from_drawn(grid, notch), root.attrib.get("SubstrateId", ""), device.attrib.get("LotId", ""),
                   device.attrib.get("ProductId", ""), sx, sy, _float_attr(device, "WaferSize") or 300.0, notch)


def notch_of(node: _xml.Node, source: str) -> str:
    """The notch position of a map's ``Orientation`` attribute (0 when absent; :data:`NOTCH_DEGREES`)."""
    text = node.attrib.get("Orientation", "0")
    by_degrees = {str(v): k for k, v in NOTCH_DEGREES.items()}
    if text.strip() not in by_degrees:
        raise InputError(f"{source}:{node.line}: expected Orientation 0, 90, 180 or 270, got {text!r}")
    return by_degrees[text.strip()]


def check_counts(bins: list[_xml.Node], states: np.ndarray, bin_type: str, source: str) -> None:
    """Each bin's ``BinCount`` (when given) must equal the sites the rows carry in it."""
    lookup = bin_lookup(bins, bin_type, source)
    counts = np.bincount(states.ravel(), minlength=len(SiteState))
    for node in bins:
        if "BinCount" not in node.attrib:
            continue
        code = node.attrib["BinCode"]
        code = code.upper() if bin_type == "HexaDecimal" else code
        try:
            declared = int(node.attrib["BinCount"])
        except ValueError:
            raise InputError(f"{source}:{node.line}: expected an integer BinCount, got "
                             f"{node.attrib['BinCount']!r}") from None
        if declared != counts[lookup[code]]:
            raise InputError(f"{source}:{node.line}: expected BinCount {int(counts[lookup[code]])} for bin "
                             f"{code!r} (the sites the rows carry), got {declared}")
