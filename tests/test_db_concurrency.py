"""Several writer processes at once, and a writer killed mid-stream: db/writer.py, db/wafer_maps.py, db/engine.py."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from collections import defaultdict

import pytest

from db.engine import make_engine, write_transaction
from db.writer import write_fault_events

N_WRITERS = 4
BATCHES = 12
BATCH = 250
SHARED = 1000  # events every writer also writes into one shared run: must land exactly once

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _events(run_id: int, start: int, n: int) -> list[dict]:
    return [{"run_id": run_id, "seq": s, "time_h": s * 0.01, "core_row": s % 64, "core_col": (7 * s) % 68,
             "fault_class": ("sram", "thermal", "marginal_core")[s % 3], "detection": "ecc",
             "workload": "stress", "action": "none"} for s in range(start, start + n)]


def _writer(url: str, run_id: int, shared_run: int) -> None:
    """One burn-in station: its own run in small batches, interleaved with the shared run."""
    engine = make_engine(url)
    try:
        for b in range(BATCHES):
            write_fault_events(engine, _events(run_id, b * BATCH, BATCH), batch_size=BATCH)
            if b % 3 == 0:
                write_fault_events(engine, _events(shared_run, 0, SHARED), batch_size=SHARED // 2)
    finally:
        engine.dispose()


def _endless_writer(url: str, run_id: int, batch: int) -> None:
    engine = make_engine(url)
    b = 0
    while True:
        write_fault_events(engine, _events(run_id, b * batch, batch), batch_size=batch)
        b += 1


def _scalar(url: str, sql: str):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql(sql).scalar()
    finally:
        engine.dispose()


def test_concurrent_writers_lose_and_duplicate_nothing(db_url, db_seed):
    runs = db_seed(N_WRITERS + 1)["runs"]
    shared = runs[-1]
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(db_url, runs[i], shared)) for i in range(N_WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * N_WRITERS  # no writer failed (e.g. on a lock)
    for run in runs[:-1]:
        assert _scalar(db_url, f"SELECT count(*) FROM fault_events WHERE run_id = {run}") == BATCHES * BATCH
    assert _scalar(db_url, f"SELECT count(*) FROM fault_events WHERE run_id = {shared}") == SHARED
    total = N_WRITERS * BATCHES * BATCH + SHARED
    assert _scalar(db_url, "SELECT count(*) FROM fault_events") == total
    assert _scalar(db_url, "SELECT count(*) FROM (SELECT DISTINCT run_id, seq FROM fault_events) d") == total


def test_writer_killed_mid_stream_leaves_whole_batches(db_url, db_seed):
    run = db_seed(1)["runs"][0]
    batch = 5000
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=_endless_writer, args=(db_url, run, batch))
    proc.start()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if _scalar(db_url, "SELECT count(*) FROM fault_events") >= 3 * batch:
                break
            time.sleep(0.02)
        else:
            pytest.fail("writer made no progress")
        time.sleep(0.013 * (1 + os.getpid() % 7))  # land somewhere inside a later batch
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(timeout=10)
        assert proc.exitcode == -signal.SIGKILL
    finally:
        if proc.is_alive():
            proc.kill()

    if db_url.startswith("sqlite"):
        assert _scalar(db_url, "PRAGMA integrity_check") == "ok"
    n = _scalar(db_url, "SELECT count(*) FROM fault_events")
    assert n >= 3 * batch and n % batch == 0  # committed batches whole, no partial batch
    assert _scalar(db_url, "SELECT max(seq) FROM fault_events") == n - 1  # and in order, no gaps

    # Replay everything (the committed batches and two more): only the missing rows land.
    engine = make_engine(db_url)
    try:
        stats = write_fault_events(engine, _events(run, 0, n + 2 * batch), batch_size=batch)
    finally:
        engine.dispose()
    assert stats.inserted == 2 * batch
    assert _scalar(db_url, "SELECT count(*) FROM fault_events") == n + 2 * batch
    assert _scalar(db_url, "SELECT count(DISTINCT seq) FROM fault_events") == n + 2 * batch


def _upgrader(url: str) -> None:
    from db.migrate import upgrade

    assert upgrade(url).at_head


def test_concurrent_upgrades_all_succeed(empty_db_url):
    from db.migrate import current

    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_upgrader, args=(empty_db_url,)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    assert current(empty_db_url).at_head


# --- stations racing to create the same lot, campaign and image -----------------------------------

RACE_STATIONS = 4
RACE_TRIALS = 10


def _fake_image(trial: int) -> bytes:
    """Bytes that start like a fabric image (the writer reads only the magic and version)."""
    return b"YKFABIMG\x01\x00\x00\x00" + f"race trial {trial}".encode()


def _racing_station(url: str, wafer_id: int, transaction: str, barrier, results) -> None:
    """Each trial: wait for all stations, then create the same lot, campaign and image at once."""
    from db.wafer_maps import add_fabric_image
    from db.writer import ensure_campaign, ensure_lot

    engine = make_engine(url)
    steps = {
        "lot": lambda conn, t: ensure_lot(conn, f"RACE-L{t}"),
        "campaign": lambda conn, t: ensure_campaign(conn, f"race-c{t}"),
        "image": lambda conn, t: add_fabric_image(conn, wafer_id, _fake_image(t)),
    }
    try:
        for trial in range(RACE_TRIALS):
            for kind, step in steps.items():
                barrier.wait(timeout=120)  # generous: the stations start slowly on a loaded machine
                # write_transaction is the documented way (BEGIN IMMEDIATE on SQLite); engine.begin()
                # is a plain deferred transaction, which a careless caller could use.
                with (write_transaction(engine) if transaction == "write_transaction" else engine.begin()) as conn:
                    results.put((kind, trial, step(conn, trial)))
    except BaseException as err:
        results.put(("error", type(err).__name__, str(err).splitlines()[0]))
        barrier.abort()  # release the other stations instead of leaving them waiting
        raise
    finally:
        engine.dispose()


@pytest.mark.parametrize("transaction", ["write_transaction", "begin"])
def test_stations_racing_to_create_the_same_rows_all_get_one_id(db_backend, db_url, db_seed, transaction):
    if db_backend == "postgresql" and transaction == "begin":
        pytest.skip("on PostgreSQL write_transaction is a plain BEGIN: the write_transaction case covers it")
    wafer = db_seed(0)["wafer"]
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(RACE_STATIONS)
    results = ctx.Queue()
    procs = [ctx.Process(target=_racing_station, args=(db_url, wafer, transaction, barrier, results))
             for _ in range(RACE_STATIONS)]
    for p in procs:
        p.start()
    ids: dict[tuple[str, int], set[int]] = defaultdict(set)
    errors = []
    expected = 3 * RACE_TRIALS * RACE_STATIONS
    received = 0
    deadline = time.monotonic() + 180
    while received < expected and time.monotonic() < deadline:
        if not any(p.is_alive() for p in procs) and results.empty():
            break
        try:
            item = results.get(timeout=1)
        except Exception:  # noqa: BLE001 - queue.Empty: poll the processes again
            continue
        if item[0] == "error":
            errors.append(item)
            continue
        kind, trial, row_id = item
        ids[(kind, trial)].add(row_id)
        received += 1
    for p in procs:
        p.join(timeout=60)
    assert errors == []  # e.g. a duplicate-key IntegrityError or "database is locked"
    assert [p.exitcode for p in procs] == [0] * RACE_STATIONS
    assert received == expected
    assert all(len(found) == 1 for found in ids.values())  # every station got the same row
    assert _scalar(db_url, "SELECT count(*) FROM lots WHERE name LIKE 'RACE-L%%'") == RACE_TRIALS
    assert _scalar(db_url, "SELECT count(*) FROM campaigns WHERE name LIKE 'race-c%%'") == RACE_TRIALS
    assert _scalar(db_url, "SELECT count(*) FROM fabric_images") == RACE_TRIALS
