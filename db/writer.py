"""Writers: the bulk fault-event logger and small helpers for the other records.

Fault events are the high-volume rows (a burn-in station logs thousands per
hour per wafer). :func:`write_fault_events` writes them in batches, one
transaction per batch, with ``INSERT ... ON CONFLICT (run_id, seq) DO
NOTHING`` so a replayed or retried batch adds nothing. A batch is committed
whole or not at all; a writer killed mid-stream leaves only whole batches.

Paths (``method``):

* ``"driver"`` (default on SQLite): the compiled INSERT through the DBAPI's
  ``executemany`` (``Connection.exec_driver_sql``), rows as tuples;
* ``"copy"`` (default on PostgreSQL): psycopg ``COPY`` into a temporary
  staging table, then one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``;
* ``"core"``: SQLAlchemy Core ``conn.execute(insert(table), list_of_dicts)``
  (executemany / insertmanyvalues), for comparison.

``benchmarks/bench_db_write.py`` measures all three against raw
``sqlite3.executemany``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, Table, exc, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from db.engine import write_transaction
from db.models import (
    Campaign,
    FaultEvent,
    Lot,
    RemapAction,
    Run,
    Wafer,
    WaferState,
    WorkloadExecution,
    encode_ids,
)
from yieldkit.errors import InputError
from yieldkit.faults import FaultClass

__all__ = [
    "FAULT_EVENT_COLUMNS",
    "FaultEventError",
    "WriteStats",
    "write_fault_events",
    "write_workload_executions",
    "ensure_lot",
    "add_wafer",
    "set_wafer_state",
    "ensure_campaign",
    "add_run",
    "add_remap",
    "insert_or_select",
]

#: Columns a fault event row may carry (``id`` is assigned by the database).
FAULT_EVENT_COLUMNS: tuple[str, ...] = (
    "run_id", "seq", "time_h", "core_row", "core_col", "link_id", "fault_class",
    "workload", "detection", "temperature_c", "voltage_v", "action",
)
_REQUIRED = ("run_id", "seq", "time_h", "fault_class", "detection")
_DEFAULTS = {"action": "none"}
_INT_COLUMNS = {"run_id", "seq", "core_row", "core_col", "link_id"}
# FaultClass is a str enum: members hash and compare equal to their values,
# so one dict maps both a member and its string to the stored value.
_FAULT_VALUES = {m.value: m.value for m in FaultClass}
DEFAULT_BATCH = 50_000


class FaultEventError(InputError):
    """A fault event row is missing a field or has an unknown fault class."""


@dataclass(frozen=True)
class WriteStats:
    """What a bulk write did: rows offered, rows new to the database, batches, wall time [s]."""

    rows: int
    inserted: int
    batches: int
    seconds: float

    @property
    def duplicates(self) -> int:
        return self.rows - self.inserted

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else math.inf

    def to_dict(self) -> dict[str, float | int]:
        """The write as a flat, JSON-safe record (``rows_per_s`` None when too fast to time)."""
        rate = self.rows_per_s
        return {"rows": self.rows, "inserted": self.inserted, "duplicates": self.duplicates, "batches": self.batches,
                "seconds": self.seconds, "rows_per_s": rate if math.isfinite(rate) else None}


def _fault_value(value: Any) -> str:
    try:
        return _FAULT_VALUES[value]
    except (KeyError, TypeError):
        raise FaultEventError(
            f"unknown fault class {value!r}; expected one of {', '.join(_FAULT_VALUES)}"
        ) from None


def _tuples_from_mappings(rows: Iterable[Mapping[str, Any]]) -> list[tuple]:
    out = []
    append = out.append
    fault = _FAULT_VALUES
    try:
        for r in rows:
            get = r.get
            fc = r["fault_class"]
            append((
                r["run_id"], r["seq"], r["time_h"], get("core_row"), get("core_col"), get("link_id"),
                fault[fc] if fc in fault else _fault_value(fc),
                get("workload"), r["detection"], get("temperature_c"), get("voltage_v"), get("action", "none"),
            ))
    except KeyError as err:
        raise FaultEventError(f"fault event is missing required field {err.args[0]!r}") from None
    return out


def _tuples_from_frame(frame: pd.DataFrame) -> list[tuple]:
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise FaultEventError(f"fault events are missing required column(s) {', '.join(missing)}")
    n = len(frame)
    columns = []
    for name in FAULT_EVENT_COLUMNS:
        if name not in frame.columns:
            columns.append([_DEFAULTS.get(name)] * n)
            continue
        series = frame[name]
        if name == "fault_class":
            values = [_fault_value(v) for v in series.tolist()]
        else:
            values = series.tolist()
            mask = series.isna().to_numpy()
            if mask.any():
                values = [None if m else v for v, m in zip(values, mask)]
            if name in _INT_COLUMNS and series.dtype.kind == "f":
                values = [None if v is None else int(v) for v in values]
        columns.append(values)
    return list(zip(*columns))


def _batches(events: Any, batch_size: int) -> Iterator[list[tuple]]:
    if isinstance(events, pd.DataFrame):
        for start in range(0, len(events), batch_size):
            yield _tuples_from_frame(events.iloc[start:start + batch_size])
        return
    iterator = iter(events)
    while True:
        chunk = list(islice(iterator, batch_size))
        if not chunk:
            return
        yield _tuples_from_mappings(chunk)


def _insert_sql(dialect: str) -> str:
    cols = ", ".join(FAULT_EVENT_COLUMNS)
    marks = ", ".join(["?" if dialect == "sqlite" else "%s"] * len(FAULT_EVENT_COLUMNS))
    return f"INSERT INTO fault_events ({cols}) VALUES ({marks}) ON CONFLICT (run_id, seq) DO NOTHING"


_PG_STAGE = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS yk_fault_stage ("
    "run_id integer, seq bigint, time_h double precision, core_row integer, core_col integer, "
    "link_id bigint, fault_class text, workload text, detection text, temperature_c double precision, "
    "voltage_v double precision, action text) ON COMMIT DELETE ROWS"
)


_PG_COPY_TYPES = ["int4", "int8", "float8", "int4", "int4", "int8", "text", "text", "text", "float8", "float8",
                  "text"]


def _write_copy(conn: Connection, rows: list[tuple]) -> int:
    cols = ", ".join(FAULT_EVENT_COLUMNS)
    conn.exec_driver_sql(_PG_STAGE)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        with cur.copy(f"COPY yk_fault_stage ({cols}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_PG_COPY_TYPES)  # binary COPY: ~1.5x the text format (bench_db_write.py)
            for row in rows:
                copy.write_row(row)
    result = conn.exec_driver_sql(
        f"INSERT INTO fault_events ({cols}) SELECT {cols} FROM yk_fault_stage "
        "ON CONFLICT (run_id, seq) DO NOTHING"
    )
    return result.rowcount  # the staging rows go at COMMIT (ON COMMIT DELETE ROWS)


def _write_core(conn: Connection, rows: list[tuple]) -> int:
    ins = _dialect_insert(conn, FaultEvent.__table__)
    stmt = ins.on_conflict_do_nothing(index_elements=["run_id", "seq"])
    params = [dict(zip(FAULT_EVENT_COLUMNS, row)) for row in rows]
    result = conn.execute(stmt, params)
    # insertmanyvalues batches do not report a reliable total rowcount on every driver.
    return result.rowcount if conn.dialect.name == "sqlite" else -1


def write_fault_events(
    engine: Engine,
    events: Iterable[Mapping[str, Any]] | pd.DataFrame,
    *,
    batch_size: int = DEFAULT_BATCH,
    method: str = "auto",
) -> WriteStats:
    """Write fault events in batches, idempotently.

    Parameters
    ----------
    engine : Engine
        From :func:`db.engine.make_engine`.
    events : iterable of mappings, or DataFrame
        Rows with the keys of :data:`FAULT_EVENT_COLUMNS`: required ``run_id``,
        ``seq`` (event number within the run), ``time_h`` [h], ``fault_class``
        (a :class:`~yieldkit.faults.FaultClass` or its value) and
        ``detection``; a core ``core_row``/``core_col`` or a ``link_id``;
        optional ``workload``, ``temperature_c`` [degC], ``voltage_v`` [V],
        ``action`` (default ``"none"``). An iterator is consumed lazily.
    batch_size : int
        Rows per transaction.
    method : {"auto", "driver", "copy", "core"}
        Write path (module docstring); ``auto`` is ``copy`` on PostgreSQL,
        ``driver`` elsewhere.

    Returns
    -------
    WriteStats
        ``inserted`` excludes rows already present (same ``run_id``, ``seq``);
        it is -1 when the driver cannot tell (``method="core"`` on PostgreSQL).

    Examples
    --------
    >>> from db.engine import make_engine
    >>> from db.migrate import upgrade
    >>> engine = make_engine("sqlite://")
    >>> _ = upgrade(engine)
    >>> with write_transaction(engine) as conn:
    ...     wafer = add_wafer(conn, ensure_lot(conn, "L1"), "W1", "small")
    ...     run = add_run(conn, campaign_id=ensure_campaign(conn, "htol"), wafer_id=wafer, station="S1",
    ...                   operator="op", temperature_c=125.0, voltage_v=0.9, hours=24.0)
    >>> events = [{"run_id": run, "seq": s, "time_h": 0.5 * s, "core_row": 3, "core_col": s,
    ...            "fault_class": "sram", "detection": "ecc"} for s in range(4)]
    >>> write_fault_events(engine, events).inserted
    4
    >>> stats = write_fault_events(engine, events)  # a replay adds nothing
    >>> stats.inserted, stats.duplicates
    (0, 4)
    """
    if batch_size < 1:
        raise InputError(f"batch_size must be >= 1, got {batch_size}")
    dialect = engine.dialect.name
    if method == "auto":
        method = "copy" if dialect == "postgresql" else "driver"
    if method == "copy" and dialect != "postgresql":
        raise InputError("method='copy' needs PostgreSQL")
    if method not in ("driver", "copy", "core"):
        raise InputError(f"unknown write method {method!r}")
    sql = _insert_sql(dialect)
    t0 = time.perf_counter()
    rows = inserted = batches = 0
    unknown = False
    for batch in _batches(events, batch_size):
        for attempt in range(_RETRIES + 1):
            try:
                with write_transaction(engine) as conn:
                    if method == "driver":
                        n = conn.exec_driver_sql(sql, batch).rowcount
                    elif method == "copy":
                        n = _write_copy(conn, batch)
                    else:
                        n = _write_core(conn, batch)
                break
            except exc.OperationalError as err:
                # A batch is idempotent, so a lock timeout or a PostgreSQL deadlock /
                # serialization failure is retried rather than lost.
                if attempt == _RETRIES or not _retryable(err):
                    raise
                time.sleep(0.05 * 2**attempt)
        rows += len(batch)
        unknown |= n is None or n < 0
        inserted += max(n or 0, 0)
        batches += 1
    return WriteStats(rows, -1 if unknown else inserted, batches, time.perf_counter() - t0)


_RETRIES = 3


def _retryable(err: exc.OperationalError) -> bool:
    code = getattr(err.orig, "sqlstate", None)
    return code in ("40P01", "40001") or "locked" in str(err.orig).lower()


def _insert_ignore(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], keys: list[str]) -> int:
    ins = _dialect_insert(conn, table)
    return conn.execute(ins.on_conflict_do_nothing(index_elements=keys), list(rows)).rowcount


def write_workload_executions(engine: Engine, rows: Iterable[Mapping[str, Any]], *,
                              batch_size: int = DEFAULT_BATCH) -> WriteStats:
    """Write workload executions (keys: run_id, seq, workload, start_h [h], end_h, passed, params), idempotently."""
    t0 = time.perf_counter()
    total = inserted = batches = 0
    iterator = iter(rows)
    while chunk := [dict(r) for r in islice(iterator, batch_size)]:
        with write_transaction(engine) as conn:
            inserted += max(_insert_ignore(conn, WorkloadExecution.__table__, chunk, ["run_id", "seq"]), 0)
        total += len(chunk)
        batches += 1
    return WriteStats(total, inserted, batches, time.perf_counter() - t0)


# --- small records: call inside ``with write_transaction(engine) as conn`` -------------------------


def _dialect_insert(conn: Connection, table: Table) -> Any:
    """The INSERT construct of the connection's dialect (both have ``on_conflict_do_nothing``)."""
    return sqlite.insert(table) if conn.dialect.name == "sqlite" else postgresql.insert(table)


