"""Records of the burn-in harness: lots at fab-out, campaign steps, and the reads they need.

Writers take a connection inside ``with write_transaction(engine) as conn``
so that a caller writes a whole campaign step (run, workload executions,
fault events, remap and new image, wafer state) in one transaction. Inserts
of rows with a natural key (``runs (campaign_id, wafer_id, step)``,
``workload_executions (run_id, seq)``, ``fault_events (run_id, seq)``) are
``ON CONFLICT DO NOTHING``: a replayed step adds nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from db.models import (
    Campaign,
    FabricImageRecord,
    FaultEvent,
    Lot,
    RemapAction,
    RepairMapRecord,
    Run,
    Wafer,
    WaferState,
    WorkloadExecution,
)
from db.writer import FAULT_EVENT_COLUMNS, _dialect_insert, add_remap
from yieldkit.errors import InputError

__all__ = [
    "UnknownRecordError",
    "create_lot",
    "add_lot_wafer",
    "lot_by_name",
    "lot_name_of",
    "lot_params_of",
    "wafer_by_serial",
    "lot_wafers",
    "list_lots",
    "campaign_by_name",
    "latest_campaign",
    "create_campaign",
    "add_step_run",
    "insert_workload_executions",
    "insert_fault_events",
    "last_steps",
    "record_remap",
    "image_id_of",
    "wafer_exposure",
    "campaign_runs",
    "remaps_of",
    "wafer_status",
    "first_defect_map",
    "repair_map_of_image",
    "image_id_by_sha",
    "image_bytes",
]


class UnknownRecordError(InputError):
    """A lot, wafer or campaign named by the user does not exist (or already exists)."""


def create_lot(conn: Connection, name: str, params: Mapping[str, Any]) -> int:
    """Insert the lot ``name`` with its parameters; refuse a name already used.

    Raises
    ------
    UnknownRecordError
        A lot of that name exists (``parameter="name"``); nothing is written.
    """
    stmt = (_dialect_insert(conn, Lot.__table__).values(name=name, params=json.dumps(dict(params), sort_keys=True))
            .on_conflict_do_nothing(index_elements=["name"]).returning(Lot.__table__.c.id))
    new_id = conn.execute(stmt).scalar()
    if new_id is None:
        raise UnknownRecordError(f"lot {name!r} already exists; choose another --name (nothing was written)",
                                 parameter="name")
    return int(new_id)


def add_lot_wafer(conn: Connection, lot_id: int, serial: str, design: str, seed: int,
                  state: WaferState | str = WaferState.FABRICATED) -> int:
    """Insert a wafer of a lot with its seed; return its id."""
    return conn.execute(insert(Wafer).values(lot_id=lot_id, serial=serial, design=design, seed=int(seed),
                                             state=WaferState(state)).returning(Wafer.id)).scalar_one()


def lot_by_name(conn: Connection, name: str) -> Any:
    """The lot row ``name``; :class:`UnknownRecordError` naming ``--lot`` when missing."""
    row = conn.execute(select(Lot).where(Lot.name == name)).one_or_none()
    if row is None:
        raise UnknownRecordError(f"unknown lot {name!r}", parameter="lot")
    return row


def lot_name_of(conn: Connection, lot_id: int) -> str:
    """Name of the lot ``lot_id``."""
    return conn.scalar(select(Lot.name).where(Lot.id == lot_id))


def lot_params_of(conn: Connection, lot_id: int) -> dict[str, Any]:
    """Parameters the lot was made with (``{}`` when none were recorded)."""
    text = conn.scalar(select(Lot.params).where(Lot.id == lot_id))
    return json.loads(text) if text else {}


def wafer_by_serial(conn: Connection, serial: str) -> Any:
    """The wafer row ``serial``; :class:`UnknownRecordError` naming the wafer when missing."""
    row = conn.execute(select(Wafer).where(Wafer.serial == serial)).one_or_none()
    if row is None:
        raise UnknownRecordError(f"unknown wafer {serial!r}", parameter="wafer")
    return row


def lot_wafers(conn: Connection, lot_id: int) -> list[Any]:
    """Wafer rows of a lot, by serial."""
    return list(conn.execute(select(Wafer).where(Wafer.lot_id == lot_id).order_by(Wafer.serial)))


def list_lots(conn: Connection) -> list[dict[str, Any]]:
    """One record per lot: name, design, wafers, wafers per state, parameters."""
    lots = list(conn.execute(select(Lot).order_by(Lot.id)))
    counts: dict[int, dict[str, int]] = {}
    for lot_id, state, n in conn.execute(select(Wafer.lot_id, Wafer.state, func.count()).group_by(Wafer.lot_id,
                                                                                                  Wafer.state)):
        counts.setdefault(lot_id, {})[str(WaferState(state))] = n
    out = []
    for lot in lots:
        params = json.loads(lot.params) if lot.params else {}
        by_state = counts.get(lot.id, {})
        out.append({"lot": lot.name, "design": params.get("design", ""), "wafers": sum(by_state.values()),
                    **{s.value: by_state.get(s.value, 0) for s in WaferState},
                    "d0_per_cm2": params.get("d0_per_cm2"), "alpha": params.get("alpha"), "seed": params.get("seed")})
    return out


def campaign_by_name(conn: Connection, name: str) -> Any | None:
    """The campaign row ``name`` or None."""
    return conn.execute(select(Campaign).where(Campaign.name == name)).one_or_none()


def latest_campaign(conn: Connection) -> Any:
    """The most recently created campaign; :class:`UnknownRecordError` when there is none."""
    row = conn.execute(select(Campaign).order_by(Campaign.id.desc()).limit(1)).one_or_none()
    if row is None:
        raise UnknownRecordError("the database holds no campaign yet; run 'yieldkit burnin run' first",
                                 parameter="campaign")
    return row


def create_campaign(conn: Connection, name: str, seed: int, params: Mapping[str, Any]) -> tuple[int, bool]:
    """Id of the campaign ``name`` (created with ``seed`` and ``params`` if missing) and whether it was created.

    Safe when several stations create it at once.

    Raises
    ------
    UnknownRecordError
        The campaign exists with another seed or other parameters (``parameter="campaign"``).
    """
    text = json.dumps(dict(params), sort_keys=True)
    stmt = (_dialect_insert(conn, Campaign.__table__).values(name=name, seed=int(seed), params=text,
                                                             description="burn-in campaign")
            .on_conflict_do_nothing(index_elements=["name"]).returning(Campaign.__table__.c.id))
    new_id = conn.execute(stmt).scalar()
    if new_id is not None:
        return int(new_id), True
    row = campaign_by_name(conn, name)
    if row.seed != seed or (row.params or "") != text:
        raise UnknownRecordError(f"campaign {name!r} exists with other conditions (seed {row.seed}, {row.params}); "
                                 "give the same ones or another --campaign", parameter="campaign")
    return int(row.id), False


def add_step_run(conn: Connection, *, campaign_id: int, wafer_id: int, step: int, station: str, operator: str,
                 temperature_c: float, voltage_v: float, hours: float, start_h: float,
                 fabric_image_id: int | None) -> int:
    """Insert the run of one campaign step; return its id (the unique key refuses a duplicate step)."""
    return conn.execute(insert(Run).values(
        campaign_id=campaign_id, wafer_id=wafer_id, step=step, station=station, operator=operator,
        temperature_c=temperature_c, voltage_v=voltage_v, hours=hours, start_h=start_h,
        fabric_image_id=fabric_image_id, ended_at=func.current_timestamp()).returning(Run.id)).scalar_one()


def _insert_ignore(conn: Connection, table: Any, rows: Sequence[Mapping[str, Any]], keys: list[str]) -> int:
    if not rows:
        return 0
    stmt = _dialect_insert(conn, table).on_conflict_do_nothing(index_elements=keys)
    return conn.execute(stmt, [dict(r) for r in rows]).rowcount


def insert_workload_executions(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert workload executions (run_id, seq, workload, start_h, end_h, passed, params) idempotently."""
    return _insert_ignore(conn, WorkloadExecution.__table__, rows, ["run_id", "seq"])


