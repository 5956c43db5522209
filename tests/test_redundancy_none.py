"""none scheme: any dead site or link in the footprint kills; degraded = largest good rectangle."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from yieldkit.defect_map import DefectMap
from yieldkit.defects import DefectModel, sample_batch
from yieldkit.design import load_design
from yieldkit.models import poisson_yield
from yieldkit.montecarlo import simulate
from yieldkit.redundancy import assessor_for, plan_repair
from yieldkit.verify import verify_repair_map
from tests.stat_tolerance import proportion_tolerance

NONE = replace(load_design("small").with_spares_per_row(0), scheme="none", scheme_params={})


def test_identity_and_poisson_yield() -> None:
    m = plan_repair(NONE, DefectMap.empty(NONE))
    assert m.complete and (m.physical_of_logical == np.arange(NONE.n_sites).reshape(64, 64)).all()
    n = 10_000
    result = simulate(NONE, DefectModel(0.02, x0_um=0), n, seed=3)
    expected = float(poisson_yield(0.02, NONE.existing_area_cm2))
    assert abs(result.full_fabric_yield - expected) < proportion_tolerance(expected, n)


def test_planner_agrees_with_assessor_and_verifies() -> None:
    batch = sample_batch(NONE, DefectModel(0.1, link_fraction=0.3), 40, np.random.default_rng(1))
    outcome = assessor_for(NONE)(batch)
    for i in range(batch.n_wafers):
        m = plan_repair(NONE, batch.wafer(i, "small"))
        assert m.complete == outcome.full[i]
        assert verify_repair_map(m, NONE) == []


def test_largest_rectangle() -> None:
    dead = [10 * 64 + 5]
    m = plan_repair(NONE, DefectMap(64, 64, dead))
    assert not m.complete
    assert m.logical_rows * m.logical_cols == 64 * 58  # columns 6..63
    assert verify_repair_map(m, NONE) == []
