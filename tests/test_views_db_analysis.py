"""db/analysis.py: the DataFrame queries of the views, on SQLite and PostgreSQL, data written by the writers."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import update

from db import analysis
from db.engine import write_transaction
from db.models import Run, WaferState
from db.wafer_maps import add_defect_map, add_fabric_image, add_repair_map
from db.writer import add_remap, add_run, add_wafer, ensure_campaign, ensure_lot, write_fault_events
from yieldkit import views
from yieldkit.defect_map import DefectMap
from yieldkit.design import load_design
from yieldkit.faults import FaultClass
from yieldkit.repair import repair_wafer

SMALL = load_design("small")
IMAGES = [b"YKFABIMG\x01\x00\x00\x00" + f"image {k}".encode() for k in range(3)]


@pytest.fixture
def lot_db(db_engine):
    """Lots LA (W1 shipped, W2 scrapped) and LB (W3 in burn-in); maps, remaps, runs on two stations, events."""
    import datetime as dt

    d1 = DefectMap(SMALL.rows, SMALL.cols, [5, 70, 140], design="small")
    d2 = DefectMap(SMALL.rows, SMALL.cols, [5], design="small")
    with write_transaction(db_engine) as conn:
        la, lb = ensure_lot(conn, "LA"), ensure_lot(conn, "LB")
        w1 = add_wafer(conn, la, "W1", "small", WaferState.SHIPPED)
        w2 = add_wafer(conn, la, "W2", "small", WaferState.SCRAPPED)
        w3 = add_wafer(conn, lb, "W3", "small", WaferState.IN_BURN_IN)
        m1 = add_defect_map(conn, w1, d1)
        add_defect_map(conn, w2, d2)
        add_repair_map(conn, w1, repair_wafer(SMALL, d1).repair_map, defect_map_id=m1)
        c = ensure_campaign(conn, "htol")
        runs = {}
        for key, wafer, station, op, temp in (("r1", w1, "S1", "a", 125.0), ("r2", w2, "S2", "a", 125.0),
                                              ("r3", w3, "S1", "b", 105.0), ("r4", w1, "S2", "b", 125.0)):
            runs[key] = add_run(conn, campaign_id=c, wafer_id=wafer, station=station, operator=op,
                                temperature_c=temp, voltage_v=0.9, hours=24.0)
        img1 = add_fabric_image(conn, w1, IMAGES[0])
        img2 = add_fabric_image(conn, w1, IMAGES[1], parent_id=img1)
        img3 = add_fabric_image(conn, w1, IMAGES[2], parent_id=img2)
        add_remap(conn, wafer_id=w1, old_image_id=img1, new_image_id=img2, at_h=3.0, cores_mapped_out=[9, 12],
                  run_id=runs["r1"])
        add_remap(conn, wafer_id=w1, old_image_id=img2, new_image_id=img3, at_h=9.0, cores_mapped_out=[12, 300],
                  run_id=runs["r1"])
        # three runs in the week of Monday 2026-03-02, one in the next
        for key, day in (("r1", 2), ("r2", 8), ("r3", 9), ("r4", 4)):
            conn.execute(update(Run).where(Run.id == runs[key]).values(started_at=dt.datetime(2026, 3, day, 10)))
    events = []
    # r1: core (1, 2) twice (sram at 0.5 h, then thermal at 2 h), core (3, 4) once; r2: one; r3: a link; r4: none
    for run, seq, t, row, col, link, cls in (("r1", 0, 0.5, 1, 2, None, "sram"), ("r1", 1, 2.0, 1, 2, None, "thermal"),
                                             ("r1", 2, 1.0, 3, 4, None, "marginal_core"),
                                             ("r2", 0, 4.0, 7, 7, None, "sram"),
                                             ("r3", 0, 6.0, None, None, 11, "link_packet_loss")):
        events.append({"run_id": runs[run], "seq": seq, "time_h": t, "core_row": row, "core_col": col,
                       "link_id": link, "fault_class": FaultClass(cls), "detection": "ecc"})
    write_fault_events(db_engine, events)
    return db_engine


def test_wafer_maps(lot_db):
    frame = analysis.wafer_maps(lot_db)
    assert frame["wafer"].tolist() == ["W1", "W2", "W3"]
    assert frame["lost"].tolist() == [False, True, False]
    assert frame["dead_sites"][0].tolist() == [5, 70, 140] and frame["dead_sites"][2].size == 0
    assert frame["mapped_out"][0].tolist() == [9, 12, 300] and frame["n_mapped_out"].tolist() == [3, 0, 0]
    assert analysis.wafer_maps(lot_db, lot="LB")["wafer"].tolist() == ["W3"]
    # the views take it as it is
    classified = views.classify_wafers(SMALL, frame)
    assert classified["signature"].tolist() == ["random", "random", "none"]
    assert views.plot_wafer_gallery(SMALL, frame).legends


def test_waterfall_counts(lot_db):
    frame = analysis.waterfall_counts(lot_db).set_index("wafer")
    assert frame.loc["W1", "dead_at_fab_out"] == 3 and frame.loc["W1", "mapped_out"] == 4  # 2 + 2 (12 twice)
    assert frame.loc["W1", "logical_cores"] == SMALL.logical_cores and np.isnan(frame.loc["W2", "logical_cores"])
    assert frame.loc["W3", "dead_at_fab_out"] == 0
    mean = views.lot_waterfall(SMALL, frame.reset_index())
    assert mean.loc[mean["step"] == "logical fabric", "cores"].item() == SMALL.logical_cores


def test_run_failures_and_commonality(lot_db):
    frame = analysis.run_failures(lot_db, cores_per_wafer=SMALL.logical_cores)
    assert frame["failures"].tolist() == [3, 1, 1, 0]
    assert frame["cores_failed"].tolist() == [2, 1, 0, 0]  # the link event has no core
    assert frame["station"].tolist() == ["S1", "S2", "S1", "S2"]
    np.testing.assert_allclose(frame["core_hours"], 24.0 * SMALL.logical_cores)
    assert analysis.run_failures(lot_db, lot="LB")["run_id"].size == 1
    ranking = views.commonality(frame, exposure="core_hours")
    assert set(ranking["factor"]) == {"station", "operator", "temperature_c", "lot"}  # one voltage level


def test_failure_rate_by_lot_and_week(lot_db):
    by_lot = analysis.failure_rate_by_period(lot_db, cores_per_wafer=100)
    assert by_lot["period"].tolist() == ["LA", "LB"]
    assert by_lot["failures"].tolist() == [4, 1] and by_lot["cores_failed"].tolist() == [3, 0]
    assert by_lot["wafers"].tolist() == [2, 1] and by_lot["cores_tested"].tolist() == [200, 100]
    by_week = analysis.failure_rate_by_period(lot_db, by="week")
    assert by_week["period"].tolist() == ["2026-03-02", "2026-03-09"]
    assert by_week["runs"].tolist() == [3, 1] and by_week["failures"].tolist() == [4, 1]  # the 8th is a Sunday
    chart = views.p_chart(by_lot)
    assert chart["centre"].iloc[0] == pytest.approx(3 / 300)
    with pytest.raises(Exception, match="by must be"):
        analysis.failure_rate_by_period(lot_db, by="month")


def test_first_failure_times(lot_db):
    frame = analysis.first_failure_times(lot_db)
    assert frame[["wafer", "core_row", "core_col", "time_h", "fault_class"]].values.tolist() == [
        ["W1", 1, 2, 0.5, "sram"], ["W1", 3, 4, 1.0, "marginal_core"], ["W2", 7, 7, 4.0, "sram"]]


def test_burn_in_site_counts(lot_db):
    frame = analysis.burn_in_site_counts(lot_db)
    assert frame.values.tolist() == [[1, 2, 1, 2], [3, 4, 1, 1], [7, 7, 1, 1]]
    assert analysis.burn_in_site_counts(lot_db, lot="LB").empty
    freq = views.frequency_from_counts(SMALL, frame, n_wafers=3)
    assert freq[1, 2] == pytest.approx(1 / 3) and np.nansum(freq) == pytest.approx(1.0)
    assert views.plot_stacked_map(SMALL, freq, 3).axes
