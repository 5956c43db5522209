"""SEMI G85 / E142 site-state maps: states from repair maps, round trips, schema, every site once."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import xmlschema

from yieldkit.defect_map import DefectMap
from yieldkit.defects import DefectModel, sample_wafer
from yieldkit.design import load_design
from yieldkit.dies import gross_dies_per_wafer
from yieldkit.errors import InputError
from yieldkit.formats.e142 import read_e142, write_e142
from yieldkit.formats.g85 import read_g85, write_g85
from yieldkit.formats.sitemap import SiteMap, SiteState, die_map, nominal_sites, site_states, states_from_arrays
from yieldkit.repair import repair_wafer

DATA = Path(__file__).parent / "data"
SMALL = load_design("small")


@pytest.fixture(scope="module")
def repaired() -> SiteMap:
    defects = sample_wafer(SMALL, DefectModel(0.3), seed=4)
    report = repair_wafer(SMALL, defects)
    assert report.repairable
    return site_states(SMALL, report.repair_map, wafer_id="W07", lot_id="LOT<&>")


def test_states_follow_the_repair_map(repaired: SiteMap) -> None:
    defects = sample_wafer(SMALL, DefectModel(0.3), seed=4)
    rmap = repair_wafer(SMALL, defects).repair_map
    flat = repaired.states.ravel()
    assert set(np.flatnonzero(flat == SiteState.DEAD)) == set(defects.dead_sites.tolist())
    in_use = set(rmap.physical_of_logical.ravel().tolist())
    assert set(np.flatnonzero((flat == SiteState.GOOD) | (flat == SiteState.SPARE_IN_USE))) == in_use
    assert (flat[~SMALL.site_exists.ravel()] == SiteState.ABSENT).all()
    c = repaired.counts()
    assert c["good"] + c["spare_in_use"] == SMALL.logical_cores
    assert c["dead"] == defects.n_dead_sites > 0 and c["spare_in_use"] > 0
    assert sum(c.values()) == SMALL.n_sites


def test_defect_free_wafer_is_all_good_or_unused() -> None:
    rmap = repair_wafer(SMALL, DefectMap.empty(SMALL)).repair_map
    m = site_states(SMALL, rmap)
    assert m.counts()["spare_in_use"] == 0 and m.counts()["dead"] == 0
    assert m.counts()["good"] == SMALL.logical_cores == nominal_sites(SMALL).size


def test_states_from_arrays_for_an_image() -> None:
    exists = np.array([[True, True], [True, False]])
    states = states_from_arrays(exists, [0], [1, 2], [0, 1])
    assert states.tolist() == [[SiteState.DEAD, SiteState.GOOD], [SiteState.SPARE_IN_USE, SiteState.ABSENT]]


@pytest.mark.parametrize("fmt", ["g85-ascii", "g85-hex", "e142-hex", "e142-ascii"])
def test_round_trip_schema_and_every_site_once(tmp_path: Path, repaired: SiteMap, fmt: str) -> None:
    kind, code = fmt.split("-")
    bin_type = "ASCII" if code == "ascii" else "HexaDecimal"
    path = tmp_path / f"map.{kind}.xml"
    (write_g85 if kind == "g85" else write_e142)(repaired, path, bin_type=bin_type)
    back = (read_g85 if kind == "g85" else read_e142)(path)
    assert back.states.tolist() == repaired.states.tolist()
    assert (back.wafer_id, back.lot_id, back.product) == ("W07", "LOT<&>", "small")
    assert (back.pitch_x_mm, back.pitch_y_mm) == (SMALL.pitch_x_mm, SMALL.pitch_y_mm)
    # well formed, and valid against yieldkit's own schema of what it writes
    root = ET.parse(path).getroot()
    xmlschema.XMLSchema(DATA / f"yieldkit_{kind}.xsd").validate(str(path))
    # every site exactly once: rows x codes = the grid, bin counts add up to the existing sites
    rows = [e.text for e in root.iter() if e.tag.split("}")[-1] in ("Row", "BinCode") and e.text]
    width = 1 if bin_type == "ASCII" else 2
    assert len(rows) == SMALL.rows and all(len(r) == SMALL.cols * width for r in rows)
    counts = [int(e.get("BinCount")) for e in root.iter() if e.tag.split("}")[-1] in ("Bin", "BinDefinition")]
    assert sum(counts) == SMALL.existing_sites
    null = next(e for e in root.iter() if e.get("NullBin") is not None).get("NullBin")
    assert sum(r[i:i + width] == null for r in rows for i in range(0, len(r), width)) == \
        SMALL.n_sites - SMALL.existing_sites


def test_wafer_scale_map_round_trip(tmp_path: Path) -> None:
    wse = load_design("wse")
    rng = np.random.default_rng(2)
    states = np.where(wse.site_exists, rng.integers(0, 4, (wse.rows, wse.cols)), SiteState.ABSENT)
    m = SiteMap(states, "W1", "L1", "wse", wse.pitch_x_mm, wse.pitch_y_mm)
    write_e142(m, tmp_path / "wse.xml")
    assert np.array_equal(read_e142(tmp_path / "wse.xml").states, m.states)
    root = ET.parse(tmp_path / "wse.xml").getroot()
    counts = [int(e.get("BinCount")) for e in root.iter() if e.tag.endswith("BinDefinition")]
    assert sum(counts) == wse.existing_sites < wse.n_sites  # the clipped corners are the null bin


def test_malformed_maps_name_file_and_line(tmp_path: Path, repaired: SiteMap) -> None:
    path = tmp_path / "m.xml"
    write_g85(repaired, path)
    text = path.read_text()
    lines = text.splitlines()
    row_line = next(i for i, l in enumerate(lines) if "<Row>" in l) + 1
    bad = tmp_path / "bad.xml"
    bad.write_text(text.replace("<Row><![CDATA[", "<Row><![CDATA[1", 1))
    with pytest.raises(InputError, match=rf"bad.xml:{row_line}: expected {SMALL.cols} bin codes"):
        read_g85(bad)
    bad.write_text("\n".join(lines[:row_line]) + "\n")
    with pytest.raises(InputError, match=r"bad.xml:\d+: expected well-formed XML"):
        read_g85(bad)
    first_row = lines[row_line - 1]
    bad.write_text(text.replace(first_row, first_row.replace("1", "Q", 1), 1))
    with pytest.raises(InputError, match=rf"bad.xml:{row_line}: expected a defined bin code in row 0 column \d+, got 'Q'"):
        read_g85(bad)
    count_line = next(i for i, l in enumerate(lines) if 'BinCode="1"' in l) + 1
    bad.write_text(text.replace('BinCount="', 'BinCount="9', 1))
    with pytest.raises(InputError, match=rf"bad.xml:{count_line}: expected BinCount"):
        read_g85(bad)
    with pytest.raises(InputError, match="expected a G85 <Map>"):
        write_e142(repaired, bad)
        read_g85(bad)


def test_die_level_map(tmp_path: Path) -> None:
    side = np.sqrt(814.0)
    m = die_map(side, side, defect_x_mm=[0.1, 0.2, 140.0], defect_y_mm=[0.1, 0.3, 140.0], wafer_id="W1")
    c = m.counts()
    assert c["dead"] == 1  # two defects in one die, one off the wafer
    # the classical gross-die formula approximates the exact count of a centred grid
    assert abs((c["good"] + c["dead"]) - gross_dies_per_wafer(814.0)) < 0.15 * gross_dies_per_wafer(814.0)
    write_g85(m, tmp_path / "dies.xml")
    back = read_g85(tmp_path / "dies.xml")
    assert np.array_equal(back.states, m.states) and back.pitch_x_mm == pytest.approx(side)


def test_design_mismatch_is_an_input_error() -> None:
    wse = load_design("wse")
    rmap = repair_wafer(SMALL, DefectMap.empty(SMALL)).repair_map
    with pytest.raises(InputError, match="design"):
        site_states(wse, rmap)


def test_map_dispatch(tmp_path: Path, repaired: SiteMap) -> None:
    from yieldkit.formats.io import read_map, write_map

    for fmt in ("g85", "e142"):
        write_map(repaired, tmp_path / f"{fmt}.xml", fmt)
        assert np.array_equal(read_map(tmp_path / f"{fmt}.xml").states, repaired.states)
    with pytest.raises(InputError, match="format"):
        write_map(repaired, tmp_path / "x.xml", "png")
    (tmp_path / "other.xml").write_text("<svg/>")
    with pytest.raises(InputError, match=r"other.xml:1: expected a SEMI G85"):
        read_map(tmp_path / "other.xml")


@pytest.mark.parametrize("notch", ["DOWN", "LEFT", "UP", "RIGHT"])
@pytest.mark.parametrize("kind", ["g85", "e142"])
def test_notch_orientation(tmp_path: Path, notch: str, kind: str) -> None:
    from dataclasses import replace

    states = np.full((3, 4), SiteState.GOOD, np.uint8)
    states[2, 1] = SiteState.DEAD  # a mark near the notch (bottom)
    m = SiteMap(states, "W1", "L1", "demo", 1.0, 2.0, notch=notch)
    path = tmp_path / "m.xml"
    (write_g85 if kind == "g85" else write_e142)(m, path)
    back = (read_g85 if kind == "g85" else read_e142)(path)
    assert np.array_equal(back.states, states) and back.notch == notch
    assert (back.pitch_x_mm, back.pitch_y_mm) == (1.0, 2.0)
    text = path.read_text()
    assert f'Orientation="{ {"DOWN": 0, "LEFT": 90, "UP": 180, "RIGHT": 270}[notch] }"' in text
    rows = [line.split("[")[-1].split("]")[0] if kind == "g85" else line.split(">")[1].split("<")[0]
            for line in text.splitlines() if "<Row>" in line or "<BinCode>" in line]
    drawn = np.array([[c for c in r[::1 if kind == "g85" else 2]] for r in rows])
    mark = tuple(int(v) for v in np.argwhere(drawn == ("X" if kind == "g85" else "E"))[0])
    # the mark is drawn on the side of the notch
    side = {"DOWN": (drawn.shape[0] - 1, None), "UP": (0, None), "LEFT": (None, 0), "RIGHT": (None, drawn.shape[1] - 1)}
    r, c = side[notch]
    assert (r is None or mark[0] == r) and (c is None or mark[1] == c)
    assert replace(m, notch="DOWN").notch == "DOWN"
    with pytest.raises(InputError, match="notch"):
        SiteMap(states, notch="NORTH")
