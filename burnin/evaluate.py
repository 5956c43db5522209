"""Score a campaign against the fault truth (simulator side: it redraws each wafer's truth).

For every wafer of the campaign the truth is drawn again from the wafer's
seed and fab-out defect map (``burnin.station.wafer_truth``) and compared
with what the campaign logged:

* **active** truth faults are those the campaign could see on the start
  image: latent defects at sites in use whose time to failure is below the
  wafer's equivalent age at the end; marginal, SRAM and hard-or-soft register
  faults at sites in use (register upsets before the end); thermal faults in
  use with a threshold at or below the campaign temperature; faulty links on
  a route of the start image;
* **recall** per truth class: active faults with a fault event (or a map-out)
  at their site or link; **precision** per reported class: distinct
  (class, location) events at a location holding some truth fault (none for
  ``transient_bit_flip``: soft errors are not in the truth);
* **confusion**: truth class x class of the first event at the location;
* **needless map-outs**: cores mapped out at a site with no truth fault
  (soft register upsets do not justify a map-out; latent defects not yet
  failed do);
* **escapes**: sites in use at the end with a latent defect failing in the
  first ``field_hours`` at reference conditions, or a marginal or SRAM fault;
* **hours to stability**: burn-in hours up to the end of the last step that
  remapped the wafer (0 when none did).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from burnin.station import fault_model, wafer_truth
from burnin.workloads.fabric import link_routes
from db.burnin_records import campaign_by_name, first_defect_map, latest_campaign, repair_map_of_image, image_id_of
from db.burnin_records import UnknownRecordError
from db.models import FaultEvent, Lot, RemapAction, Run, Wafer, decode_ids
from yieldkit.design import load_design
from yieldkit.faults import FaultClass

__all__ = ["Evaluation", "evaluate_campaign"]

_TRUTH_CLASSES = [FaultClass.PERMANENT_CORE, FaultClass.MARGINAL_CORE, FaultClass.THERMAL, FaultClass.SRAM,
                  FaultClass.CONTROL_REGISTER_UPSET, FaultClass.LINK_PACKET_LOSS]


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Scores of one campaign (module docstring).

    Attributes
    ----------
    campaign : str
    per_class : DataFrame
        ``fault_class``, ``active``, ``detected``, ``recall``, ``reported``, ``correct_location``, ``precision``.
    confusion : DataFrame
        Rows truth class, columns reported class, counts.
    summary : dict
        ``wafers``, ``needless_map_outs``, ``escapes``, ``hours_to_stability_max``/``mean`` [h], ...
    """

    campaign: str
    per_class: pd.DataFrame
    confusion: pd.DataFrame
    summary: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"campaign": self.campaign, "summary": self.summary,
                "per_class": self.per_class.to_dict(orient="records"),
                "confusion": {str(k): v for k, v in self.confusion.to_dict(orient="index").items()}}

    def __repr__(self) -> str:
        s = self.summary
        return (f"Evaluation({self.campaign!r}, {s['wafers']} wafers, {s['needless_map_outs']} needless map-outs, "
                f"{s['escapes']} escapes)")

    def table(self) -> pd.DataFrame:
        """Per-class table plus the summary as extra rows' columns (for reports)."""
        return self.per_class


