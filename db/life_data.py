"""The survival table of a burn-in campaign: one row per failed core, one per wafer's survivors.

Registered as the ``yieldkit.life_data`` provider (``pyproject.toml``), so
``yieldkit reliability fit --db URL [--campaign C]`` fits the campaign's
failures without ``yieldkit`` importing ``db``.

The units are the logical cores of the wafers the campaign ran on. A core's
first core fault (``fault_events`` with a core position) is only known to
have happened during the step whose scan found it: the row is
interval-censored on ``(runs.start_h, runs.start_h + runs.hours]``. Later
events of the same core are dropped (a unit fails once; it is then mapped
out). The cores that never failed are right-censored at the end of their
wafer's last step: one row per wafer with ``count`` = logical cores less the
failed ones and ``end_h = inf``. Times are hours at the campaign's stress,
not use-equivalent hours (apply the acceleration factor afterwards).
Link faults have no core and are left out.

References
----------
W. Q. Meeker, L. A. Escobar, F. G. Pascual, *Statistical Methods for
Reliability Data*, 2nd ed., Wiley, 2021, ch. 3 (interval and right
censoring of inspection data).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from db.engine import make_engine, translate_errors
from db.models import Campaign, FaultEvent, Run, Wafer
from yieldkit.design import load_design
from yieldkit.errors import InputError

__all__ = ["SURVIVAL_COLUMNS", "survival_table", "campaign_survival"]

#: The columns of the survival table.
SURVIVAL_COLUMNS = ["wafer", "core_row", "core_col", "fault_class", "start_h", "end_h", "count"]


def _campaign_id(engine: Engine, campaign: str | None) -> int:
    with engine.connect() as conn:
        if campaign is None:
            found = conn.execute(select(func.max(Campaign.id))).scalar()
            if found is None:
                raise InputError("the database holds no campaign", parameter="--campaign")
            return int(found)
        found = conn.execute(select(Campaign.id).where(Campaign.name == campaign)).scalar()
        if found is None:
            raise InputError(f"no campaign named {campaign!r}", parameter="--campaign")
        return int(found)


def campaign_survival(engine: Engine, campaign: str | None = None) -> pd.DataFrame:
    """The survival table of ``campaign`` (by name; default: the latest) in ``engine``'s database.

    Returns
    -------
    DataFrame
        Columns :data:`SURVIVAL_COLUMNS`: failed cores (``count`` 1,
        interval ``(start_h, end_h]`` [h]) and, per wafer, its survivors
        (``fault_class`` empty, ``end_h`` inf).

    Examples
    --------
    >>> from db.migrate import upgrade
    >>> from db.engine import write_transaction
    >>> from db.writer import add_run, add_wafer, ensure_campaign, ensure_lot, write_fault_events
    >>> engine = make_engine("sqlite://")
    >>> _ = upgrade(engine)
    >>> with write_transaction(engine) as conn:
    ...     wafer = add_wafer(conn, ensure_lot(conn, "L1"), "W1", "small")
    ...     run = add_run(conn, campaign_id=ensure_campaign(conn, "htol"), wafer_id=wafer, station="S1",
    ...                   operator="op", temperature_c=125.0, voltage_v=1.1, hours=4.0)
    >>> _ = write_fault_events(engine, [{"run_id": run, "seq": 0, "time_h": 4.0, "core_row": 3, "core_col": 5,
    ...                                  "fault_class": "permanent_core", "detection": "gemm"}])
    >>> campaign_survival(engine)[["core_row", "start_h", "end_h", "count"]].to_dict("records")
    [{'core_row': 3.0, 'start_h': 0.0, 'end_h': 4.0, 'count': 1}, {'core_row': nan, 'start_h': 4.0, 'end_h': inf, 'count': 4095}]
    """
    campaign_id = _campaign_id(engine, campaign)
    with engine.connect() as conn:
        runs = pd.DataFrame(conn.execute(
            select(Run.id, Wafer.serial, Wafer.design, Run.start_h, Run.hours)
            .join(Wafer, Wafer.id == Run.wafer_id).where(Run.campaign_id == campaign_id)).all(),
            columns=["run_id", "wafer", "design", "start_h", "hours"])
        events = pd.DataFrame(conn.execute(
            select(FaultEvent.run_id, FaultEvent.time_h, FaultEvent.core_row, FaultEvent.core_col,
                   FaultEvent.fault_class)
            .join(Run, Run.id == FaultEvent.run_id)
            .where(Run.campaign_id == campaign_id, FaultEvent.core_row.is_not(None))).all(),
            columns=["run_id", "time_h", "core_row", "core_col", "fault_class"])
    if runs.empty:
        raise InputError(f"campaign {campaign or campaign_id!r} has no runs", parameter="--campaign")
    runs["end_h"] = runs["start_h"] + runs["hours"]
    failed = events.merge(runs[["run_id", "wafer", "start_h", "end_h"]], on="run_id")
    failed["fault_class"] = failed["fault_class"].map(str)
    failed = (failed.sort_values(["end_h", "run_id"], kind="stable")
              .drop_duplicates(["wafer", "core_row", "core_col"]).assign(count=1))
    wafers = runs.groupby("wafer", sort=True).agg(design=("design", "first"), end=("end_h", "max")).reset_index()
    n_failed = failed.groupby("wafer").size().reindex(wafers["wafer"], fill_value=0).to_numpy()
    cores = np.array([_logical_cores(name) for name in wafers["design"]], dtype=np.int64)
    survivors = pd.DataFrame({"wafer": wafers["wafer"], "core_row": np.nan, "core_col": np.nan, "fault_class": "",
                              "start_h": wafers["end"], "end_h": np.inf, "count": cores - n_failed})
    table = pd.concat([failed[SURVIVAL_COLUMNS], survivors[survivors["count"] > 0]], ignore_index=True)
    return table.astype({"core_row": float, "core_col": float, "start_h": float, "end_h": float, "count": int})


def _logical_cores(design_name: str) -> int:
    try:
        return load_design(design_name).logical_cores
    except InputError as err:
        raise InputError(f"wafers of design {design_name!r}: cannot count their cores ({err})") from None


def survival_table(url: str, campaign: str | None = None) -> pd.DataFrame:
    """The ``yieldkit.life_data`` provider: :func:`campaign_survival` of the database at ``url``, read-only."""
    with translate_errors(url):
        engine = make_engine(url, must_exist=True, read_only=True)
        try:
            return campaign_survival(engine, campaign)
        finally:
            engine.dispose()