def insert_or_select(conn: Connection, table: Table, key: Mapping[str, Any],
                     values: Mapping[str, Any] | None = None) -> tuple[int, bool]:
    """Id of the row of ``table`` whose unique ``key`` columns hold ``key``; insert it if missing.

    ``INSERT ... ON CONFLICT (key) DO NOTHING RETURNING id``, then, when a
    row was already there, a ``SELECT``. Never check-then-insert: two
    stations creating the same row at once both get its id, neither a
    duplicate-key error. On PostgreSQL (READ COMMITTED) the INSERT waits for
    a concurrent inserter's transaction and the SELECT, a new statement,
    sees its row; on SQLite the INSERT takes the write lock before anything
    is read.

    Returns
    -------
    (int, bool)
        The row's id and whether this call inserted it.

    Examples
    --------
    >>> from db.engine import make_engine
    >>> from db.migrate import upgrade
    >>> engine = make_engine("sqlite://")
    >>> _ = upgrade(engine)
    >>> with write_transaction(engine) as conn:
    ...     insert_or_select(conn, Lot.__table__, {"name": "L7"}), insert_or_select(conn, Lot.__table__, {"name": "L7"})
    ((1, True), (1, False))
    """
    stmt = (_dialect_insert(conn, table).values(**key, **(values or {}))
            .on_conflict_do_nothing(index_elements=list(key)).returning(table.c.id))
    new_id = conn.execute(stmt).scalar()
    if new_id is not None:
        return new_id, True
    found = conn.execute(select(table.c.id).where(*(table.c[k] == v for k, v in key.items()))).scalar_one()
    return found, False