def evaluate_campaign(engine: Engine, campaign: str | None = None, field_hours: float = 1000.0) -> Evaluation:
    """Score ``campaign`` (default: the latest) against the truth of its wafers.

    Raises
    ------
    UnknownRecordError
        No such campaign (``--campaign``), or no campaign at all.
    """
    with engine.connect() as conn:
        row = latest_campaign(conn) if campaign is None else campaign_by_name(conn, campaign)
        if row is None:
            raise UnknownRecordError(f"unknown campaign {campaign!r}", parameter="campaign")
        params = json.loads(row.params or "{}")
        runs = list(conn.execute(select(Run).where(Run.campaign_id == row.id).order_by(Run.wafer_id, Run.step)))
        wafer_ids = sorted({r.wafer_id for r in runs})
        active = {c: 0 for c in _TRUTH_CLASSES}
        detected = {c: 0 for c in _TRUTH_CLASSES}
        reported: dict[str, set] = {c.value: set() for c in FaultClass}
        correct: dict[str, set] = {c.value: set() for c in FaultClass}
        confusion: dict[tuple[str, str], int] = {}
        needless = escapes = 0
        stability = []
        mapped_total = 0
        for wid in wafer_ids:
            wafer = conn.execute(select(Wafer).where(Wafer.id == wid)).one()
            lot = json.loads(conn.scalar(select(Lot.params).where(Lot.id == wafer.lot_id)) or "{}")
            design = load_design(wafer.design)
            model_name = lot.get("fault_model", "demo")
            model = fault_model(model_name)
            fab_out = first_defect_map(conn, wid)
            truth = wafer_truth(design, fab_out, wafer.seed, model_name)
            wruns = [r for r in runs if r.wafer_id == wid]
            start = repair_map_of_image(conn, wruns[0].fabric_image_id)
            final = repair_map_of_image(conn, image_id_of(conn, wid))
            earlier = conn.execute(select(Run.hours, Run.temperature_c, Run.voltage_v)
                                   .where(Run.wafer_id == wid, Run.id < wruns[0].id)).all()
            age = sum(h * model.acceleration(t, v) for h, t, v in earlier)
            age += sum(r.hours * model.acceleration(r.temperature_c, r.voltage_v) for r in wruns)
            end_h = sum(h for h, _, _ in earlier) + sum(r.hours for r in wruns)
            in_use = np.zeros(design.n_sites, bool)
            in_use[start.physical_of_logical.ravel()] = True
            final_use = np.zeros(design.n_sites, bool)
            final_use[final.physical_of_logical.ravel()] = True
            temp = float(params.get("temp_c", wruns[0].temperature_c))
            run_ids = [r.id for r in wruns]
            events = conn.execute(select(FaultEvent).where(FaultEvent.run_id.in_(run_ids))
                                  .order_by(FaultEvent.run_id, FaultEvent.seq)).all()
            remaps = conn.execute(select(RemapAction).where(RemapAction.run_id.in_(run_ids))).all()
            mapped_sites = set()
            mapped_links = set()
            for rm in remaps:
                mapped_sites |= set(decode_ids(rm.cores_mapped_out).tolist())
                mapped_links |= set(decode_ids(rm.links_mapped_out).tolist())
            mapped_total += len(mapped_sites)
            first_class: dict[tuple[str, int], str] = {}
            for e in events:
                loc = ("core", e.core_row * design.cols + e.core_col) if e.link_id is None else ("link", int(e.link_id))
                first_class.setdefault(loc, str(e.fault_class))
            # truth locations by class
            lat = truth.latent_ttf_ref_h <= age
            truth_sites = {
                FaultClass.PERMANENT_CORE: truth.latent_site[lat & in_use[truth.latent_site]],
                FaultClass.MARGINAL_CORE: truth.marginal_site[in_use[truth.marginal_site]],
                FaultClass.THERMAL: truth.thermal_site[(truth.thermal_threshold_c <= temp)
                                                       & in_use[truth.thermal_site]],
                FaultClass.SRAM: np.unique(truth.sram.core[in_use[truth.sram.core]]),
                FaultClass.CONTROL_REGISTER_UPSET: np.unique(truth.register_site[
                    (truth.register_time_h <= end_h) & in_use[truth.register_site]]),
            }
            routes = link_routes(start.physical_of_logical, design.cols, start.defects.dead_links)
            truth_links = truth.link_id[np.isin(truth.link_id, routes.physical)]
            faulty_sites = set(np.concatenate([truth.latent_site, truth.marginal_site, truth.thermal_site,
                                               truth.sram.core, truth.register_site]).tolist())
            justified = set(np.concatenate([truth.latent_site, truth.marginal_site, truth.thermal_site,
                                            truth.sram.core, truth.register_site[truth.register_stuck]]).tolist())
            for cls, sites in truth_sites.items():
                for s in np.asarray(sites).tolist():
                    active[cls] += 1
                    got = first_class.get(("core", s))
                    if got is not None or s in mapped_sites:
                        detected[cls] += 1
                        key = (cls.value, got or "map_out")
                        confusion[key] = confusion.get(key, 0) + 1
            for link in truth_links.tolist():
                active[FaultClass.LINK_PACKET_LOSS] += 1
                got = first_class.get(("link", link))
                if got is not None or link in mapped_links:
                    detected[FaultClass.LINK_PACKET_LOSS] += 1
                    key = (FaultClass.LINK_PACKET_LOSS.value, got or "map_out")
                    confusion[key] = confusion.get(key, 0) + 1
            for (kind, loc), cls in first_class.items():
                reported[cls].add((wid, kind, loc))
                if (kind == "core" and loc in faulty_sites) or (kind == "link" and loc in set(truth.link_id.tolist())):
                    correct[cls].add((wid, kind, loc))
            needless += sum(1 for s in mapped_sites if s not in justified)
            late = (truth.latent_ttf_ref_h > age) & (truth.latent_ttf_ref_h <= age + field_hours)
            escapes += int(final_use[truth.latent_site[late]].sum() + final_use[truth.marginal_site].sum()
                           + final_use[np.unique(truth.sram.core)].sum()) if final.physical_of_logical.size else 0
            remap_runs = {rm.run_id for rm in remaps}
            last = [r for r in wruns if r.id in remap_runs]
            stability.append(float(last[-1].start_h + last[-1].hours) if last else 0.0)
    rows = []
    for cls in FaultClass:
        a = active.get(cls)
        d = detected.get(cls)
        n_rep, n_ok = len(reported[cls.value]), len(correct[cls.value])
        rows.append({"fault_class": cls.value, "active": a, "detected": d,
                     "recall": (d / a if a else None) if a is not None else None,
                     "reported": n_rep, "correct_location": n_ok if cls != FaultClass.TRANSIENT_BIT_FLIP else None,
                     "precision": (n_ok / n_rep if n_rep else None) if cls != FaultClass.TRANSIENT_BIT_FLIP else None})
    labels_t = [c.value for c in _TRUTH_CLASSES]
    labels_r = [c.value for c in FaultClass] + ["map_out"]
    conf = pd.DataFrame([[confusion.get((t, r), 0) for r in labels_r] for t in labels_t], index=labels_t,
                        columns=labels_r)
    conf = conf.loc[:, (conf != 0).any(axis=0)] if conf.values.any() else conf
    summary = {"campaign": row.name, "wafers": len(wafer_ids), "cores_mapped_out": mapped_total,
               "needless_map_outs": needless, "escapes": escapes, "field_hours": field_hours,
               "hours_to_stability_max": max(stability) if stability else 0.0,
               "hours_to_stability_mean": float(np.mean(stability)) if stability else 0.0}
    return Evaluation(row.name, pd.DataFrame(rows, dtype=object), conf, summary)
