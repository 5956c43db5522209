"""row-shift planner and batch assessor: closed form, verifier, sparse = exact, identity."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.stat_tolerance import proportion_tolerance
from yieldkit.defect_map import DefectMap
from yieldkit.defects import DefectModel, sample_batch
from yieldkit.design import Design, load_design
from yieldkit.models import row_spare_yield, site_failure_probability
from yieldkit.montecarlo import simulate
from yieldkit.redundancy import assessor_for, plan_repair
from yieldkit.redundancy.row_shift import longest_run_batch
from yieldkit.verify import verify_repair_map

SMALL = load_design("small")
WSE = load_design("wse")


def grid_design(rows: int, cols: int, logical_cols: int, reach: object = 1) -> Design:
    return Design(name="g", rows=rows, cols=cols, pitch_x_mm=1.0, pitch_y_mm=1.0, logical_rows=rows,
                  logical_cols=logical_cols, scheme="row-shift", scheme_params={"reach": reach})


def test_no_defects_is_the_identity_footprint() -> None:
    for design in (SMALL, WSE):
        m = plan_repair(design, DefectMap.empty(design))
        assert m.complete and m.logical_rows == design.logical_rows and m.logical_cols == design.logical_cols
        r, c = m.physical_rc()
        c0 = (design.cols - design.logical_cols) // 2
        assert (r == np.arange(design.logical_rows)[:, None] + design.logical_row_offset).all()
        assert (c == np.arange(design.logical_cols)[None, :] + c0).all()


def test_unlimited_reach_matches_the_product_of_binomial_tails() -> None:
    design = replace(SMALL, scheme_params={"reach": "inf"})
    d0, n = 2.0, 20_000
    result = simulate(design, DefectModel(d0, x0_um=0), n, seed=5)
    p = float(site_failure_probability(d0, design.site_area_mm2))
    expected = float(row_spare_yield(p, design.sites_per_row, design.spares_per_row))
    assert abs(result.full_fabric_yield - expected) < proportion_tolerance(expected, n)


def test_finite_reach_never_beats_unlimited() -> None:
    batch = sample_batch(SMALL, DefectModel(2.0, alpha=2.0), 1000, np.random.default_rng(2))
    limited = assessor_for(SMALL)(batch).full
    free = assessor_for(replace(SMALL, scheme_params={"reach": "inf"}))(batch).full
    assert not (limited & ~free).any()
    assert free.sum() > limited.sum()


@pytest.mark.parametrize("reach,link_fraction,d0", [(1, 0.0, 2.5), (2, 0.0, 2.5), ("inf", 0.0, 2.5), (1, 0.3, 0.3),
                                                   (2, 0.2, 0.5)])
def test_batch_assessor_agrees_with_the_planner_and_maps_verify(reach: object, link_fraction: float, d0: float) -> None:
    design = replace(SMALL, scheme_params={"reach": reach})
    batch = sample_batch(design, DefectModel(d0, alpha=1.5, link_fraction=link_fraction), 80, np.random.default_rng(7))
    outcome = assessor_for(design)(batch)
    assert 0 < outcome.full.sum() < batch.n_wafers
    for i in range(batch.n_wafers):
        m = plan_repair(design, batch.wafer(i, design.name))
        assert verify_repair_map(m, design) == []
        assert m.complete == outcome.full[i]
        if not m.complete:
            assert m.logical_rows * m.logical_cols >= outcome.logical_cores[i]
        else:
            assert outcome.logical_cores[i] == design.logical_cores


def test_wse_wafers_agree_and_verify() -> None:
    batch = sample_batch(WSE, DefectModel(0.3, alpha=1.0), 12, np.random.default_rng(3))
    outcome = assessor_for(WSE)(batch)
    for i in range(batch.n_wafers):
        m = plan_repair(WSE, batch.wafer(i, WSE.name), allow_degraded=False)
        assert m.complete == outcome.full[i]
        if m.complete:
            assert verify_repair_map(m, WSE) == []


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 10), st.integers(0, 3), st.sampled_from([0, 1, 2, "inf"]), st.data())
def test_property_every_map_verifies(rows: int, spares: int, reach: object, data: st.DataObject) -> None:
    cols = 8 + spares
    design = grid_design(rows, cols, 8, reach)
    dead = data.draw(st.lists(st.integers(0, rows * cols - 1), max_size=rows * cols // 3))
    links = data.draw(st.lists(st.integers(0, 2 * rows * cols - 1), max_size=4))
    links = [k for k in links if not (k % 2 == 0 and (k // 2) % cols == cols - 1) and not (k % 2 == 1 and k // 2 >= (rows - 1) * cols)]
    defects = DefectMap(rows, cols, dead, links)
    m = plan_repair(design, defects)
    assert verify_repair_map(m, design) == []
    if not dead and not links:
        assert m.complete
    if not m.complete:
        assert m.reason


def test_degraded_part_is_smaller_with_a_reason() -> None:
    design = grid_design(6, 9, 8, 1)
    dead = [2 * 9 + 0, 2 * 9 + 3, 2 * 9 + 6]  # three dead in one row, one spare
    m = plan_repair(design, DefectMap(6, 9, dead))
    assert not m.complete and "cannot be repaired" in m.reason
    assert verify_repair_map(m, design) == []
    assert m.logical_rows * m.logical_cols >= 3 * 8  # at least the three rows below
    strict = plan_repair(design, DefectMap(6, 9, dead), allow_degraded=False)
    assert strict.physical_of_logical.size == 0


def test_longest_run_batch() -> None:
    run = longest_run_batch(3, 10, np.array([0, 0]), np.array([2, 7]), np.array([1]), np.array([4]))
    # wafer 0: rows 0-1 | 3-6 | 8-9 -> 4; wafer 1: pair 4/5 cut -> 5; wafer 2: 10
    assert run.tolist() == [4, 5, 10]
