"""Benchmark: Pareto of fault classes over 10 million fault events in SQLite (target < 2 s).

Usage::

    .venv/bin/python benchmarks/bench_db_pareto.py [--events 10000000] [--rebuild]
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

The database is built once (one ``INSERT ... SELECT`` from a recursive CTE,
deterministic, skewed class mix) and cached as
``/tmp/yieldkit-bench/pareto-<N>.db``; it is never committed. The timed call
is the library function ``db.queries.pareto(engine)`` (SQL ``GROUP BY`` on the
covering index ``ix_fault_events_fault_class``): a cold call on a fresh
engine, then the median of 5 warm calls. ``--pg`` also times PostgreSQL in a
throw-away schema (built with ``generate_series``; dropped afterwards).
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from pathlib import Path

from db import queries
from db.engine import make_engine, write_transaction
from db.migrate import upgrade
from db.writer import add_run, add_wafer, ensure_campaign, ensure_lot

TARGET_S = 2.0
CACHE = Path("/tmp/yieldkit-bench")
N_RUNS = 8

# Skewed, deterministic class mix per mille: a Pareto worth plotting.
_MIX = [("sram", 420), ("marginal_core", 230), ("transient_bit_flip", 140), ("link_packet_loss", 90),
        ("permanent_core", 60), ("control_register_upset", 40), ("thermal", 20)]


def _case(expr: str) -> str:
    parts, edge = [], 0
    for name, share in _MIX[:-1]:
        edge += share
        parts.append(f"WHEN {expr} < {edge} THEN '{name}'")
    return f"CASE {' '.join(parts)} ELSE '{_MIX[-1][0]}' END"


def _seed(engine) -> list[int]:
    with write_transaction(engine) as conn:
        lot = ensure_lot(conn, "BENCH")
        wafer = add_wafer(conn, lot, f"W-{uuid.uuid4().hex[:8]}", "wse")
        camp = ensure_campaign(conn, "bench-pareto")
        return [add_run(conn, campaign_id=camp, wafer_id=wafer, station=f"S{i}", operator="bench",
                        temperature_c=125.0, voltage_v=0.85, hours=168.0) for i in range(N_RUNS)]


def build_sqlite(path: Path, n: int) -> float:
    t0 = time.perf_counter()
    partial = path.with_suffix(".building")
    for p in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        p.unlink(missing_ok=True)
    url = f"sqlite:///{partial}"
    upgrade(url)
    engine = make_engine(url)
    runs = _seed(engine)
    hashed = "((i * 2654435761) % 1000)"
    with write_transaction(engine) as conn:
        # Build the covering index after the load (one sort instead of 10M inserts), same name as the migration.
        conn.exec_driver_sql("DROP INDEX ix_fault_events_fault_class")
        conn.exec_driver_sql(f"""
            WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {n - 1})
            INSERT INTO fault_events (run_id, seq, time_h, core_row, core_col, link_id, fault_class,
                                      workload, detection, temperature_c, voltage_v, action)
            SELECT {runs[0]} + (i % {N_RUNS}), i / {N_RUNS}, (i / {N_RUNS}) * 168.0 / {max(1, n // N_RUNS)},
                   (i * 7919) % 1200, (i * 104729) % 810, NULL, {_case(hashed)},
                   'stress', 'checksum', 125.0, 0.85, 'none'
            FROM s""")
        conn.exec_driver_sql("CREATE INDEX ix_fault_events_fault_class ON fault_events (fault_class)")
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    engine.dispose()
    partial.rename(path)
    return time.perf_counter() - t0


def time_pareto(url: str) -> tuple[float, float, object]:
    engine = make_engine(url)
    t0 = time.perf_counter()
    frame = queries.pareto(engine)
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(5):
        t0 = time.perf_counter()
        queries.pareto(engine)
        warm.append(time.perf_counter() - t0)
    engine.dispose()
    return cold, statistics.median(warm), frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--rebuild", action="store_true", help="Rebuild the cached database.")
    parser.add_argument("--pg", default=None, help="Also time PostgreSQL at this URL.")
    args = parser.parse_args()

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"pareto-{args.events}.db"
    if args.rebuild or not path.exists():
        print(f"building {path} ({args.events:,} events) ...", flush=True)
        print(f"built in {build_sqlite(path, args.events):.1f} s")
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.exec_driver_sql("SELECT count(*) FROM fault_events").scalar()
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT fault_class, count(*) FROM fault_events GROUP BY fault_class").fetchall()
    engine.dispose()
    cold, warm, frame = time_pareto(url)
    print(frame.to_string(index=False))
    print(f"SQLite plan: {'; '.join(str(r[-1]) for r in plan)}")
    print(f"SQLite Pareto over {n:,} events: first call {cold:.3f} s, median of 5 warm calls {warm:.3f} s "
          f"(target < {TARGET_S} s): {'PASS' if max(cold, warm) < TARGET_S else 'FAIL'}")

    if args.pg:
        schema = f"yk_bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(args.pg)
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        sep = "&" if "?" in args.pg else "?"
        pg_url = f"{args.pg}{sep}options=-csearch_path%3D{schema}"
        try:
            upgrade(pg_url)
            pg = make_engine(pg_url)
            runs = _seed(pg)
            t0 = time.perf_counter()
            with write_transaction(pg) as conn:
                conn.exec_driver_sql((f"""
                    INSERT INTO fault_events (run_id, seq, time_h, core_row, core_col, fault_class, detection, action)
                    SELECT {runs[0]} + (i % {N_RUNS}), i / {N_RUNS}, (i / {N_RUNS}) * 168.0 / {max(1, args.events // N_RUNS)},
                           (i * 7919) % 1200, (i * 104729) % 810, {_case('((i * 2654435761) % 1000)')}, 'checksum', 'none'
                    FROM generate_series(0::bigint, {args.events - 1}) AS i""").replace("%", "%%"))
            with pg.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE fault_events")  # visibility map: index-only scans
            print(f"PostgreSQL: built {args.events:,} events in {time.perf_counter() - t0:.1f} s")
            pg.dispose()
            cold, warm, _ = time_pareto(pg_url)
            print(f"PostgreSQL Pareto: first call {cold:.3f} s, median of 5 warm calls {warm:.3f} s")
        finally:
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            admin.dispose()


if __name__ == "__main__":
    main()
