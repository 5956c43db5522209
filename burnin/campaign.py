"""Burn-in campaigns: stress, scan, classify, remap, log; resumable after a kill.

The campaign logic receives a *station factory* (the hardware driver, e.g.
``burnin.station.SimulatedStation`` found through the
``yieldkit.burnin_stations`` entry point) and never imports the fault truth.

Schedule: ``hours`` of stress cut into steps of ``step_h`` (the last one
shorter). Step ``k`` of a wafer: the station holds the wafer ``step_h`` at
the campaign conditions, one scan runs (:mod:`burnin.scan`, inputs keyed by
``(campaign seed, wafer seed, k)``, the station's run-time stream too),
newly bad cores and links are remapped incrementally (:mod:`burnin.remap`),
the next image is built (``firmware_map``) and verified, and everything the
step produced (run, workload executions, fault events, defect map, repair
map, image, remap action, wafer state) is written in **one transaction**.
A wafer that can no longer present its standard fabric becomes an
engineering part or scrap (:mod:`burnin.policy`) and leaves the campaign; a
wafer that finishes with its full fabric is ``shipped``.

Resume (``resume=True``): the last committed step of every wafer is read
from ``runs (campaign_id, wafer_id, step)``; the wafer's state is rebuilt by
**re-simulating** its committed steps from the campaign's start image without
writing (a step is a pure function of the seeds, the start image and the
steps before it; each replayed image is checked against the stored one by
its SHA-256), then the campaign continues with the next step. A kill at any
moment loses at most the step in flight, which the resumed run writes
exactly as the uninterrupted run would have (on PostgreSQL the rolled-back
step leaves a gap in the id sequences; rows, their order and links are equal).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from burnin.classify import MAP_OUT_ACTIONS
from burnin.image_step import build_checked_image
from burnin.policy import MIN_FRACTION, fabric_state
from burnin.remap import remap
from burnin.scan import scan
from db.burnin_records import (
    add_step_run,
    campaign_by_name,
    create_campaign,
    first_defect_map,
    image_id_by_sha,
    image_id_of,
    insert_fault_events,
    insert_workload_executions,
    last_steps,
    record_remap,
    repair_map_of_image,
    wafer_by_serial,
    UnknownRecordError,
)
from db.engine import write_transaction
from db.models import Lot, Run, WaferState
from db.wafer_maps import add_defect_map, add_fabric_image, add_repair_map
from db.writer import set_wafer_state
from yieldkit.design import load_design
from yieldkit.errors import InputError

__all__ = ["CampaignSpec", "CampaignResult", "step_hours", "check_wafers", "run_campaign", "DEFAULT_STEP_H"]

DEFAULT_STEP_H = 4.0


def step_hours(hours: float, step_h: float) -> list[float]:
    """The durations of the steps of a campaign of ``hours`` [h] in steps of ``step_h`` [h].

    Examples
    --------
    >>> step_hours(10, 4)
    [4.0, 4.0, 2.0]
    >>> step_hours(0, 4)
    []
    """
    n = math.ceil(hours / step_h - 1e-9) if hours > 0 else 0
    return [float(min(step_h, hours - k * step_h)) for k in range(n)]


@dataclass(frozen=True)
class CampaignSpec:
    """Conditions of a campaign: name, duration [h], temperature [degC], voltage [V], step [h], who, seed."""

    name: str
    hours: float
    temp_c: float
    voltage_v: float
    station: str
    operator: str
    seed: int
    step_h: float = DEFAULT_STEP_H
    min_fraction: float = MIN_FRACTION

    def __post_init__(self) -> None:
        if not (self.hours >= 0 and math.isfinite(self.hours)):
            raise InputError(f"must be a finite number >= 0 [h], got {self.hours:g}", parameter="hours")
        if not self.step_h > 0:
            raise InputError(f"must be > 0 [h], got {self.step_h:g}", parameter="step_h")
        if not self.voltage_v > 0:
            raise InputError(f"must be > 0 [V], got {self.voltage_v:g}", parameter="voltage_v")
        if not self.temp_c > -273.15:
            raise InputError(f"must be above -273.15 [degC], got {self.temp_c:g}", parameter="temp_c")

    def params(self) -> dict[str, Any]:
        """What must agree between a campaign and its resumption."""
        return {"hours": self.hours, "temp_c": self.temp_c, "voltage_v": self.voltage_v, "step_h": self.step_h,
                "min_fraction": self.min_fraction}

    def to_dict(self) -> dict[str, Any]:
        return {"campaign": self.name, **self.params(), "station": self.station, "operator": self.operator,
                "seed": self.seed}


@dataclass(frozen=True, eq=False)
class CampaignResult:
    """What a campaign did: one record per wafer."""

    campaign: str
    wafers: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"campaign": self.campaign, "wafers": self.wafers}

    def __repr__(self) -> str:
        return f"CampaignResult({self.campaign!r}, {len(self.wafers)} wafers)"


def check_wafers(engine: Engine, serials: Sequence[str]) -> list[Any]:
    """The wafer rows, refusing (InputError, nothing written) an unknown wafer or one with no image."""
    rows = []
    with engine.connect() as conn:
        for serial in serials:
            row = wafer_by_serial(conn, serial)
            if image_id_of(conn, row.id) is None:
                raise UnknownRecordError(f"wafer {serial!r} has no fabric image (state {row.state}); "
                                         "it cannot be burned in", parameter="wafer")
            rows.append(row)
    return rows


def _image_sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run_campaign(engine: Engine, spec: CampaignSpec, serials: Sequence[str], open_station: Callable[..., Any], *,
                 resume: bool = False, progress: Callable[[int], None] | None = None) -> CampaignResult:
    """Run (or resume) the campaign ``spec`` on the wafers ``serials`` (module docstring).

    Parameters
    ----------
    engine : Engine
    spec : CampaignSpec
    serials : sequence of str
        Wafer serials; wafers that are not a full fabric at the start are skipped.
    open_station : callable
        ``open_station(design, fab_out, repair_map, wafer_seed, fault_model, exposure)`` -> station.
    resume : bool
        Continue a campaign that already has steps; without it such a campaign is refused.
    progress : callable, optional
        Called with 1 after each step.

    Raises
    ------
    InputError
        Unknown wafer, wafer without image, a campaign already started (without
        ``resume``) or started with other conditions.
    """
    wafers = check_wafers(engine, serials)
    plan = step_hours(spec.hours, spec.step_h)
    with engine.connect() as conn:
        existing = campaign_by_name(conn, spec.name)
        if existing is not None and not resume:
            done = last_steps(conn, existing.id)
            if any(w.id in done for w in wafers):
                raise UnknownRecordError(f"campaign {spec.name!r} already has runs on these wafers; "
                                         "add --resume to continue it", parameter="campaign")
    with write_transaction(engine) as conn:
        campaign_id, _ = create_campaign(conn, spec.name, spec.seed, spec.params())
    out = []
    for wafer in wafers:
        out.append(_run_wafer(engine, spec, campaign_id, wafer, plan, open_station, progress))
    return CampaignResult(spec.name, out)


def _run_wafer(engine: Engine, spec: CampaignSpec, campaign_id: int, wafer: Any, plan: list[float],
               open_station: Callable[..., Any], progress: Callable[[int], None] | None) -> dict[str, Any]:
    design = load_design(wafer.design)
    with engine.connect() as conn:
        done = last_steps(conn, campaign_id).get(wafer.id, -1)
        if done >= 0:
            start_image = conn.scalar(select(Run.fabric_image_id).where(
                Run.campaign_id == campaign_id, Run.wafer_id == wafer.id, Run.step == 0))
            before = select(Run.id).where(Run.campaign_id == campaign_id, Run.wafer_id == wafer.id, Run.step == 0)
            first_run = conn.scalar(before)
        else:
            start_image = image_id_of(conn, wafer.id)
            first_run = None
        state = WaferState(wafer.state)
        lot_params = json.loads(conn.scalar(select(Lot.params).where(Lot.id == wafer.lot_id)) or "{}")
        fab_out = first_defect_map(conn, wafer.id)
        current = repair_map_of_image(conn, start_image)
        q = select(Run.hours, Run.temperature_c, Run.voltage_v).where(Run.wafer_id == wafer.id)
        q = q.where(Run.id < first_run) if first_run is not None else q
        exposure = [(float(h), float(t), float(v)) for h, t, v in conn.execute(q.order_by(Run.id))]
    record = {"wafer": wafer.serial, "steps": 0, "events": 0, "remaps": 0, "cores_mapped_out": 0,
              "links_mapped_out": 0, "moved": 0, "state": str(state)}
    if done < 0 and (state != WaferState.REPAIRED and state != WaferState.IN_BURN_IN and
                     state != WaferState.SHIPPED or not current.complete):
        record["skipped"] = f"not a full fabric ({state})"
        if progress:
            progress(len(plan))
        return record
    station = open_station(design, fab_out, current, int(wafer.seed), lot_params.get("fault_model", "demo"),
                           exposure)
    image_id = start_image
    for k, hours in enumerate(plan):
        start_h = station.time_h
        station.begin_step(spec.seed, k)
        station.stress(hours, spec.temp_c, spec.voltage_v)
        result = scan(station, spec.temp_c, spec.voltage_v, [spec.seed, int(wafer.seed), k, 7],
                      getattr(station, "sram_spare_rows", 0))
        new_state = WaferState.IN_BURN_IN
        remapped = None
        if result.map_out_sites or result.map_out_links:
            remapped = remap(design, current, result.map_out_sites, result.map_out_links)
            verdict, why = fabric_state(remapped.repair_map, design, remapped.violations == 0, spec.min_fraction)
            if verdict != "full":
                new_state = WaferState.ENGINEERING_PART if verdict == "engineering_part" else WaferState.SCRAPPED
        if new_state == WaferState.IN_BURN_IN and k == len(plan) - 1:
            new_state = WaferState.SHIPPED
        image = None
        if remapped is not None and remapped.method != "none" and new_state != WaferState.SCRAPPED:
            image = build_checked_image(remapped.repair_map, wafer.serial, design,
                                        full=new_state != WaferState.ENGINEERING_PART)
        if k > done:
            _write_step(engine, spec, campaign_id, wafer, k, hours, start_h, station.time_h, image_id, result,
                        remapped, image, new_state)
        if image is not None:
            with engine.connect() as conn:
                image_id = image_id_by_sha(conn, _image_sha(image))
            if image_id is None:
                raise RuntimeError(f"replayed step {k} of {wafer.serial} built an image the database does not hold")
        record["steps"] += 1
        record["events"] += len(result.events)
        if remapped is not None and remapped.method != "none":
            record["remaps"] += 1
            record["moved"] += remapped.moved
            record["cores_mapped_out"] += int(remapped.new_dead_sites.size)
            record["links_mapped_out"] += int(remapped.new_dead_links.size)
            current = remapped.repair_map
            if new_state not in (WaferState.SCRAPPED,):
                station.load(current)
        record["state"] = str(new_state)
        if progress:
            progress(1)
        if new_state in (WaferState.ENGINEERING_PART, WaferState.SCRAPPED):
            if progress:
                progress(len(plan) - k - 1)
            break
    return record


def _write_step(engine: Engine, spec: CampaignSpec, campaign_id: int, wafer: Any, k: int, hours: float,
                start_h: float, end_h: float, image_id: int | None, result: Any, remapped: Any, image: bytes | None,
                state: WaferState) -> None:
    with write_transaction(engine) as conn:
        run_id = add_step_run(conn, campaign_id=campaign_id, wafer_id=wafer.id, step=k, station=spec.station,
                              operator=spec.operator, temperature_c=spec.temp_c, voltage_v=spec.voltage_v,
                              hours=hours, start_h=start_h, fabric_image_id=image_id)
        insert_workload_executions(conn, [{"run_id": run_id, "seq": i, "workload": e["workload"],
                                           "start_h": end_h, "end_h": end_h, "passed": e["passed"],
                                           "params": e["params"]} for i, e in enumerate(result.executions)])
        insert_fault_events(conn, [{"run_id": run_id, "seq": i, "time_h": end_h, "core_row": e["core_row"],
                                    "core_col": e["core_col"], "link_id": e["link_id"],
                                    "fault_class": e["fault_class"], "workload": e["workload"],
                                    "detection": e["detection"], "temperature_c": spec.temp_c,
                                    "voltage_v": spec.voltage_v, "action": e["action"]}
                                   for i, e in enumerate(result.events)])
        if remapped is not None and remapped.method != "none":
            dm = add_defect_map(conn, wafer.id, remapped.repair_map.defects, source="burn_in")
            if image is not None:
                rm = add_repair_map(conn, wafer.id, remapped.repair_map, defect_map_id=dm)
                new_id = add_fabric_image(conn, wafer.id, image, repair_map_id=rm, parent_id=image_id)
                classes = sorted({str(e["fault_class"]) for e in result.events if e["action"] in MAP_OUT_ACTIONS})
                record_remap(conn, wafer_id=wafer.id, old_image_id=image_id, new_image_id=new_id, at_h=end_h,
                             cores=remapped.new_dead_sites, links=remapped.new_dead_links, run_id=run_id,
                             reason=f"burn-in step {k}: {', '.join(classes) or 'map out'}",
                             cores_moved=remapped.moved, method=remapped.method)
        set_wafer_state(conn, wafer.id, state)