def ensure_lot(conn: Connection, name: str, notes: str | None = None) -> int:
    """Id of the lot ``name``, created if missing (safe when several stations call it at once).

    Examples
    --------
    >>> from db.engine import make_engine, write_transaction
    >>> from db.migrate import upgrade
    >>> engine = make_engine("sqlite://")
    >>> _ = upgrade(engine)
    >>> with write_transaction(engine) as conn:
    ...     ensure_lot(conn, "L042") == ensure_lot(conn, "L042")
    True
    """
    return insert_or_select(conn, Lot.__table__, {"name": name}, {"notes": notes})[0]


def add_wafer(conn: Connection, lot_id: int, serial: str, design: str,
              state: WaferState | str = WaferState.FABRICATED) -> int:
    """Insert a wafer; return its id."""
    state = WaferState(state)
    return conn.execute(
        insert(Wafer).values(lot_id=lot_id, serial=serial, design=design, state=state).returning(Wafer.id)
    ).scalar_one()


def set_wafer_state(conn: Connection, wafer_id: int, state: WaferState | str) -> None:
    """Move a wafer to ``state``."""
    conn.execute(update(Wafer).where(Wafer.id == wafer_id).values(state=WaferState(state),
                                                                   updated_at=func.current_timestamp()))


def ensure_campaign(conn: Connection, name: str, description: str | None = None, seed: int | None = None) -> int:
    """Id of the campaign ``name``, created if missing (safe when several stations call it at once).

    ``seed`` is the SeedSequence entropy of a simulated campaign.

    Examples
    --------
    >>> from db.engine import make_engine
    >>> from db.migrate import upgrade
    >>> engine = make_engine("sqlite://")
    >>> _ = upgrade(engine)
    >>> with write_transaction(engine) as conn:
    ...     ensure_campaign(conn, "htol-125C", seed=7) == ensure_campaign(conn, "htol-125C")
    True
    """
    return insert_or_select(conn, Campaign.__table__, {"name": name}, {"description": description, "seed": seed})[0]


