"""Defect maps, repair maps and fabric images stored and reloaded: db/wafer_maps.py (both back-ends)."""

from __future__ import annotations

import numpy as np
import pytest

from db.engine import write_transaction
from db.wafer_maps import (
    MapMismatchError,
    MissingRecordError,
    add_defect_map,
    add_fabric_image,
    add_repair_map,
    load_defect_map,
    load_fabric_image,
    load_repair_map,
)
from db.writer import add_wafer, ensure_lot
from firmware_map import build_image, parse_image
from tests.fabric_samples import (
    assert_same_repair_map,
    planned_map,
    random_dead_links,
    random_dead_sites,
    tiny_design,
)
from yieldkit.defect_map import DefectMap
from yieldkit.errors import InputError


@pytest.fixture(scope="module")
def small():
    """A design with spare rows, so that the planner routes around dead links."""
    return tiny_design()


@pytest.fixture(scope="module")
def planned(small):
    rng = np.random.default_rng(8)  # a repairable draw of 3 dead sites and 3 dead links
    return planned_map(small, random_dead_sites(small, 3, rng), random_dead_links(small, 3, rng))


def _wafers(engine, n: int) -> list[int]:
    with write_transaction(engine) as conn:
        lot = ensure_lot(conn, "L1")
        return [add_wafer(conn, lot, f"W{i}", "tiny") for i in range(n)]


def test_plan_image_database_round_trip(db_engine, small, planned):
    """Plan -> image -> database is three calls, and reading back gives equal objects."""
    (wafer,) = _wafers(db_engine, 1)
    image = build_image(planned, wafer_id="W0", design=small)
    with write_transaction(db_engine) as conn:
        defect_map_id = add_defect_map(conn, wafer, planned.defects)
        repair_map_id = add_repair_map(conn, wafer, planned, defect_map_id=defect_map_id)
        add_fabric_image(conn, wafer, image, repair_map_id=repair_map_id)
    with db_engine.connect() as conn:
        defects = load_defect_map(conn, wafer)
        repair_map = load_repair_map(conn, wafer)
        stored_image = load_fabric_image(conn, wafer)
    assert (defects.rows, defects.cols, defects.design) == (small.rows, small.cols, "tiny")
    assert np.array_equal(defects.dead_sites, planned.defects.dead_sites)
    assert np.array_equal(defects.dead_links, planned.defects.dead_links) and defects.n_dead_links == 3
    assert_same_repair_map(repair_map, planned)
    assert stored_image == image
    assert_same_repair_map(parse_image(stored_image).repair_map, planned)


def test_readers_return_the_newest_record(db_engine, small, planned):
    (wafer,) = _wafers(db_engine, 1)
    later = DefectMap(small.rows, small.cols, np.append(planned.defects.dead_sites, 5), design="tiny")
    with write_transaction(db_engine) as conn:
        add_repair_map(conn, wafer, planned)  # stores its own defect map (source "repair")
        add_defect_map(conn, wafer, later, source="burn_in")
    with db_engine.connect() as conn:
        assert load_defect_map(conn, wafer).n_dead_sites == planned.defects.n_dead_sites + 1
        assert_same_repair_map(load_repair_map(conn, wafer), planned)  # linked to the defects it was planned on
        sources = conn.exec_driver_sql("SELECT source FROM defect_maps ORDER BY id").scalars().all()
    assert sources == ["repair", "burn_in"]


def test_mismatched_records_are_refused(db_engine, small, planned):
    w0, w1 = _wafers(db_engine, 2)
    image = build_image(planned, wafer_id="W0")
    with write_transaction(db_engine) as conn:
        other_defects = add_defect_map(conn, w0, DefectMap(small.rows, small.cols, [1, 2], design="tiny"))
        add_fabric_image(conn, w0, image)
    with pytest.raises(MapMismatchError, match="defect_map_id: the repair map was planned against"):
        with write_transaction(db_engine) as conn:
            add_repair_map(conn, w0, planned, defect_map_id=other_defects)
    with pytest.raises(MapMismatchError, match="belongs to wafer"):
        with write_transaction(db_engine) as conn:
            add_repair_map(conn, w1, planned, defect_map_id=other_defects)
    with pytest.raises(MapMismatchError, match="already stored for wafer"):
        with write_transaction(db_engine) as conn:
            add_fabric_image(conn, w1, image)
    with pytest.raises(InputError, match="image: not a fabric image"):
        with write_transaction(db_engine) as conn:
            add_fabric_image(conn, w1, b"\x89PNG\r\n\x1a\n....")
    with db_engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM repair_maps").scalar() == 0
        for load in (load_defect_map, load_repair_map, load_fabric_image):
            with pytest.raises(MissingRecordError, match=f"wafer {w1} has no"):
                load(conn, w1)
