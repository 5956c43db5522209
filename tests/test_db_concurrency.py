"""Several writer processes at once, and a writer killed mid-stream: db/writer.py, db/engine.py."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time

import pytest

from db.engine import make_engine
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
