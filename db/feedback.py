"""Burn-in feedback query: per wafer, dead cores at fab-out and cores mapped out in burn-in.

Feeds :func:`yieldkit.views.feedback.lot_feedback`, which compares the
per-lot rates with a calibrated defect model's prediction. The counts are
those of the lot's yield-loss waterfall (:func:`db.analysis.waterfall_counts`,
aggregated in SQL, no blob decoded), so the query works unchanged on SQLite
and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Engine

from db.analysis import waterfall_counts

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
    frame = waterfall_counts(engine, lot=lot).rename(columns={"mapped_out": "mapped_out_burn_in"})
    frame["dead_total"] = frame["dead_at_fab_out"] + frame["mapped_out_burn_in"]
    return frame[["lot", "wafer", "design", "dead_at_fab_out", "has_map", "mapped_out_burn_in", "dead_total"]]
