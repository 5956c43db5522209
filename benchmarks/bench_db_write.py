"""Benchmark: bulk fault-event writes (target >= 100,000 events/s into SQLite,
within 2x of raw ``sqlite3.executemany`` into the same table, same run).

Usage::

    .venv/bin/python benchmarks/bench_db_write.py [--events 500000] [--batch 50000]
            [--repeat 3] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

Every path writes the same list of event dicts into a fresh, migrated
database file (same schema, indexes, pragmas: WAL, synchronous=NORMAL), one
transaction per batch, with ``ON CONFLICT (run_id, seq) DO NOTHING``.
PostgreSQL is measured in a throw-away schema when reachable.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from db.engine import make_engine, write_transaction
from db.migrate import upgrade
from db.writer import FAULT_EVENT_COLUMNS, add_run, add_wafer, ensure_campaign, ensure_lot, write_fault_events
from yieldkit.faults import FaultClass

TARGET_EVENTS_PER_S = 100_000
TARGET_RATIO = 2.0


def make_events(n: int, run_ids: list[int], seed: int = 1) -> list[dict]:
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    classes = [c.value for c in FaultClass]
    cls = rng.integers(0, len(classes), n)
    runs = np.array(run_ids)[np.arange(n) % len(run_ids)]
    seqs = np.arange(n) // len(run_ids)
    # A station logs in time order: burn-in time grows with the event number in each run.
    times = seqs * (168.0 / max(1, n // len(run_ids))) + rng.random(n) * 1e-3
    rows = rng.integers(0, 1000, n)
    cols = rng.integers(0, 1000, n)
    link = rng.random(n) < 0.1
    out = []
    for i in range(n):
        is_link = bool(link[i])
        out.append({
            "run_id": int(runs[i]), "seq": int(seqs[i]), "time_h": float(times[i]),
            "core_row": None if is_link else int(rows[i]), "core_col": None if is_link else int(cols[i]),
            "link_id": int(rows[i]) * 2000 + int(cols[i]) if is_link else None,
            "fault_class": classes[cls[i]], "workload": "matmul_stress", "detection": "checksum",
            "temperature_c": 125.0, "voltage_v": 0.85, "action": "map_out",
        })
    return out


def seed_runs(engine, n_runs: int = 4) -> list[int]:
    with write_transaction(engine) as conn:
        lot = ensure_lot(conn, "BENCH")
        wafer = add_wafer(conn, lot, f"W-{uuid.uuid4().hex[:8]}", "small")
        camp = ensure_campaign(conn, "bench")
        return [add_run(conn, campaign_id=camp, wafer_id=wafer, station=f"S{i}", operator="bench",
                        temperature_c=125.0, voltage_v=0.85, hours=168.0) for i in range(n_runs)]


def raw_sqlite(path: Path, events: list, batch: int, named: bool) -> float:
    """Raw ``sqlite3.executemany``, same pragmas and statement, one BEGIN IMMEDIATE .. COMMIT per batch."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA foreign_keys=ON")
    marks = ", ".join(":" + c for c in FAULT_EVENT_COLUMNS) if named else ", ".join("?" * len(FAULT_EVENT_COLUMNS))
    sql = (f"INSERT INTO fault_events ({', '.join(FAULT_EVENT_COLUMNS)}) VALUES ({marks}) "
           "ON CONFLICT (run_id, seq) DO NOTHING")
    t0 = time.perf_counter()
    for start in range(0, len(events), batch):
        con.execute("BEGIN IMMEDIATE")
        con.executemany(sql, events[start:start + batch])
        con.execute("COMMIT")
    dt = time.perf_counter() - t0
    assert con.execute("SELECT count(*) FROM fault_events").fetchone()[0] == len(events)
    con.close()
    return dt


def _fresh(template: Path, path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copy(template, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3, help="Runs per SQLite path; the best is reported.")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    n, batch = args.events, args.batch

    with tempfile.TemporaryDirectory(prefix="yk-bench-write-") as tmp:
        template = Path(tmp) / "template.db"
        engine = make_engine(f"sqlite:///{template}")
        upgrade(engine)
        run_ids = seed_runs(engine)
        engine.dispose()
        events = make_events(n, run_ids)
        print(f"{n:,} fault events, batches of {batch:,}, SQLite {sqlite3.sqlite_version}")

        # Best of --repeat runs per path, the paths interleaved so background load hits all alike.
        best: dict[str, float] = {}
        tuples = [tuple(e[c] for c in FAULT_EVENT_COLUMNS) for e in events]
        for _ in range(args.repeat):
            for method in ("driver", "core", "raw-dicts", "raw-tuples"):
                path = _fresh(template, Path(tmp) / "bench.db")
                if method.startswith("raw"):
                    named = method == "raw-dicts"
                    seconds = raw_sqlite(path, events if named else tuples, batch, named)
                else:
                    engine = make_engine(f"sqlite:///{path}")
                    stats = write_fault_events(engine, events, batch_size=batch, method=method)
                    assert stats.inserted == n, stats
                    replay = write_fault_events(engine, events[:batch], batch_size=batch, method=method)
                    assert replay.inserted == 0, replay
                    engine.dispose()
                    seconds = stats.seconds
                best[method] = max(best.get(method, 0.0), n / seconds)

        ours = best["driver"]
        raw = max(best["raw-dicts"], best["raw-tuples"])
        print(f"best of {args.repeat} runs each, events/s:")
        print(f"  yieldkit write_fault_events, driver executemany (default): {ours:12,.0f}")
        print(f"  yieldkit write_fault_events, SQLAlchemy Core insert       : {best['core']:12,.0f}")
        print(f"  raw sqlite3.executemany, the same dicts (:named)          : {best['raw-dicts']:12,.0f}")
        print(f"  raw sqlite3.executemany, pre-built tuples (?), no convert : {best['raw-tuples']:12,.0f}")
        print(f"  ratio best raw / yieldkit default: {raw / ours:.2f}x  (target <= {TARGET_RATIO}x); "
              f"best raw / Core: {raw / best['core']:.2f}x")
        ok = ours >= TARGET_EVENTS_PER_S and raw / ours <= TARGET_RATIO
        print(f"target >= {TARGET_EVENTS_PER_S:,} events/s and <= {TARGET_RATIO}x raw: {'PASS' if ok else 'FAIL'}")

    # PostgreSQL, if reachable: a throw-away schema.
    schema = f"yk_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = make_engine(args.pg)
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except Exception as err:  # noqa: BLE001
        print(f"PostgreSQL: not reachable at {args.pg} ({type(err).__name__}); skipped")
        return
    sep = "&" if "?" in args.pg else "?"
    url = f"{args.pg}{sep}options=-csearch_path%3D{schema}"
    try:
        engine = make_engine(url)
        upgrade(engine)
        run_ids = seed_runs(engine)
        pg_events = make_events(n, run_ids)
        print("PostgreSQL (one run each):")
        for method in ("copy", "driver", "core"):
            with write_transaction(engine) as conn:
                conn.exec_driver_sql("TRUNCATE fault_events")
            stats = write_fault_events(engine, pg_events, batch_size=batch, method=method)
            assert stats.inserted in (n, -1), stats
            print(f"  PostgreSQL write_fault_events, {method:6s}: {n / stats.seconds:12,.0f} events/s")
        engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


if __name__ == "__main__":
    main()
