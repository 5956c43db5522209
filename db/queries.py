"""Analyst queries: each returns a pandas DataFrame and aggregates in SQL.

Filters shared by the fault-event queries (all optional, combined with AND):

``lot``       lot name, or a list of names
``wafer``     wafer serial, or a list
``campaign``  campaign name, or a list
``fault_class``  a :class:`~yieldkit.faults.FaultClass` (or its value), or a list
``start_h``, ``end_h``  burn-in time window [h], ``start_h <= time_h < end_h``

Lot, wafer and campaign filters become ``run_id IN (SELECT ...)`` so the
grouped queries stay on the fault_events indexes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Float, Integer, Select, case, cast, func, literal_column, select
from sqlalchemy.orm import aliased

from db.models import (
    TABLES,
    Campaign,
    FabricImageRecord,
    FaultEvent,
    Lot,
    RemapAction,
    Run,
    Wafer,
    WaferState,
    decode_ids,
)
from yieldkit.errors import InputError
from yieldkit.faults import FaultClass

__all__ = [
    "fault_events",
    "pareto",
    "failures_per_hour",
    "wafers_by_state",
    "yield_per_lot",
    "remap_history",
    "table_counts",
]

_FE = FaultEvent.__table__


def _as_list(value: Any) -> list[Any] | None:
    if value is None:
        return None
    if isinstance(value, (str, FaultClass)) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def _fault_values(value: Any) -> list[str] | None:
    items = _as_list(value)
    if items is None:
        return None
    try:
        return [FaultClass(v).value for v in items]
    except ValueError as err:
        raise InputError(f"{err}; expected one of {', '.join(FaultClass.values())}") from None


def _where(stmt: Select, *, lot=None, wafer=None, campaign=None, fault_class=None,
           start_h: float | None = None, end_h: float | None = None) -> Select:
    lots, wafers, campaigns = _as_list(lot), _as_list(wafer), _as_list(campaign)
    if lots or wafers or campaigns:
        runs = select(Run.id)
        if lots or wafers:
            runs = runs.join(Wafer, Wafer.id == Run.wafer_id)
        if lots:
            runs = runs.join(Lot, Lot.id == Wafer.lot_id).where(Lot.name.in_(lots))
        if wafers:
            runs = runs.where(Wafer.serial.in_(wafers))
        if campaigns:
            runs = runs.join(Campaign, Campaign.id == Run.campaign_id).where(Campaign.name.in_(campaigns))
        stmt = stmt.where(_FE.c.run_id.in_(runs))
    classes = _fault_values(fault_class)
    if classes:
        stmt = stmt.where(_FE.c.fault_class.in_(classes))
    if start_h is not None:
        stmt = stmt.where(_FE.c.time_h >= start_h)
    if end_h is not None:
        stmt = stmt.where(_FE.c.time_h < end_h)
    return stmt


def _read(engine: Engine, stmt: Select) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(stmt)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def fault_events(engine: Engine, *, limit: int | None = None, **filters: Any) -> pd.DataFrame:
    """Fault events with their lot, wafer, campaign and station, ordered by (run, seq).

    Columns: id, lot, wafer, campaign, station, run_id, seq, time_h [h], core_row,
    core_col, link_id, fault_class, workload, detection, temperature_c [degC],
    voltage_v [V], action. Accepts the module's filters.
    """
    fe = _FE
    stmt = (
        select(
            fe.c.id, Lot.name.label("lot"), Wafer.serial.label("wafer"), Campaign.name.label("campaign"),
            Run.station, fe.c.run_id, fe.c.seq, fe.c.time_h, fe.c.core_row, fe.c.core_col, fe.c.link_id,
            fe.c.fault_class, fe.c.workload, fe.c.detection, fe.c.temperature_c, fe.c.voltage_v, fe.c.action,
        )
        .select_from(fe)
        .join(Run, Run.id == fe.c.run_id)
        .join(Wafer, Wafer.id == Run.wafer_id)
        .join(Lot, Lot.id == Wafer.lot_id)
        .join(Campaign, Campaign.id == Run.campaign_id)
        .order_by(fe.c.run_id, fe.c.seq)
    )
    stmt = _where(stmt, **filters)
    if limit is not None:
        stmt = stmt.limit(limit)
    frame = _read(engine, stmt)
    for name in ("core_row", "core_col", "link_id"):
        frame[name] = frame[name].astype("Int64")
    return frame


def pareto(engine: Engine, **filters: Any) -> pd.DataFrame:
    """Pareto of fault classes: count, share and cumulative share, most frequent first.

    Counted with ``GROUP BY fault_class`` (an index-only scan on
    ``ix_fault_events_fault_class`` when unfiltered); shares with window
    functions. Columns: fault_class, count, share, cumulative_share.
    """
    n = func.count().label("count")
    grouped = _where(select(_FE.c.fault_class, n).group_by(_FE.c.fault_class), **filters).subquery("g")
    total = func.sum(grouped.c.count).over()
    running = func.sum(grouped.c.count).over(
        order_by=(grouped.c.count.desc(), grouped.c.fault_class), rows=(None, 0)
    )
    stmt = select(
        grouped.c.fault_class,
        grouped.c.count,
        (cast(grouped.c.count, Float()) / total).label("share"),
        (cast(running, Float()) / total).label("cumulative_share"),
    ).order_by(grouped.c.count.desc(), grouped.c.fault_class)
    frame = _read(engine, stmt)
    frame["count"] = frame["count"].astype(np.int64)
    frame["share"] = frame["share"].astype(float)
    frame["cumulative_share"] = frame["cumulative_share"].astype(float)
    return frame


def failures_per_hour(engine: Engine, *, bin_h: float = 1.0, by_class: bool = False, fill: bool = True,
                      **filters: Any) -> pd.DataFrame:
    """Failures per burn-in time bin, for hazard / bathtub plots.

    Parameters
    ----------
    bin_h : float
        Bin width [h]; bin ``k`` holds ``k * bin_h <= time_h < (k + 1) * bin_h``.
    by_class : bool
        One row per (bin, fault class) instead of per bin.
    fill : bool
        Include empty bins (zero failures) between the first and last bin.

    Returns
    -------
    DataFrame
        bin, bin_start_h, bin_end_h, [fault_class,] failures.
    """
    if not bin_h > 0:
        raise InputError(f"bin_h must be > 0, got {bin_h}")
    if engine.dialect.name == "sqlite":
        k = cast(_FE.c.time_h / bin_h, Integer)  # time_h >= 0 (CHECK): truncation is floor
    else:
        k = cast(func.floor(_FE.c.time_h / bin_h), Integer)
    k = k.label("bin")
    cols = [k] + ([_FE.c.fault_class] if by_class else []) + [func.count().label("failures")]
    groups = [literal_column("bin")] + ([_FE.c.fault_class] if by_class else [])
    stmt = _where(select(*cols).group_by(*groups).order_by(*groups), **filters)
    frame = _read(engine, stmt)
    frame["bin"] = frame["bin"].astype(np.int64)
    frame["failures"] = frame["failures"].astype(np.int64)
    if fill and len(frame):
        bins = np.arange(frame["bin"].min(), frame["bin"].max() + 1)
        if by_class:
            index = pd.MultiIndex.from_product([bins, sorted(frame["fault_class"].unique())],
                                               names=["bin", "fault_class"])
            frame = frame.set_index(["bin", "fault_class"]).reindex(index, fill_value=0).reset_index()
        else:
            frame = frame.set_index("bin").reindex(bins, fill_value=0).rename_axis("bin").reset_index()
    frame.insert(1, "bin_start_h", frame["bin"] * bin_h)
    frame.insert(2, "bin_end_h", (frame["bin"] + 1) * bin_h)
    return frame


def wafers_by_state(engine: Engine, *, lot: Any = None) -> pd.DataFrame:
    """Number of wafers per (lot, state). Columns: lot, state, wafers."""
    stmt = (
        select(Lot.name.label("lot"), Wafer.state, func.count().label("wafers"))
        .join(Lot, Lot.id == Wafer.lot_id)
        .group_by(Lot.name, Wafer.state)
        .order_by(Lot.name, Wafer.state)
    )
    lots = _as_list(lot)
    if lots:
        stmt = stmt.where(Lot.name.in_(lots))
    frame = _read(engine, stmt)
    frame["state"] = [WaferState(s).value for s in frame["state"]]
    return frame


def yield_per_lot(engine: Engine) -> pd.DataFrame:
    """Wafer counts per state and yield per lot.

    ``yield`` is shipped / finished, where finished wafers are shipped,
    engineering parts or scrapped (NaN while none is finished): the share of
    finished wafers that delivered the full standard fabric.
    """
    def n_state(state: WaferState):
        return func.sum(case((Wafer.state == state, 1), else_=0)).label(state.value)

    finished = func.sum(case((Wafer.state.in_(
        [WaferState.SHIPPED, WaferState.ENGINEERING_PART, WaferState.SCRAPPED]), 1), else_=0))
    shipped = func.sum(case((Wafer.state == WaferState.SHIPPED, 1), else_=0))
    stmt = (
        select(
            Lot.name.label("lot"),
            func.count(Wafer.id).label("wafers"),
            *[n_state(s) for s in WaferState],
            finished.label("finished"),
            (cast(shipped, Float()) / func.nullif(finished, 0)).label("yield"),
        )
        .select_from(Lot)
        .join(Wafer, Wafer.lot_id == Lot.id, isouter=True)
        .group_by(Lot.name)
        .order_by(Lot.name)
    )
    frame = _read(engine, stmt)
    for col in ["wafers", "finished", *[s.value for s in WaferState]]:
        frame[col] = frame[col].fillna(0).astype(np.int64)
    frame["yield"] = frame["yield"].astype(float)
    return frame


def remap_history(engine: Engine, wafer: str) -> pd.DataFrame:
    """Remaps of one wafer (by serial) in burn-in time order.

    Columns: remap_id, at_h [h], run_id, station, old_image_id, old_sha256,
    new_image_id, new_sha256, n_cores_mapped_out, n_links_mapped_out,
    cores_mapped_out (int64 array of flat site indices), reason, created_at.
    """
    old = aliased(FabricImageRecord)
    new = aliased(FabricImageRecord)
    ra = RemapAction
    stmt = (
        select(
            ra.id.label("remap_id"), ra.at_h, ra.run_id, Run.station, ra.old_image_id,
            old.sha256.label("old_sha256"), ra.new_image_id, new.sha256.label("new_sha256"),
            ra.n_cores_mapped_out, ra.n_links_mapped_out, ra.cores_mapped_out, ra.reason, ra.created_at,
        )
        .join(Wafer, Wafer.id == ra.wafer_id)
        .join(new, new.id == ra.new_image_id)
        .join(old, old.id == ra.old_image_id, isouter=True)
        .join(Run, Run.id == ra.run_id, isouter=True)
        .where(Wafer.serial == wafer)
        .order_by(ra.at_h, ra.id)
    )
    frame = _read(engine, stmt)
    frame["cores_mapped_out"] = [decode_ids(b) for b in frame["cores_mapped_out"]]
    return frame


def table_counts(engine: Engine) -> pd.DataFrame:
    """Row count of every yieldkit table. Columns: table, rows."""
    with engine.connect() as conn:
        rows = [(name, conn.scalar(select(func.count()).select_from(t))) for name, t in TABLES.items()]
    return pd.DataFrame(rows, columns=["table", "rows"]).astype({"rows": np.int64})

