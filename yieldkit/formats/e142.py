"""SEMI E142 substrate maps (XML) of site states: writer and reader.

The map of one wafer in the XML form of SEMI E142 ("Substrate mapping")::

    <?xml version="1.0" encoding="UTF-8"?>
    <MapData xmlns="urn:semi-org:xsd.E142-1.V1005.SubstrateMap">
      <Layouts>
        <Layout LayoutId="Wafer" DefaultUnits="mm" TopLevel="true">
          <Dimension X="1" Y="1"/>
          <DeviceSize X="300.0" Y="300.0"/>
          <ChildLayouts><ChildLayout LayoutId="Sites"/></ChildLayouts>
        </Layout>
        <Layout LayoutId="Sites" DefaultUnits="mm">
          <Dimension X="810" Y="1200"/>
          <DeviceSize X="0.25" Y="0.19"/>
        </Layout>
      </Layouts>
      <Substrates>
        <Substrate SubstrateType="Wafer" SubstrateId="W01"><LotId>LOT42</LotId></Substrate>
      </Substrates>
      <SubstrateMaps>
        <SubstrateMap SubstrateType="Wafer" SubstrateId="W01" LayoutSpecifier="Wafer/Sites"
                      SubstrateSide="TopSide" OriginLocation="UpperLeft" Orientation="0"
                      AxisDirection="DownRight">
          <Overlay MapName="SiteStates" MapVersion="1">
            <BinCodeMap BinType="HexaDecimal" NullBin="FF">
              <BinDefinitions>
                <BinDefinition BinCode="01" BinCount="..." BinQuality="Pass" BinDescription="good: ..."/>
                ...
              </BinDefinitions>
              <BinCode>0101EE...</BinCode>
              ...
            </BinCodeMap>
          </Overlay>
        </SubstrateMap>
      </SubstrateMaps>
    </MapData>

One ``<BinCode>`` row per row as drawn, top first
(``OriginLocation="UpperLeft"``, ``AxisDirection="DownRight"``), one code per
site left to right; with the default ``notch="DOWN"`` the rows are the
physical rows, top of the wafer first, and ``Orientation`` (where the notch
is drawn, degrees clockwise from the bottom: yieldkit's reading, as for G85)
is 0. Codes are (two hex digits, or one character with
``BinType="ASCII"``); absent sites carry the ``NullBin`` code. Bins are
:data:`yieldkit.formats.sitemap.BIN_DEFINITIONS`, each with its
``BinCount``: every site is counted exactly once.

Schema: the SEMI E142 XML schema is distributed by SEMI with the standard
and is not available offline here, so maps are not validated against it;
the namespace above follows the E142-1 V1005 naming as remembered, and was
not checked against the schema itself. yieldkit's own minimal schema of
what it writes (``tests/data/yieldkit_e142.xsd``, not SEMI's) is checked in
the tests. The reader accepts any namespace.

References
----------
.. [1] SEMI E142-0211, "Specification for Substrate Mapping", SEMI, 2011 (and
   E142.1, its XML schema).

Examples
--------
>>> import numpy as np, os, tempfile
>>> from yieldkit.formats.sitemap import SiteMap
>>> m = SiteMap(np.array([[4, 0, 4], [1, 2, 3]]), wafer_id="W1", lot_id="L1", product="demo")
>>> path = os.path.join(tempfile.mkdtemp(), "w1.xml")
>>> write_e142(m, path)
>>> read_e142(path).states.tolist()
[[4, 0, 4], [1, 2, 3]]
"""

from __future__ import annotations

import os
from xml.sax.saxutils import escape, quoteattr

from yieldkit.errors import InputError
from yieldkit.formats import _xml
from yieldkit.formats.g85 import BIN_TYPES, _codes, _float_attr, _int_attr, bin_elements, bin_lookup, check_counts, \
    decode_rows, notch_of, row_strings
from yieldkit.formats.sitemap import NOTCH_DEGREES, SiteMap, SiteState, drawn_grid, states_from_drawn
from yieldkit.outputs import atomic_write

__all__ = ["E142_NAMESPACE", "read_e142", "write_e142"]

#: Namespace written on ``<MapData>``.
E142_NAMESPACE = "urn:semi-org:xsd.E142-1.V1005.SubstrateMap"


def write_e142(site_map: SiteMap, path: str | os.PathLike[str], *, bin_type: str = "HexaDecimal") -> None:
    """Write ``site_map`` as a SEMI E142 XML substrate map (atomically).

    Parameters
    ----------
    site_map : SiteMap
    path : str or path-like
    bin_type : {"HexaDecimal", "ASCII"}
    """
    codes = _codes(bin_type)
    m = site_map
    grid = drawn_grid(m.states, m.notch)
    sx, sy = (m.pitch_y_mm, m.pitch_x_mm) if m.notch in ("LEFT", "RIGHT") else (m.pitch_x_mm, m.pitch_y_mm)
    wid, lot = quoteattr(m.wafer_id), escape(m.lot_id)
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<MapData xmlns="{E142_NAMESPACE}">',
        "  <Layouts>",
        '    <Layout LayoutId="Wafer" DefaultUnits="mm" TopLevel="true">',
        '      <Dimension X="1" Y="1"/>',
        f'      <DeviceSize X="{m.wafer_diameter_mm!r}" Y="{m.wafer_diameter_mm!r}"/>',
        '      <ChildLayouts><ChildLayout LayoutId="Sites"/></ChildLayouts>',
        "    </Layout>",
        '    <Layout LayoutId="Sites" DefaultUnits="mm">',
        f'      <Dimension X="{grid.shape[1]}" Y="{grid.shape[0]}"/>',
        f'      <DeviceSize X="{sx!r}" Y="{sy!r}"/>',
        "    </Layout>",
        "  </Layouts>",
        "  <Substrates>",
        f'    <Substrate SubstrateType="Wafer" SubstrateId={wid}><LotId>{lot}</LotId>'
        f'<ProductId>{escape(m.product)}</ProductId></Substrate>',
        "  </Substrates>",
        "  <SubstrateMaps>",
        f'    <SubstrateMap SubstrateType="Wafer" SubstrateId={wid} LayoutSpecifier="Wafer/Sites" '
        f'SubstrateSide="TopSide" OriginLocation="UpperLeft" Orientation="{NOTCH_DEGREES[m.notch]}" '
        'AxisDirection="DownRight">',
        '      <Overlay MapName="SiteStates" MapVersion="1">',
        f'        <BinCodeMap BinType="{bin_type}" NullBin={quoteattr(codes[SiteState.ABSENT])}>',
        "          <BinDefinitions>",
        *bin_elements(m, bin_type, "BinDefinition", "            "),
        "          </BinDefinitions>",
    ]
    with atomic_write(path, "w") as out:
        out.write("\n".join(head) + "\n")
        for row in row_strings(grid, bin_type):
            out.write(f"          <BinCode>{escape(row)}</BinCode>\n")
        out.write("        </BinCodeMap>\n      </Overlay>\n    </SubstrateMap>\n  </SubstrateMaps>\n</MapData>\n")