def insert_fault_events(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert fault events (the columns of ``db.writer.FAULT_EVENT_COLUMNS``) idempotently."""
    full = [{c: r.get(c) for c in FAULT_EVENT_COLUMNS} for r in rows]
    for r in full:
        r["action"] = r["action"] or "none"
        r["fault_class"] = str(r["fault_class"])
    return _insert_ignore(conn, FaultEvent.__table__, full, ["run_id", "seq"])


def last_steps(conn: Connection, campaign_id: int) -> dict[int, int]:
    """Last committed step of every wafer of a campaign: ``{wafer_id: step}``."""
    rows = conn.execute(select(Run.wafer_id, func.max(Run.step)).where(Run.campaign_id == campaign_id)
                        .group_by(Run.wafer_id))
    return {int(w): int(s) for w, s in rows if s is not None}


def record_remap(conn: Connection, *, wafer_id: int, old_image_id: int | None, new_image_id: int, at_h: float,
                 cores: Any, links: Any = None, run_id: int | None = None, reason: str | None = None,
                 cores_moved: int | None = None, method: str | None = None) -> int:
    """:func:`db.writer.add_remap` plus how many logical cores moved and how the remap was planned."""
    remap_id = add_remap(conn, wafer_id=wafer_id, new_image_id=new_image_id, at_h=at_h, cores_mapped_out=cores,
                         old_image_id=old_image_id, run_id=run_id, links_mapped_out=links, reason=reason)
    conn.execute(update(RemapAction).where(RemapAction.id == remap_id).values(cores_moved=cores_moved, method=method))
    return remap_id


def image_id_of(conn: Connection, wafer_id: int) -> int | None:
    """Id of the wafer's newest fabric image, or None."""
    return conn.scalar(select(func.max(FabricImageRecord.id)).where(FabricImageRecord.wafer_id == wafer_id))


def wafer_exposure(conn: Connection, wafer_id: int) -> list[tuple[float, float, float]]:
    """``(hours, temperature_c, voltage_v)`` of every run of the wafer, in order [h, degC, V]."""
    return [(float(h), float(t), float(v)) for h, t, v in conn.execute(
        select(Run.hours, Run.temperature_c, Run.voltage_v).where(Run.wafer_id == wafer_id).order_by(Run.id))]


def campaign_runs(conn: Connection, campaign_id: int) -> list[Any]:
    """Run rows of a campaign ordered by wafer and step."""
    return list(conn.execute(select(Run).where(Run.campaign_id == campaign_id).order_by(Run.wafer_id, Run.step)))


def remaps_of(conn: Connection, wafer_id: int) -> list[Any]:
    """Remap rows of a wafer in order."""
    return list(conn.execute(select(RemapAction).where(RemapAction.wafer_id == wafer_id).order_by(RemapAction.id)))


def wafer_status(conn: Connection, lot_id: int | None = None) -> list[dict[str, Any]]:
    """One record per wafer: lot, state, logical grid, burn-in hours, runs, remaps, cores mapped out."""
    stmt = (select(Wafer.id, Wafer.serial, Wafer.design, Wafer.state, Lot.name.label("lot"))
            .join(Lot, Lot.id == Wafer.lot_id).order_by(Lot.name, Wafer.serial))
    if lot_id is not None:
        stmt = stmt.where(Wafer.lot_id == lot_id)
    runs = {w: (n, h) for w, n, h in conn.execute(select(Run.wafer_id, func.count(), func.sum(Run.hours))
                                                   .group_by(Run.wafer_id))}
    remaps = {w: (n, c) for w, n, c in conn.execute(select(RemapAction.wafer_id, func.count(),
                                                           func.sum(RemapAction.n_cores_mapped_out))
                                                    .group_by(RemapAction.wafer_id))}
    grids = {}
    for w, lr, lc, full in conn.execute(select(RepairMapRecord.wafer_id, RepairMapRecord.logical_rows,
                                               RepairMapRecord.logical_cols, RepairMapRecord.full_fabric)
                                        .order_by(RepairMapRecord.id)):
        grids[w] = (lr, lc, bool(full))
    out = []
    for wafer in conn.execute(stmt):
        lot = wafer.lot
        n_runs, hours = runs.get(wafer.id, (0, 0.0))
        n_remaps, cores = remaps.get(wafer.id, (0, 0))
        lr, lc, full = grids.get(wafer.id, (0, 0, False))
        out.append({"wafer": wafer.serial, "lot": lot, "design": wafer.design, "state": str(WaferState(wafer.state)),
                    "logical_grid": f"{lr}x{lc}", "full_fabric": full, "burn_in_h": float(hours or 0.0),
                    "runs": int(n_runs), "remaps": int(n_remaps), "cores_mapped_out": int(cores or 0)})
    return out


def first_defect_map(conn: Connection, wafer_id: int) -> Any:
    """The wafer's fab-out defect map (the first one stored), as a ``DefectMap``."""
    from db.models import DefectMapRecord
    from db.wafer_maps import MissingRecordError, _defect_map

    row = conn.execute(select(DefectMapRecord).where(DefectMapRecord.wafer_id == wafer_id)
                       .order_by(DefectMapRecord.id).limit(1)).one_or_none()
    if row is None:
        raise MissingRecordError(f"wafer {wafer_id} has no defect map stored", parameter="wafer")
    return _defect_map(row)


def repair_map_of_image(conn: Connection, image_id: int) -> Any:
    """The ``RepairMap`` a stored fabric image was built from."""
    from db.wafer_maps import MissingRecordError, _defect_map_row

    rm_id = conn.scalar(select(FabricImageRecord.repair_map_id).where(FabricImageRecord.id == image_id))
    row = conn.execute(select(RepairMapRecord).where(RepairMapRecord.id == rm_id)).one_or_none()
    if row is None or row.defect_map_id is None or row.mapping is None:
        raise MissingRecordError(f"image {image_id} has no reloadable repair map", parameter="wafer")
    from db.models import decode_ids
    from yieldkit.repair_map import RepairMap

    _, defects = _defect_map_row(conn, row.defect_map_id)
    return RepairMap(physical_of_logical=decode_ids(row.mapping).reshape(row.logical_rows, row.logical_cols),
                     defects=defects, scheme=row.scheme, scheme_params=json.loads(row.scheme_params),
                     design=row.design, design_fingerprint=row.design_fingerprint, complete=bool(row.full_fabric),
                     reason=row.reason or "", algorithm=row.algorithm)


def image_id_by_sha(conn: Connection, sha256: str) -> int | None:
    """Id of the stored image with that SHA-256, or None."""
    return conn.scalar(select(FabricImageRecord.id).where(FabricImageRecord.sha256 == sha256))


def image_bytes(conn: Connection, image_id: int) -> bytes:
    """The bytes of a stored image (blob)."""
    return bytes(conn.scalar(select(FabricImageRecord.blob).where(FabricImageRecord.id == image_id)))
