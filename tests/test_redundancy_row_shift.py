"""row-shift planner and batch assessor: closed form, verifier, sparse = exact, identity."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from tests.stat_tolerance import proportion_tolerance
from yieldkit.defect_map import DefectMap
from yieldkit.defects import DefectBatch, DefectModel, sample_batch
from yieldkit.design import Design, DesignError, load_design
from yieldkit.models import row_spare_yield, site_failure_probability
from yieldkit.montecarlo import simulate
from yieldkit.redundancy import assessor_for, plan_repair
from yieldkit.redundancy.row_shift import (
    _regular_band,
    _static_ok,
    assessor,
    band_failures,
    longest_run_batch,
)
from yieldkit.verify import verify_repair_map

SMALL = load_design("small")
WSE = load_design("wse")


def grid_design(rows: int, cols: int, logical_cols: int, reach: object = 1) -> Design:
    return Design(name="g", rows=rows, cols=cols, pitch_x_mm=1.0, pitch_y_mm=1.0, logical_rows=rows,
                  logical_cols=logical_cols, scheme="row-shift", scheme_params={"reach": reach})


def clipped_design(reach: object = 1) -> Design:
    """40 x 40 sites clipped by a 52 mm wafer: band rows have 6 to 12 spares."""
    return Design(name="clipped", rows=40, cols=40, pitch_x_mm=1.0, pitch_y_mm=1.0, logical_rows=30, logical_cols=28,
                  wafer_diameter_mm=52.0, edge_exclusion_mm=3.0, scheme="row-shift", scheme_params={"reach": reach})


def exact_outcome(design: Design, batch: DefectBatch) -> tuple[np.ndarray, np.ndarray]:
    """``(full, logical_cores)`` of every wafer by the exact one-wafer path (``band_failures``)."""
    full = np.zeros(batch.n_wafers, dtype=bool)
    cores = np.zeros(batch.n_wafers, dtype=np.int64)
    for i in range(batch.n_wafers):
        rows, pairs, _ = band_failures(design, batch.wafer(i, design.name))
        full[i] = rows.size == 0 and pairs.size == 0
        run = longest_run_batch(1, design.logical_rows, np.zeros(rows.size, np.int64), rows,
                                np.zeros(pairs.size, np.int64), pairs)
        cores[i] = run[0] * design.logical_cols
    return full, cores


def batch_of(maps: list[DefectMap]) -> DefectBatch:
    rows, cols = maps[0].rows, maps[0].cols
    sw = np.concatenate([np.full(m.n_dead_sites, i, np.int64) for i, m in enumerate(maps)])
    lw = np.concatenate([np.full(m.n_dead_links, i, np.int64) for i, m in enumerate(maps)])
    return DefectBatch(len(maps), rows, cols, sw, np.concatenate([m.dead_sites for m in maps]), lw,
                       np.concatenate([m.dead_links for m in maps]),
                       np.array([m.n_dead_sites + m.n_dead_links for m in maps], np.int64))


def assert_batch_is_exact(design: Design, batch: DefectBatch, planner_checks: int = 0) -> None:
    assess = assessor(design)
    outcome = assess(batch)
    full, cores = exact_outcome(design, batch)
    assert (outcome.full == full).all(), np.flatnonzero(outcome.full != full)
    assert (outcome.logical_cores == cores).all(), np.flatnonzero(outcome.logical_cores != cores)
    if _regular_band(design):
        assert assess.stats == {"wafers": batch.n_wafers, "exact": 0}  # no per-wafer fallback
    for i in range(min(planner_checks, batch.n_wafers)):
        assert plan_repair(design, batch.wafer(i, design.name), allow_degraded=False).complete == outcome.full[i]


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


# -- dead links in the batch assessor: the vectorised test equals the exact one-wafer path -------

@pytest.mark.parametrize("reach", [0, 1, 2, "inf"])
@pytest.mark.parametrize("link_fraction,d0", [(0.3, 0.4), (1.0, 0.3), (1.0, 1.5), (0.3, 2.0), (0.05, 0.3)])
def test_batch_dead_links_equal_the_exact_path_small(reach: object, link_fraction: float, d0: float) -> None:
    design = replace(SMALL, scheme_params={"reach": reach})
    batch = sample_batch(design, DefectModel(d0, alpha=1.5, link_fraction=link_fraction), 150,
                         np.random.default_rng(11))
    assert batch.link.size > 0
    assert_batch_is_exact(design, batch, planner_checks=20)


@pytest.mark.parametrize("reach", [1, 2, "inf"])
@pytest.mark.parametrize("link_fraction,d0", [(0.3, 1.0), (1.0, 0.5), (1.0, 3.0)])
def test_batch_dead_links_equal_the_exact_path_clipped_corners(reach: object, link_fraction: float, d0: float) -> None:
    design = clipped_design(reach)
    assert design.spares_per_row.min() < design.spares_per_row.max()  # the band really is clipped
    batch = sample_batch(design, DefectModel(d0, alpha=1.5, link_fraction=link_fraction, x0_um=0), 200,
                         np.random.default_rng(5))
    assert batch.link.size > 0
    assert_batch_is_exact(design, batch, planner_checks=20)


def test_batch_dead_links_equal_the_exact_path_wse() -> None:
    for d0, link_fraction in ((0.1, 0.3), (0.5, 0.05)):
        batch = sample_batch(WSE, DefectModel(d0, alpha=2.0, link_fraction=link_fraction), 24,
                             np.random.default_rng(4))
        assert batch.link.size > 0
        assert_batch_is_exact(WSE, batch)


def test_a_dead_link_costs_one_spare_of_its_row_wherever_it_is() -> None:
    design = grid_design(4, 10, 8, 1)  # nominal columns 1..8, two spares per row
    e, s = 0, 1
    cases = [(1, 3, e), (1, 8, e), (1, 0, e), (1, 4, s), (1, 0, s), (3, 4, e)]
    maps = [DefectMap(4, 10, [], [2 * (r * 10 + c) + d]) for (r, c, d) in cases]
    outcome = assessor(design)(batch_of(maps))
    assert outcome.full.all() and (outcome.logical_cores == 32).all()  # the old rule failed 4 of these 6
    assert_batch_is_exact(design, batch_of(maps), planner_checks=len(maps))
    # the link costs a spare: with both spares of row 1 already dead, the row has none left for it
    spent = [11, 12]  # (1, 1), (1, 2)
    outcome = assessor(design)(batch_of([DefectMap(4, 10, spent, []), DefectMap(4, 10, spent, [2 * (1 * 10 + 5)])]))
    assert outcome.full.tolist() == [True, False]


def test_wse_wafer_with_one_dead_link_is_repaired() -> None:
    # regression: the east link of (600, 400) alone made the wafer unrepairable ("a dead link on the
    # row's logical chain") although its row has 48 spares
    from yieldkit.repair import repair_wafer

    link = 2 * (600 * WSE.cols + 400)
    report = repair_wafer(WSE, DefectMap(WSE.rows, WSE.cols, [], [link], design=WSE.name))
    assert report.repairable, report.repair_map.reason
    assert 600 * WSE.cols + 400 not in set(report.repair_map.physical_of_logical.ravel().tolist())
    assert assessor_for(WSE)(batch_of([DefectMap(WSE.rows, WSE.cols, [], [link])])).full.tolist() == [True]


def with_sites(design: Design, mask: np.ndarray) -> Design:
    design.__dict__["site_exists"] = mask
    design.__dict__["sites_per_row"] = mask.sum(axis=1)
    return design


def test_a_dead_link_on_a_nested_band_takes_the_end_in_the_row_with_more_spares() -> None:
    # row 0 has sites 0..10 (3 spares), rows 1-2 sites 1..9 (1 spare each); two dead sites at the right of
    # row 0 leave it one spare. A dead S link (0, 1)-(1, 1) maps out (0, 1), the end in the row that had
    # more spares by design: row 0 then has exactly 8 live sites.
    mask = np.ones((3, 11), dtype=bool)
    mask[1:, [0, 10]] = False
    design = with_sites(replace(grid_design(3, 11, 8, 1), name="nested"), mask)
    assert _regular_band(design) and _static_ok(design)
    s = 1
    maps = [DefectMap(3, 11, [9, 10], []), DefectMap(3, 11, [9, 10], [2 * 1 + s]),
            DefectMap(3, 11, [9, 10, 1], []), DefectMap(3, 11, [], [2 * 1 + s])]
    batch = batch_of(maps)
    outcome = assessor(design)(batch)
    assert outcome.full[1] == outcome.full[2]  # the link costs exactly its mapped-out end
    assert outcome.full[3]
    assert_batch_is_exact(design, batch, planner_checks=4)
    for m in maps:
        rm = plan_repair(design, m)
        assert verify_repair_map(rm, design) == []


def test_irregular_band_takes_the_exact_path() -> None:
    design = grid_design(4, 11, 8, 2)
    design = replace(design, name="irregular")
    mask = np.ones((4, 11), dtype=bool)
    mask[1, 10] = False
    mask[2, 0] = False  # rows 1 and 2 are shifted, not nested
    design = with_sites(design, mask)
    assert not _regular_band(design)
    rng = np.random.default_rng(0)
    maps = [DefectMap(4, 11, rng.choice(np.flatnonzero(mask), 2, replace=False),
                      [2 * int(rng.integers(0, 9)) + 0]) for _ in range(6)]
    batch = batch_of(maps)
    assess = assessor(design)
    outcome = assess(batch)
    assert assess.stats == {"wafers": 6, "exact": 6}
    full, cores = exact_outcome(design, batch)
    assert (outcome.full == full).all() and (outcome.logical_cores == cores).all()


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 9), st.integers(0, 4), st.sampled_from([0, 1, 2, "inf"]), st.booleans(), st.data())
def test_property_batch_assessor_equals_the_exact_path(rows: int, spares: int, reach: object, clipped: bool,
                                                        data: st.DataObject) -> None:
    cols = 8 + spares
    design = grid_design(rows, cols, 8, reach)
    if clipped:  # two spare rows and columns on each side, and a wafer that clips the grid's corners
        cut = data.draw(st.floats(0.5, 3.0))
        try:
            design = replace(design, rows=rows + 4, cols=cols + 4, edge_exclusion_mm=0.0, name=f"clip{cut}",
                             wafer_diameter_mm=2 * math.hypot(rows / 2 + 2, cols / 2 + 2) - cut)
        except DesignError:
            assume(False)
        assume(design.spares_per_row.min() >= 0 and not design.site_exists.all() and _static_ok(design))
        rows, cols = design.rows, design.cols
    event("clipped corners" if clipped else "rectangle")
    exists = np.flatnonzero(design.site_exists.ravel())
    links = [2 * a + d for a in exists for d in (0, 1)
             if (a + 1 if d == 0 else a + cols) in set(exists) and not (d == 0 and a % cols == cols - 1)]
    maps = []
    for _ in range(data.draw(st.integers(1, 4))):
        dead = data.draw(st.lists(st.sampled_from(exists.tolist()), max_size=rows * 2))
        dead_links = data.draw(st.lists(st.sampled_from(links), max_size=6)) if links else []
        maps.append(DefectMap(rows, cols, dead, dead_links))
    assert_batch_is_exact(design, batch_of(maps))