def _child(node: _xml.Node, tag: str, source: str) -> _xml.Node:
    found = node.find(tag)
    if found is None:
        raise InputError(f"{source}:{node.line}: expected a <{tag}> element in <{node.tag}>")
    return found


def read_e142(path: str | os.PathLike[str], substrate_id: str | None = None) -> SiteMap:
    """Read a SEMI E142 XML map written by :func:`write_e142`.

    Parameters
    ----------
    path : str or path-like
    substrate_id : str, optional
        Which ``<SubstrateMap>`` when the file holds several (default: the only one).

    Raises
    ------
    InputError
        ``FILE:LINE: expected ...`` for anything malformed (see :func:`yieldkit.formats.g85.read_g85`).
    """
    source = os.fspath(path)
    root = _xml.parse(source)
    if root.tag != "MapData":
        raise InputError(f"{source}:{root.line}: expected an E142 <MapData> root element, got <{root.tag}>")
    maps = _child(root, "SubstrateMaps", source).findall("SubstrateMap")
    if substrate_id is not None:
        maps = [m for m in maps if m.attrib.get("SubstrateId") == substrate_id]
    if len(maps) != 1:
        raise InputError(f"{source}:{root.line}: expected one <SubstrateMap>"
                         f"{'' if substrate_id is None else f' with SubstrateId {substrate_id!r}'}, got {len(maps)}")
    smap = maps[0]
    if smap.attrib.get("OriginLocation", "UpperLeft") != "UpperLeft" or \
            smap.attrib.get("AxisDirection", "DownRight") != "DownRight":
        raise InputError(f"{source}:{smap.line}: expected OriginLocation UpperLeft and AxisDirection DownRight "
                         "(the orientations this reader knows)")
    layout_name = smap.attrib.get("LayoutSpecifier", "Wafer/Sites").split("/")[-1]
    layouts = {n.attrib.get("LayoutId"): n for n in _child(root, "Layouts", source).findall("Layout")}
    if layout_name not in layouts:
        raise InputError(f"{source}:{smap.line}: expected a <Layout LayoutId={layout_name!r}> (LayoutSpecifier)")
    layout = layouts[layout_name]
    dim = _child(layout, "Dimension", source)
    cols, rows = _int_attr(dim, "X", source), _int_attr(dim, "Y", source)
    size = layout.find("DeviceSize")
    top = next((n for n in layouts.values() if n.attrib.get("TopLevel") == "true"), None)
    top_size = top.find("DeviceSize") if top is not None else None
    binmap = _child(_child(smap, "Overlay", source), "BinCodeMap", source)
    bin_type = binmap.attrib.get("BinType", "HexaDecimal")
    if bin_type not in BIN_TYPES:
        raise InputError(f"{source}:{binmap.line}: expected BinType HexaDecimal or ASCII, got {bin_type!r}")
    null = binmap.attrib.get("NullBin", _codes(bin_type)[SiteState.ABSENT])
    null = null.upper() if bin_type == "HexaDecimal" else null
    bins = _child(binmap, "BinDefinitions", source).findall("BinDefinition")
    row_nodes = binmap.findall("BinCode")
    if len(row_nodes) != rows:
        raise InputError(f"{source}:{binmap.line}: expected {rows} <BinCode> rows (Dimension Y), got {len(row_nodes)}")
    grid = decode_rows(row_nodes, cols, bin_type, null, bin_lookup(bins, bin_type, source), source)
    check_counts(bins, grid, bin_type, source)
    notch = notch_of(smap, source)
    wafer_id = smap.attrib.get("SubstrateId", "")
    substrate = next((s for s in (root.find("Substrates") or _xml.Node("", {}, 0)).findall("Substrate")
                      if s.attrib.get("SubstrateId") == wafer_id), None)
    lot = product = ""
    if substrate is not None:
        lot = (substrate.find("LotId") or _xml.Node("", {}, 0)).text.strip()
        product = (substrate.find("ProductId") or _xml.Node("", {}, 0)).text.strip()
    sx = _float_attr(size, "X") if size is not None else 0.0
    sy = _float_attr(size, "Y") if size is not None else 0.0
    if notch in ("LEFT", "RIGHT"):
        sx, sy = sy, sx
    return SiteMap(states_from_drawn(grid, notch), wafer_id, lot, product, sx, sy,
                   (_float_attr(top_size, "X") if top_size is not None else 0.0) or 300.0, notch)