def add_run(conn: Connection, *, campaign_id: int, wafer_id: int, station: str, operator: str,
            temperature_c: float, voltage_v: float, hours: float, start_h: float = 0.0,
            fabric_image_id: int | None = None) -> int:
    """Insert a burn-in run (stress ``temperature_c`` [degC], ``voltage_v`` [V], ``hours`` [h]); return its id."""
    return conn.execute(
        insert(Run).values(campaign_id=campaign_id, wafer_id=wafer_id, station=station, operator=operator,
                           temperature_c=temperature_c, voltage_v=voltage_v, hours=hours, start_h=start_h,
                           fabric_image_id=fabric_image_id).returning(Run.id)
    ).scalar_one()


def add_remap(conn: Connection, *, wafer_id: int, new_image_id: int, at_h: float, cores_mapped_out: Any,
              old_image_id: int | None = None, run_id: int | None = None, links_mapped_out: Any = None,
              reason: str | None = None) -> int:
    """Record a remap (flat site indices mapped out, old -> new image) at burn-in time ``at_h`` [h]."""
    cores = np.unique(np.asarray(cores_mapped_out, np.int64))
    links = None if links_mapped_out is None else np.unique(np.asarray(links_mapped_out, np.int64))
    return conn.execute(
        insert(RemapAction).values(
            wafer_id=wafer_id, run_id=run_id, old_image_id=old_image_id, new_image_id=new_image_id, at_h=at_h,
            n_cores_mapped_out=len(cores), n_links_mapped_out=0 if links is None else len(links),
            cores_mapped_out=encode_ids(cores), links_mapped_out=None if links is None else encode_ids(links),
            reason=reason,
        ).returning(RemapAction.id)
    ).scalar_one()
