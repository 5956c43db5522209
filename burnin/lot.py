"""A lot at fab-out: sample every wafer's defects, plan and verify its repair, build its image, store it all.

Wafer ``i`` (0-based) of a lot with seed ``S`` has the seed
``SeedSequence([S, i])`` (63 bits): its defects are ``sample_wafer(design,
model, seed)`` and the simulated hardware draws its fault truth from the
same seed. Serial: ``<lot>-W<i+1, two digits>``. State by the policy of
:mod:`burnin.policy`: ``repaired`` (full fabric), ``engineering_part`` or
``scrapped``. Everything is computed first and written in one transaction:
a refused or failed lot writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Engine

from burnin.policy import MIN_FRACTION, fabric_state
from db.burnin_records import add_lot_wafer, create_lot as create_lot_record, lot_by_name, UnknownRecordError
from db.engine import write_transaction
from db.wafer_maps import add_defect_map, add_fabric_image, add_repair_map
from firmware_map.image import build_image
from yieldkit.defects import DefectModel, sample_wafer
from yieldkit.design import Design
from yieldkit.repair import repair_wafer

__all__ = ["LotReport", "wafer_seed", "wafer_serial", "create_lot", "STATE_OF"]

STATE_OF = {"full": "repaired", "engineering_part": "engineering_part", "scrap": "scrapped"}


def wafer_seed(lot_seed: int, index: int) -> int:
    """The seed of wafer ``index`` of the lot seeded ``lot_seed`` (63-bit, SeedSequence).

    Examples
    --------
    >>> wafer_seed(7, 0) == wafer_seed(7, 0) != wafer_seed(7, 1)
    True
    """
    return int(np.random.SeedSequence([int(lot_seed), int(index)]).generate_state(1, np.uint64)[0] >> np.uint64(1))


def wafer_serial(lot: str, index: int) -> str:
    """``<lot>-W<index+1:02d>``."""
    return f"{lot}-W{index + 1:02d}"


@dataclass(frozen=True, eq=False)
class LotReport:
    """A lot as created: its name, design and one record per wafer."""

    name: str
    design: str
    wafers: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"lot": self.name, "design": self.design, "wafers": self.wafers}

    def __repr__(self) -> str:
        states = [w["state"] for w in self.wafers]
        return f"LotReport({self.name!r}, {self.design!r}, {len(states)} wafers, {states.count('repaired')} full fabric)"


def create_lot(engine: Engine, design: Design, model: DefectModel, n_wafers: int, seed: int, name: str | None = None,
               *, fault_model: str = "demo", min_fraction: float = MIN_FRACTION,
               progress: Callable[[int], None] | None = None) -> LotReport:
    """Create lot ``name`` of ``n_wafers`` wafers at fab-out (module docstring).

    Raises
    ------
    UnknownRecordError
        A lot of that name exists (exit 2, nothing written).
    """
    name = name or f"LOT-{design.name}-s{seed}"
    with engine.connect() as conn:
        try:
            lot_by_name(conn, name)
        except UnknownRecordError:
            pass
        else:
            raise UnknownRecordError(f"lot {name!r} already exists; choose another --name (nothing was written)",
                                     parameter="name")
    built = []
    for i in range(n_wafers):
        seed_i = wafer_seed(seed, i)
        serial = wafer_serial(name, i)
        defects = sample_wafer(design, model, seed_i)
        report = repair_wafer(design, defects)
        state, why = fabric_state(report.repair_map, design, not report.violations, min_fraction)
        image = (build_image(report.repair_map, wafer_id=serial, design=design)
                 if report.repair_map.physical_of_logical.size and state != "scrap" else None)
        built.append((serial, seed_i, defects, report, STATE_OF[state], why, image))
        if progress:
            progress(1)
    params = {"design": design.name, "d0_per_cm2": model.d0_per_cm2, "alpha": model.alpha, "seed": seed,
              "wafers": n_wafers, "fault_model": fault_model, "min_fraction": min_fraction}
    records = []
    with write_transaction(engine) as conn:
        lot_id = create_lot_record(conn, name, params)
        for serial, seed_i, defects, report, state, why, image in built:
            wafer_id = add_lot_wafer(conn, lot_id, serial, design.name, seed_i, state)
            dm = add_defect_map(conn, wafer_id, defects, source="inspection")
            rm = add_repair_map(conn, wafer_id, report.repair_map, defect_map_id=dm)
            if image is not None:
                add_fabric_image(conn, wafer_id, image, repair_map_id=rm)
            records.append({"wafer": serial, "seed": seed_i, "state": state, "dead_cores": defects.n_dead_sites,
                            "dead_links": defects.n_dead_links, "logical_rows": report.repair_map.logical_rows,
                            "logical_cols": report.repair_map.logical_cols, "image": image is not None,
                            "reason": why})
    return LotReport(name, design.name, records)
