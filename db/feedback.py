"""Burn-in feedback query: per wafer, dead cores at fab-out and cores mapped out in burn-in.

Feeds :func:`yieldkit.views.feedback.lot_feedback`, which compares the
per-lot rates with a calibrated defect model's prediction. Counts are
aggregated in SQL (no blob is decoded), so the query works unchanged on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from db.analysis import _newest, _wafer_filter
from db.models import DefectMapRecord, Lot, RemapAction, Wafer
from db.queries import _read

__all__ = ["feedback_counts"]


def feedback_counts(engine: Engine, *, lot: Any = None) -> pd.DataFrame:
    """Per wafer: its dead cores at fab-out and the cores mapped out during burn-in.

    Parameters
    ----------
    lot : str or list of str, optional
        Only these lots (names).

    Returns
    -------
    DataFrame
        One row per wafer, by lot then serial: ``lot``, ``wafer`` (serial),
        ``design``, ``dead_at_fab_out`` (dead sites of the newest
        ``inspection`` defect map; 0 without one), ``has_map`` (the wafer has
        such a map), ``mapped_out_burn_in`` (sum of ``n_cores_mapped_out``
        over its remap actions, 0 without any) and ``dead_total`` (their sum).

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
    ...     _ = add_defect_map(conn, w, DefectMap(64, 68, [5, 9], design="small"), source="inspection")
    >>> feedback_counts(engine)[["wafer", "dead_at_fab_out", "mapped_out_burn_in", "dead_total"]].values.tolist()
    [['W1', 2, 0, 2]]
    """
    dm_new = _newest(DefectMapRecord, "inspection")
    remapped = (select(RemapAction.wafer_id, func.sum(RemapAction.n_cores_mapped_out).label("n"))
                .group_by(RemapAction.wafer_id).subquery())
    dm = DefectMapRecord
    stmt = (
        select(Lot.name.label("lot"), Wafer.serial.label("wafer"), Wafer.design,
               func.coalesce(dm.n_dead_sites, 0).label("dead_at_fab_out"),
               dm.id.label("map_id"),
               func.coalesce(remapped.c.n, 0).label("mapped_out_burn_in"))
        .select_from(Wafer)
        .join(Lot, Lot.id == Wafer.lot_id)
        .join(dm_new, dm_new.c.wafer_id == Wafer.id, isouter=True)
        .join(dm, dm.id == dm_new.c.id, isouter=True)
        .join(remapped, remapped.c.wafer_id == Wafer.id, isouter=True)
        .order_by(Lot.name, Wafer.serial)
    )
    frame = _read(engine, _wafer_filter(stmt, lot))
    frame["has_map"] = frame.pop("map_id").notna()
    for name in ("dead_at_fab_out", "mapped_out_burn_in"):
        frame[name] = frame[name].astype(np.int64)
    frame["dead_total"] = frame["dead_at_fab_out"] + frame["mapped_out_burn_in"]
    return frame[["lot", "wafer", "design", "dead_at_fab_out", "has_map", "mapped_out_burn_in", "dead_total"]]
