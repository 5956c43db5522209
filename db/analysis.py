"""DataFrame queries behind the analyst views (:mod:`yieldkit.views`): lots, wafer maps, burn-in runs.

Every query aggregates in SQL where the data are rows (runs, fault events,
remap counts) and decodes the sparse site blobs in Python where they are
blobs (defect maps, remaps); each works on SQLite and PostgreSQL. Filters,
as in :mod:`db.queries`: ``lot``, ``wafer`` and ``campaign`` (a name or a
list of names).

=================================  ===============================================
query                              view it feeds
=================================  ===============================================
:func:`wafer_maps`                 wafer map, gallery, stacked map, signatures
:func:`waterfall_counts`           yield-loss waterfall (``lot_waterfall``)
:func:`run_failures`               commonality analysis
:func:`failure_rate_by_period`     p- / u-chart by lot or week
:func:`first_failure_times`        Weibull probability plot, fitted hazards
:func:`burn_in_site_counts`        stacked map of burn-in failures
=================================  ===============================================
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Date, Engine, Select, cast, distinct, func, select

from db.models import (
    Campaign,
    DefectMapRecord,
    FaultEvent,
    Lot,
    RemapAction,
    RepairMapRecord,
    Run,
    Wafer,
    WaferState,
    decode_ids,
)
from db.queries import _as_list, _read
from yieldkit.errors import InputError

__all__ = ["LOST_STATES", "wafer_maps", "waterfall_counts", "run_failures", "failure_rate_by_period",
           "first_failure_times", "burn_in_site_counts"]

#: Wafer states that count as lost (no full standard fabric shipped).
LOST_STATES = (WaferState.SCRAPPED.value, WaferState.ENGINEERING_PART.value)
_FE = FaultEvent.__table__
_CORE_KEY = 1 << 20  # > any column index: core_row * _CORE_KEY + core_col is one integer per core


def _wafer_filter(stmt: Select, lot: Any = None, wafer: Any = None) -> Select:
    lots, wafers = _as_list(lot), _as_list(wafer)
    if lots:
        stmt = stmt.where(Lot.name.in_(lots))
    if wafers:
        stmt = stmt.where(Wafer.serial.in_(wafers))
    return stmt


def _run_filter(stmt: Select, lot: Any = None, wafer: Any = None, campaign: Any = None) -> Select:
    stmt = _wafer_filter(stmt, lot, wafer)
    campaigns = _as_list(campaign)
    if campaigns:
        stmt = stmt.where(Campaign.name.in_(campaigns))
    return stmt


def _newest(record, source: str | None = None):
    """Subquery: the newest record id of each wafer (of ``source`` for defect maps)."""
    stmt = select(record.wafer_id, func.max(record.id).label("id")).group_by(record.wafer_id)
    if source is not None:
        stmt = stmt.where(record.source == source)
    return stmt.subquery()


def wafer_maps(engine: Engine, *, lot: Any = None, wafer: Any = None, source: str = "inspection") -> pd.DataFrame:
    """Each wafer's newest defect map of ``source`` and the cores mapped out in its burn-in remaps.

    Returns
    -------
    DataFrame
        One row per wafer, by lot then serial: ``lot``, ``wafer`` (serial),
        ``wafer_id``, ``design``, ``state``, ``lost`` (state in
        :data:`LOST_STATES`), ``rows``, ``cols``, ``n_dead_sites``,
        ``n_dead_links``, ``dead_sites`` and ``dead_links`` (int64 arrays; empty
        when the wafer has no such map), ``n_mapped_out`` and ``mapped_out``
        (the union of its remaps' flat sites, int64 array).

    Examples
    --------
    >>> from db.engine import make_engine, write_transaction
    >>> from db.migrate import upgrade
    >>> from db.wafer_maps import add_defect_map
    >>> from db.writer import add_wafer, ensure_lot
    >>> from yieldkit.defect_map import DefectMap
    >>> engine = make_engine("sqlite://")
    >>> _ = upgrade(engine)
    >>> with write_transaction(engine) as conn:
    ...     w = add_wafer(conn, ensure_lot(conn, "L1"), "W1", "small")
    ...     _ = add_defect_map(conn, w, DefectMap(64, 68, [5, 9], design="small"))
    >>> wafer_maps(engine)[["wafer", "n_dead_sites", "n_mapped_out"]].values.tolist()
    [['W1', 2, 0]]
    """
    newest = _newest(DefectMapRecord, source)
    dm = DefectMapRecord
    stmt = (
        select(Lot.name.label("lot"), Wafer.serial.label("wafer"), Wafer.id.label("wafer_id"), Wafer.design,
               Wafer.state, dm.rows, dm.cols, dm.n_dead_sites, dm.n_dead_links, dm.dead_sites, dm.dead_links)
        .select_from(Wafer)
        .join(Lot, Lot.id == Wafer.lot_id)
        .join(newest, newest.c.wafer_id == Wafer.id, isouter=True)
        .join(dm, dm.id == newest.c.id, isouter=True)
        .order_by(Lot.name, Wafer.serial)
    )
    frame = _read(engine, _wafer_filter(stmt, lot, wafer))
    remaps = select(RemapAction.wafer_id, RemapAction.cores_mapped_out).join(Wafer, Wafer.id == RemapAction.wafer_id)
    remaps = _wafer_filter(remaps.join(Lot, Lot.id == Wafer.lot_id), lot, wafer)
    mapped: dict[int, list[np.ndarray]] = {}
    for wafer_id, blob in _read(engine, remaps).itertuples(index=False):
        mapped.setdefault(int(wafer_id), []).append(decode_ids(blob))
    frame["state"] = [WaferState(s).value for s in frame["state"]]
    frame["lost"] = frame["state"].isin(LOST_STATES)
    for name in ("dead_sites", "dead_links"):
        frame[name] = [decode_ids(b) for b in frame[name]]
    for name in ("rows", "cols", "n_dead_sites", "n_dead_links"):
        frame[name] = frame[name].astype("Int64").fillna(0) if name.startswith("n_") else frame[name].astype("Int64")
    frame["mapped_out"] = [np.unique(np.concatenate(mapped[w])) if w in mapped else np.zeros(0, np.int64)
                           for w in frame["wafer_id"]]
    frame["n_mapped_out"] = [int(a.size) for a in frame["mapped_out"]]
    return frame


def waterfall_counts(engine: Engine, *, lot: Any = None) -> pd.DataFrame:
    """Per wafer, the counts of the yield-loss waterfall, aggregated in SQL.

    Returns
    -------
    DataFrame
        ``lot``, ``wafer``, ``design``, ``state``, ``dead_at_fab_out`` (dead
        sites of the newest ``inspection`` defect map, 0 without one),
        ``has_map`` (the wafer has such a map), ``mapped_out`` (sum of
        ``n_cores_mapped_out`` over its remaps) and ``logical_cores`` (of
        its newest repair map; NaN without one), by lot then serial.
    """
    dm_new, rm_new = _newest(DefectMapRecord, "inspection"), _newest(RepairMapRecord)
    remapped = (select(RemapAction.wafer_id, func.sum(RemapAction.n_cores_mapped_out).label("n"))
                .group_by(RemapAction.wafer_id).subquery())
    dm, rm = DefectMapRecord, RepairMapRecord
    stmt = (
        select(Lot.name.label("lot"), Wafer.serial.label("wafer"), Wafer.design, Wafer.state,
               func.coalesce(dm.n_dead_sites, 0).label("dead_at_fab_out"), dm.id.label("map_id"),
               func.coalesce(remapped.c.n, 0).label("mapped_out"),
               (rm.logical_rows * rm.logical_cols).label("logical_cores"))
        .select_from(Wafer)
        .join(Lot, Lot.id == Wafer.lot_id)
        .join(dm_new, dm_new.c.wafer_id == Wafer.id, isouter=True)
        .join(dm, dm.id == dm_new.c.id, isouter=True)
        .join(rm_new, rm_new.c.wafer_id == Wafer.id, isouter=True)
        .join(rm, rm.id == rm_new.c.id, isouter=True)
        .join(remapped, remapped.c.wafer_id == Wafer.id, isouter=True)
        .order_by(Lot.name, Wafer.serial)
    )
    frame = _read(engine, _wafer_filter(stmt, lot))
    frame["state"] = [WaferState(s).value for s in frame["state"]]
    frame.insert(frame.columns.get_loc("map_id"), "has_map", frame.pop("map_id").notna())
    for name in ("dead_at_fab_out", "mapped_out"):
        frame[name] = frame[name].astype(np.int64)
    frame["logical_cores"] = frame["logical_cores"].astype(float)
    return frame


def _run_stats():
    """Subquery: per run, its failures and distinct failing cores (LEFT JOIN: 0 for a clean run)."""
    core = cast(_FE.c.core_row, BigInteger) * _CORE_KEY + _FE.c.core_col
    return (
        select(Run.id.label("run_id"), func.count(_FE.c.id).label("failures"),
               func.count(distinct(core)).label("cores_failed"))
        .select_from(Run)
        .join(_FE, _FE.c.run_id == Run.id, isouter=True)
        .group_by(Run.id)
        .subquery()
    )


def run_failures(engine: Engine, *, cores_per_wafer: int | None = None, **filters: Any) -> pd.DataFrame:
    """One row per burn-in run with its stress factors and failures (input of the commonality analysis).

    Parameters
    ----------
    cores_per_wafer : int, optional
        Cores under test on each wafer (e.g. ``Design.logical_cores``): adds
        ``core_hours = hours * cores_per_wafer``.
    **filters
        ``lot``, ``wafer``, ``campaign``.

    Returns
    -------
    DataFrame
        ``run_id``, ``lot``, ``wafer``, ``campaign``, ``station``,
        ``operator``, ``temperature_c`` [degC], ``voltage_v`` [V], ``hours``
        [h], ``start_h`` [h], ``started_at``, ``failures`` (fault events),
        ``cores_failed`` (distinct cores with a fault event) [, ``core_hours``].
    """
    stats_ = _run_stats()
    stmt = (
        select(Run.id.label("run_id"), Lot.name.label("lot"), Wafer.serial.label("wafer"),
               Campaign.name.label("campaign"), Run.station, Run.operator, Run.temperature_c, Run.voltage_v,
               Run.hours, Run.start_h, Run.started_at, stats_.c.failures, stats_.c.cores_failed)
        .select_from(Run)
        .join(stats_, stats_.c.run_id == Run.id)
        .join(Wafer, Wafer.id == Run.wafer_id)
        .join(Lot, Lot.id == Wafer.lot_id)
        .join(Campaign, Campaign.id == Run.campaign_id)
        .order_by(Run.id)
    )
    frame = _read(engine, _run_filter(stmt, **filters))
    for name in ("failures", "cores_failed"):
        frame[name] = frame[name].astype(np.int64)
    for name in ("temperature_c", "voltage_v", "hours", "start_h"):
        frame[name] = frame[name].astype(float)
    if cores_per_wafer is not None:
        frame["core_hours"] = frame["hours"] * float(cores_per_wafer)
    return frame


def _week(engine: Engine, column):
    if engine.dialect.name == "sqlite":
        return func.date(column, "-6 days", "weekday 1")  # back 6 days, then on to the next Monday (or that day)
    return cast(func.date_trunc("week", column), Date)


def failure_rate_by_period(engine: Engine, *, by: str = "lot", cores_per_wafer: int | None = None,
                           **filters: Any) -> pd.DataFrame:
    """Burn-in failures per lot or per week (run start), for the p- and u-charts.

    Parameters
    ----------
    by : {"lot", "week"}
        Subgroup: the wafer's lot, or the ISO week (its Monday) the run started.
    cores_per_wafer : int, optional
        Adds ``cores_tested = wafers * cores_per_wafer`` and ``core_hours``.
    **filters
        ``lot``, ``wafer``, ``campaign``.

    Returns
    -------
    DataFrame
        ``period`` (lot name or ``YYYY-MM-DD``), ``runs``, ``wafers``,
        ``hours`` (sum of run hours) [h], ``failures``, ``cores_failed``
        (sum over runs of distinct failing cores) [, ``cores_tested``, ``core_hours``], in period order.
    """
    if by not in ("lot", "week"):
        raise InputError(f"by must be 'lot' or 'week', got {by!r}", parameter="by")
    stats_ = _run_stats()
    key = Lot.name if by == "lot" else _week(engine, Run.started_at)
    period = key.label("period")
    stmt = (
        select(period, func.count(Run.id).label("runs"), func.count(distinct(Run.wafer_id)).label("wafers"),
               func.sum(Run.hours).label("hours"), func.sum(stats_.c.failures).label("failures"),
               func.sum(stats_.c.cores_failed).label("cores_failed"))
        .select_from(Run)
        .join(stats_, stats_.c.run_id == Run.id)
        .join(Wafer, Wafer.id == Run.wafer_id)
        .join(Lot, Lot.id == Wafer.lot_id)
        .join(Campaign, Campaign.id == Run.campaign_id)
        .group_by(key)
        .order_by(key)
    )
    frame = _read(engine, _run_filter(stmt, **filters))
    frame["period"] = frame["period"].astype(str)
    for name in ("runs", "wafers", "failures", "cores_failed"):
        frame[name] = frame[name].astype(np.int64)
    frame["hours"] = frame["hours"].astype(float)
    if cores_per_wafer is not None:
        frame["cores_tested"] = frame["wafers"] * int(cores_per_wafer)
        frame["core_hours"] = frame["hours"] * float(cores_per_wafer)
    return frame


def first_failure_times(engine: Engine, **filters: Any) -> pd.DataFrame:
    """The first fault event of every failing core: life data for Weibull fits and hazards.

    Returns
    -------
    DataFrame
        ``lot``, ``wafer``, ``core_row``, ``core_col``, ``time_h`` (cumulative
        burn-in time of the core's first event) [h] and its ``fault_class``,
        by wafer then time. Cores without an event are the survivors: with
        ``Design.logical_cores`` per wafer, censor them at the wafer's burn-in hours.
    """
    ranked = (
        select(Lot.name.label("lot"), Wafer.serial.label("wafer"), _FE.c.core_row, _FE.c.core_col, _FE.c.time_h,
               _FE.c.fault_class,
               func.row_number().over(partition_by=(Run.wafer_id, _FE.c.core_row, _FE.c.core_col),
                                      order_by=(_FE.c.time_h, _FE.c.id)).label("k"))
        .select_from(_FE)
        .join(Run, Run.id == _FE.c.run_id)
        .join(Wafer, Wafer.id == Run.wafer_id)
        .join(Lot, Lot.id == Wafer.lot_id)
        .join(Campaign, Campaign.id == Run.campaign_id)
        .where(_FE.c.core_row.is_not(None))
    )
    ranked = _run_filter(ranked, **filters).subquery()
    stmt = (select(ranked.c.lot, ranked.c.wafer, ranked.c.core_row, ranked.c.core_col, ranked.c.time_h,
                   ranked.c.fault_class).where(ranked.c.k == 1).order_by(ranked.c.wafer, ranked.c.time_h))
    frame = _read(engine, stmt)
    for name in ("core_row", "core_col"):
        frame[name] = frame[name].astype(np.int64)
    frame["time_h"] = frame["time_h"].astype(float)
    return frame


def burn_in_site_counts(engine: Engine, **filters: Any) -> pd.DataFrame:
    """Per physical core, the wafers on which burn-in found a fault there and the events (stacked map of burn-in).

    Returns
    -------
    DataFrame
        ``core_row``, ``core_col``, ``wafers`` (distinct wafers), ``failures`` (events), by row then column.
    """
    stmt = (
        select(_FE.c.core_row, _FE.c.core_col, func.count(distinct(Run.wafer_id)).label("wafers"),
               func.count().label("failures"))
        .select_from(_FE)
        .join(Run, Run.id == _FE.c.run_id)
        .join(Wafer, Wafer.id == Run.wafer_id)
        .join(Lot, Lot.id == Wafer.lot_id)
        .join(Campaign, Campaign.id == Run.campaign_id)
        .where(_FE.c.core_row.is_not(None))
        .group_by(_FE.c.core_row, _FE.c.core_col)
        .order_by(_FE.c.core_row, _FE.c.core_col)
    )
    frame = _read(engine, _run_filter(stmt, **filters))
    return frame.astype({c: np.int64 for c in frame.columns})
