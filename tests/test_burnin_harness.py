"""Lots, classification rules, incremental remap, the state policy, evaluation against the truth."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from burnin.campaign import CampaignSpec, run_campaign
from burnin.classify import classify_core
from burnin.lot import create_lot
from burnin.policy import fabric_state
from burnin.remap import moved_cores, remap
from burnin.station import evaluate, open_station
from db.burnin_records import UnknownRecordError
from db.models import Lot, Wafer
from yieldkit.defect_map import DefectMap
from yieldkit.defects import DefectModel
from yieldkit.design import load_design
from yieldkit.faults import FaultClass
from yieldkit.repair import repair_wafer
from yieldkit.verify import verify_repair_map

SMALL = load_design("small")


def test_lot_create_stores_every_wafer_and_refuses_a_duplicate_name(db_engine):
    report = create_lot(db_engine, SMALL, DefectModel(0.1), 4, seed=2, name="LA")
    assert len(report.wafers) == 4 and {w["state"] for w in report.wafers} <= {"repaired", "engineering_part",
                                                                                  "scrapped"}
    with pytest.raises(UnknownRecordError, match="already exists"):
        create_lot(db_engine, SMALL, DefectModel(0.1), 4, seed=2, name="LA")
    with db_engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Lot)) == 1
        assert conn.scalar(select(func.count()).select_from(Wafer)) == 4


@pytest.mark.parametrize("nominal, raised, relaxed, compute, expected", [
    ([True] * 3, [], [True] * 3, True, FaultClass.PERMANENT_CORE),
    ([True] * 3, [], [False] * 3, True, FaultClass.THERMAL),
    ([True] * 3, [], [True, False, True], True, FaultClass.MARGINAL_CORE),
    ([False, True, False], [], [], True, FaultClass.MARGINAL_CORE),
    ([False] * 3, [True, False, False], [], True, FaultClass.MARGINAL_CORE),
    ([False] * 3, [False] * 3, [], True, FaultClass.TRANSIENT_BIT_FLIP),
    ([True] * 3, [], [True] * 3, False, FaultClass.SRAM),
])
def test_classification_rules(nominal, raised, relaxed, compute, expected):
    cls, action = classify_core(nominal, raised, relaxed, compute)
    assert cls == expected
    assert action == ("retry" if expected == FaultClass.TRANSIENT_BIT_FLIP else "map_out_core")


def test_incremental_remap_moves_fewer_cores_than_replanning_and_verifies():
    start = repair_wafer(SMALL, DefectMap.empty(SMALL)).repair_map
    bad = [int(start.physical_of_logical[r, c]) for r, c in ((5, 3), (20, 60), (40, 30))]
    local = remap(SMALL, start, bad)
    assert local.method == "local" and not verify_repair_map(local.repair_map, SMALL)
    replanned = repair_wafer(SMALL, local.repair_map.defects).repair_map
    assert local.moved < moved_cores(start.physical_of_logical, replanned.physical_of_logical)
    assert not np.isin(local.repair_map.physical_of_logical, bad).any()


def test_a_wafer_past_its_spares_becomes_an_engineering_part_or_scrap():
    start = repair_wafer(SMALL, DefectMap.empty(SMALL)).repair_map
    row = start.physical_of_logical[62]
    few = remap(SMALL, start, row[:6].tolist())          # 6 dead in one row, 4 spares: the row is lost
    state, why = fabric_state(few.repair_map, SMALL, few.violations == 0)
    assert not few.complete and state == "engineering_part" and "logical grid" in why
    many = remap(SMALL, start, start.physical_of_logical[::4, :6].ravel().tolist())
    assert fabric_state(many.repair_map, SMALL, many.violations == 0)[0] == "scrap"


def _campaign(engine, lot, fault_model, seed=1, hours=24.0):
    create_lot(engine, SMALL, DefectModel(0.05), 2, seed=seed, name=lot, fault_model=fault_model)
    spec = CampaignSpec(f"{lot}-c", hours, 125.0, 1.1, "S1", "op", seed)
    run_campaign(engine, spec, [f"{lot}-W01", f"{lot}-W02"], open_station)
    return evaluate(engine, spec.name)


def test_evaluate_permanent_core_recall_is_total(db_engine):
    ev = _campaign(db_engine, "LE", "demo")
    row = ev.per_class.set_index("fault_class").loc["permanent_core"]
    assert row["active"] > 0 and row["recall"] == 1.0
    assert ev.summary["wafers"] == 2


def test_evaluate_no_false_map_out_on_a_fault_free_wafer(db_engine):
    ev = _campaign(db_engine, "LC", "clean")
    assert ev.summary["cores_mapped_out"] == 0 and ev.summary["needless_map_outs"] == 0
