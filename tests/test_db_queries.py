"""Analyst queries: db/queries.py."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from db import queries
from db.engine import write_transaction
from db.models import WaferState
from db.wafer_maps import add_fabric_image
from db.writer import (
    add_remap,
    add_run,
    add_wafer,
    ensure_campaign,
    ensure_lot,
    write_fault_events,
)
from yieldkit.errors import InputError
from yieldkit.faults import FaultClass


#: Three image versions of wafer W1 (the writer reads only the magic and format version).
IMAGES = [b"YKFABIMG\x01\x00\x00\x00" + f"image {k}".encode() for k in range(3)]


@pytest.fixture
def populated(db_engine):
    """Two lots, three wafers, two campaigns; a known set of fault events."""
    with write_transaction(db_engine) as conn:
        la, lb = ensure_lot(conn, "LA"), ensure_lot(conn, "LB")
        w1 = add_wafer(conn, la, "W1", "small", WaferState.SHIPPED)
        w2 = add_wafer(conn, la, "W2", "small", WaferState.SCRAPPED)
        w3 = add_wafer(conn, lb, "W3", "small", WaferState.IN_BURN_IN)
        c1, c2 = ensure_campaign(conn, "htol"), ensure_campaign(conn, "hast")
        r1 = add_run(conn, campaign_id=c1, wafer_id=w1, station="S1", operator="a", temperature_c=125,
                     voltage_v=0.9, hours=48)
        r2 = add_run(conn, campaign_id=c1, wafer_id=w2, station="S2", operator="a", temperature_c=125,
                     voltage_v=0.9, hours=48)
        r3 = add_run(conn, campaign_id=c2, wafer_id=w3, station="S1", operator="b", temperature_c=85,
                     voltage_v=0.8, hours=48)
        img1 = add_fabric_image(conn, w1, IMAGES[0])
        img2 = add_fabric_image(conn, w1, IMAGES[1], parent_id=img1)
        img3 = add_fabric_image(conn, w1, IMAGES[2], parent_id=img2)
        add_remap(conn, wafer_id=w1, old_image_id=img2, new_image_id=img3, at_h=30.0, cores_mapped_out=[9],
                  run_id=r1, reason="second")
        add_remap(conn, wafer_id=w1, old_image_id=img1, new_image_id=img2, at_h=5.0, cores_mapped_out=[4, 2],
                  run_id=r1, reason="first")
    # (run, class, time_h) -> counts: sram 6, thermal 3, permanent 1 ...
    spec = [(r1, FaultClass.SRAM, [0.1, 0.2, 0.5, 1.5, 3.2]), (r2, FaultClass.SRAM, [2.5]),
            (r1, FaultClass.THERMAL, [10.0, 11.0]), (r3, FaultClass.THERMAL, [0.7]),
            (r3, FaultClass.PERMANENT_CORE, [4.0])]
    events, seq = [], {}
    for run, cls, times in spec:
        for t in times:
            seq[run] = seq.get(run, -1) + 1
            events.append({"run_id": run, "seq": seq[run], "time_h": t, "core_row": 1, "core_col": 1,
                           "fault_class": cls, "detection": "ecc"})
    write_fault_events(db_engine, events)
    return db_engine


def test_pareto(populated):
    frame = queries.pareto(populated)
    assert frame["fault_class"].tolist() == ["sram", "thermal", "permanent_core"]
    assert frame["count"].tolist() == [6, 3, 1]
    np.testing.assert_allclose(frame["share"], [0.6, 0.3, 0.1])
    np.testing.assert_allclose(frame["cumulative_share"], [0.6, 0.9, 1.0])


def test_pareto_filters(populated):
    assert queries.pareto(populated, lot="LB")["count"].tolist() == [1, 1]
    frame = queries.pareto(populated, campaign="htol", start_h=0.3, end_h=11.0)
    assert dict(zip(frame["fault_class"], frame["count"])) == {"sram": 4, "thermal": 1}
    assert queries.pareto(populated, wafer=["W2", "W3"])["count"].sum() == 3
    assert queries.pareto(populated, lot="nope").empty


def test_fault_events_filters(populated):
    all_events = queries.fault_events(populated)
    assert len(all_events) == 10
    assert set(all_events.columns) >= {"lot", "wafer", "campaign", "station", "time_h", "fault_class"}
    sram = queries.fault_events(populated, fault_class=FaultClass.SRAM, lot="LA")
    assert len(sram) == 6 and set(sram["wafer"]) == {"W1", "W2"}
    window = queries.fault_events(populated, start_h=1.0, end_h=4.0, fault_class=["sram", "permanent_core"])
    assert sorted(window["time_h"].tolist()) == [1.5, 2.5, 3.2]
    assert len(queries.fault_events(populated, limit=3)) == 3
    with pytest.raises(InputError, match="gremlins"):
        queries.fault_events(populated, fault_class="gremlins")


def test_failures_per_hour(populated):
    frame = queries.failures_per_hour(populated, bin_h=1.0, end_h=5.0)
    assert frame["bin"].tolist() == [0, 1, 2, 3, 4]
    assert frame["failures"].tolist() == [4, 1, 1, 1, 1]
    assert frame["bin_start_h"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    wide = queries.failures_per_hour(populated, bin_h=10.0)
    assert wide["failures"].tolist() == [8, 2]
    by_class = queries.failures_per_hour(populated, bin_h=10.0, by_class=True)
    got = {(b, c): n for b, c, n in zip(by_class["bin"], by_class["fault_class"], by_class["failures"])}
    assert got[(0, "sram")] == 6 and got[(1, "thermal")] == 2 and got[(1, "sram")] == 0
    with pytest.raises(InputError):
        queries.failures_per_hour(populated, bin_h=0)


def test_wafers_by_state_and_yield(populated):
    states = queries.wafers_by_state(populated)
    assert set(zip(states["lot"], states["state"], states["wafers"])) == {
        ("LA", "shipped", 1), ("LA", "scrapped", 1), ("LB", "in_burn_in", 1)}
    ylds = queries.yield_per_lot(populated).set_index("lot")
    assert ylds.loc["LA", "wafers"] == 2 and ylds.loc["LA", "finished"] == 2
    assert ylds.loc["LA", "yield"] == pytest.approx(0.5)
    assert ylds.loc["LB", "in_burn_in"] == 1 and np.isnan(ylds.loc["LB", "yield"])


def test_remap_history(populated):
    history = queries.remap_history(populated, "W1")
    assert history["reason"].tolist() == ["first", "second"]
    assert history["at_h"].tolist() == [5.0, 30.0]
    assert history["old_sha256"].tolist() == [hashlib.sha256(image).hexdigest() for image in IMAGES[:2]]
    assert history["cores_mapped_out"][0].tolist() == [2, 4]
    assert history["station"].tolist() == ["S1", "S1"]
    assert queries.remap_history(populated, "W3").empty


def test_table_counts(populated):
    counts = dict(zip(*queries.table_counts(populated).to_dict("list").values()))
    assert counts["fault_events"] == 10 and counts["wafers"] == 3 and counts["remap_actions"] == 2
