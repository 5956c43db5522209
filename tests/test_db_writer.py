"""Bulk fault-event writer and record helpers: db/writer.py (maps and images: test_db_wafer_maps.py)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import exc, select, text

from db.engine import write_transaction
from db.models import FabricImageRecord, Wafer, WaferState, decode_ids
from db.wafer_maps import add_defect_map, add_fabric_image
from db.writer import (
    FaultEventError,
    add_remap,
    set_wafer_state,
    write_fault_events,
    write_workload_executions,
)
from yieldkit.defect_map import DefectMap
from yieldkit.faults import FaultClass

CLASSES = list(FaultClass)


def make_events(runs: list[int], n: int, start: int = 0) -> list[dict]:
    out = []
    for i in range(start, start + n):
        link = i % 5 == 0
        out.append({
            "run_id": runs[i % len(runs)], "seq": i // len(runs), "time_h": 0.5 * i,
            "core_row": None if link else i % 7, "core_col": None if link else i % 11,
            "link_id": i if link else None, "fault_class": CLASSES[i % len(CLASSES)],
            "workload": "stress", "detection": "checksum", "temperature_c": 105.0, "voltage_v": 0.8,
            "action": "map_out",
        })
    return out


def count(engine, sql: str = "SELECT count(*) FROM fault_events") -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql(sql).scalar()


@pytest.mark.parametrize("method", ["auto", "driver", "core"])
def test_write_and_replay_is_idempotent(db_engine, db_seed, method):
    runs = db_seed(3)["runs"]
    events = make_events(runs, 1000)
    stats = write_fault_events(db_engine, events, batch_size=300, method=method)
    assert stats.rows == 1000 and stats.batches == 4
    assert stats.inserted in (1000, -1)
    assert count(db_engine) == 1000
    replay = write_fault_events(db_engine, events[200:700], batch_size=128, method=method)
    assert replay.inserted in (0, -1)
    assert count(db_engine) == 1000
    # A retried stream that overlaps and extends: only the new tail lands.
    more = write_fault_events(db_engine, make_events(runs, 500, start=900), method=method)
    assert more.inserted in (400, -1)
    assert count(db_engine) == 1400
    assert count(db_engine, "SELECT count(*) FROM (SELECT DISTINCT run_id, seq FROM fault_events) d") == 1400


def test_postgres_copy_path(db_engine, db_seed):
    if db_engine.dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL only")
    runs = db_seed(2)["runs"]
    events = make_events(runs, 2000)
    events[3].update(time_h=7, temperature_c=None, voltage_v=1)  # ints where floats go, NULLs
    assert write_fault_events(db_engine, events, batch_size=700, method="copy").inserted == 2000
    assert write_fault_events(db_engine, events, method="copy").inserted == 0
    assert count(db_engine) == 2000
    with db_engine.connect() as conn:
        row = conn.exec_driver_sql(f"SELECT time_h, temperature_c, voltage_v FROM fault_events "
                                   f"WHERE run_id = {events[3]['run_id']} AND seq = {events[3]['seq']}").one()
    assert tuple(row) == (7.0, None, 1.0)


def test_dataframe_input_with_missing_values(db_engine, db_seed):
    runs = db_seed(1)["runs"]
    frame = pd.DataFrame(make_events(runs, 50))
    frame = frame.drop(columns=["workload", "action"])  # optional; action defaults to "none"
    stats = write_fault_events(db_engine, frame, batch_size=20)
    assert stats.inserted == 50
    with db_engine.connect() as conn:
        row = conn.execute(text("SELECT core_row, core_col, link_id, action, workload FROM fault_events "
                                "WHERE seq = 0")).one()
    assert row == (None, None, 0, "none", None)


def test_values_round_trip(db_engine, db_seed):
    runs = db_seed(1)["runs"]
    events = make_events(runs, 3)
    write_fault_events(db_engine, iter(events))  # an iterator is fine
    with db_engine.connect() as conn:
        rows = conn.execute(text("SELECT run_id, seq, time_h, core_row, core_col, link_id, fault_class, workload,"
                                 " detection, temperature_c, voltage_v, action FROM fault_events ORDER BY seq"))
        got = [dict(r._mapping) for r in rows]
    want = [{**e, "fault_class": e["fault_class"].value} for e in events]
    assert got == want


def test_bad_fault_class_writes_nothing(db_engine, db_seed):
    runs = db_seed(1)["runs"]
    events = make_events(runs, 10)
    events[7]["fault_class"] = "gremlins"
    with pytest.raises(FaultEventError, match="unknown fault class 'gremlins'"):
        write_fault_events(db_engine, events)
    assert count(db_engine) == 0


def test_missing_field_is_an_input_error(db_engine, db_seed):
    runs = db_seed(1)["runs"]
    events = make_events(runs, 3)
    del events[1]["detection"]
    with pytest.raises(FaultEventError, match="missing required field 'detection'"):
        write_fault_events(db_engine, events)
    with pytest.raises(FaultEventError, match="missing required column"):
        write_fault_events(db_engine, pd.DataFrame({"run_id": [runs[0]]}))


def test_a_failing_batch_leaves_earlier_batches_whole_and_itself_absent(db_engine, db_seed):
    runs = db_seed(1)["runs"]
    events = make_events(runs, 30)
    events[25]["time_h"] = -1.0  # violates ck_fault_events_time_nonnegative, in the third batch
    with pytest.raises(exc.IntegrityError):
        write_fault_events(db_engine, events, batch_size=10)
    assert count(db_engine) == 20
    assert count(db_engine, "SELECT max(seq) FROM fault_events") == 19


def test_unknown_run_is_rejected_by_foreign_key(db_engine, db_seed):
    db_seed(1)
    with pytest.raises(exc.IntegrityError):
        write_fault_events(db_engine, make_events([424242], 5))
    assert count(db_engine) == 0


def test_workload_executions_idempotent(db_engine, db_seed):
    run = db_seed(1)["runs"][0]
    rows = [{"run_id": run, "seq": i, "workload": "matmul", "start_h": i, "end_h": i + 0.5, "passed": i % 2 == 0,
             "params": None} for i in range(10)]
    assert write_workload_executions(db_engine, rows).rows == 10
    write_workload_executions(db_engine, rows)
    assert count(db_engine, "SELECT count(*) FROM workload_executions") == 10


def test_record_helpers(db_engine, db_seed):
    ids = db_seed(1)
    first, second = (b"YKFABIMG\x01\x00\x00\x00" + tag for tag in (b"one", b"two"))
    with write_transaction(db_engine) as conn:
        dm = add_defect_map(conn, ids["wafer"], DefectMap(10, 12, [5, 3, 5], [40]))
        img1 = add_fabric_image(conn, ids["wafer"], first)
        again = add_fabric_image(conn, ids["wafer"], first)
        img2 = add_fabric_image(conn, ids["wafer"], second, path="/images/w1-2.fab", parent_id=img1)
        add_remap(conn, wafer_id=ids["wafer"], old_image_id=img1, new_image_id=img2, at_h=12.5,
                  cores_mapped_out=[17, 4], run_id=ids["runs"][0], reason="marginal core")
        set_wafer_state(conn, ids["wafer"], WaferState.IN_BURN_IN)
    assert again == img1 and img2 != img1 and dm >= 1
    with db_engine.connect() as conn:
        blob = conn.exec_driver_sql("SELECT dead_sites FROM defect_maps").scalar()
        assert decode_ids(blob).tolist() == [3, 5]
        assert conn.scalar(select(Wafer.state)) == WaferState.IN_BURN_IN
        assert conn.scalar(select(FabricImageRecord.parent_id).where(FabricImageRecord.id == img2)) == img1
        assert conn.scalar(select(FabricImageRecord.size_bytes).where(FabricImageRecord.id == img2)) == len(second)
    with pytest.raises(exc.IntegrityError):  # neither blob nor path
        with write_transaction(db_engine) as conn:
            conn.exec_driver_sql(f"INSERT INTO fabric_images (wafer_id, sha256, format_version, size_bytes) "
                                 f"VALUES ({ids['wafer']}, '{'c' * 64}', 1, 0)")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=st.lists(st.tuples(st.integers(0, 300), st.integers(1, 120)), min_size=1, max_size=6),
       batch_size=st.integers(1, 200))
def test_any_replay_pattern_stores_each_event_once(db_engine, db_seed, chunks, batch_size):
    """Property: whatever overlapping ranges are (re)written, each (run, seq) is stored exactly once."""
    with write_transaction(db_engine) as conn:
        conn.exec_driver_sql("DELETE FROM fault_events")
        run = conn.exec_driver_sql("SELECT min(id) FROM runs").scalar()
    if run is None:
        run = db_seed(1)["runs"][0]
    expected: set[int] = set()
    for start, n in chunks:
        stats = write_fault_events(db_engine, make_events([run], n, start=start), batch_size=batch_size)
        new = set(range(start, start + n)) - expected
        assert stats.inserted == len(new)
        expected |= new
    with db_engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT seq FROM fault_events ORDER BY seq").scalars().all()
    assert stored == sorted(expected)


def test_write_stats_record(db_engine, db_seed):
    import json

    run = db_seed(1)["runs"][0]
    write_fault_events(db_engine, make_events([run], 5))
    record = json.loads(json.dumps(write_fault_events(db_engine, make_events([run], 8)).to_dict()))
    assert (record["rows"], record["inserted"], record["duplicates"], record["batches"]) == (8, 3, 5, 1)
