"""row-col scheme: GCR against the exact ILP, verified maps, identity."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from yieldkit.defect_map import DefectMap
from yieldkit.defects import DefectModel, sample_batch
from yieldkit.design import Design
from yieldkit.redundancy import assessor_for, plan_repair
from yieldkit.redundancy.row_col import gcr, maximal_array
from yieldkit.redundancy.row_col_ilp import exact_maximal_array
from yieldkit.verify import verify_repair_map


def rc_design(n: int = 16, spare: int = 2, d: int = 1) -> Design:
    return Design(name="rc", rows=n + spare, cols=n + spare, pitch_x_mm=1.0, pitch_y_mm=1.0, logical_rows=n,
                  logical_cols=n, scheme="row-col", scheme_params={"sr": spare, "sc": spare, "d": d})


def test_gcr_on_a_clean_array_gives_every_column() -> None:
    made, pos = gcr(np.zeros((5, 7), bool), np.arange(5), 1, 7)
    assert made == 7 and (pos == np.arange(7)[None, :]).all()


def test_no_defects_identity_like() -> None:
    design = rc_design()
    m = plan_repair(design, DefectMap.empty(design))
    assert m.complete and verify_repair_map(m, design) == []


def test_heuristic_never_beats_exact_and_gap_is_small() -> None:
    rng = np.random.default_rng(11)
    total_h = total_e = 0
    for _ in range(6):
        unusable = rng.random((5, 5)) < 0.15
        h = maximal_array(unusable, 1)[0]
        e = exact_maximal_array(unusable, 1)[0]
        assert h <= e
        total_h += h
        total_e += e
    assert total_h >= 0.95 * total_e


def test_gcr_backtracks_instead_of_giving_up() -> None:
    # the leftmost choice in row 1 (column 0) is a dead end; the path must bend right instead
    unusable = np.zeros((3, 3), bool)
    unusable[0, 1:] = True
    unusable[2, :2] = True
    unusable[1, 1] = False
    made, pos = gcr(unusable, np.arange(3), 1, 3)
    assert made == 1 and list(pos[:, 0]) == [0, 1, 2]


def test_row_exclusion_harvest_matches_published_gcr_levels() -> None:
    # GCR with row exclusion harvests ~0.96 of the live cores at 1 % faults, ~0.83 at 10 % (64 x 64, d = 1)
    rng = np.random.default_rng(8)
    for fault, floor in ((0.01, 0.93), (0.10, 0.78)):
        harvest = []
        for _ in range(5):
            unusable = rng.random((64, 64)) < fault
            harvest.append(maximal_array(unusable, 1)[0] / (~unusable).sum())
        assert np.mean(harvest) >= floor
    clean = maximal_array(np.zeros((20, 30), bool), 1, 16, 24)
    assert clean == (16 * 24, 16, 24)


def test_sampled_wafers_verify_and_agree() -> None:
    design = rc_design(24, 2)
    batch = sample_batch(design, DefectModel(0.8, alpha=2, link_fraction=0.1), 30, np.random.default_rng(4))
    outcome = assessor_for(design)(batch)
    for i in range(batch.n_wafers):
        m = plan_repair(design, batch.wafer(i, "rc"))
        assert verify_repair_map(m, design) == []
        assert m.complete == outcome.full[i]


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 2), st.data())
def test_property_maps_verify(d: int, data: st.DataObject) -> None:
    design = rc_design(6, 2, d)
    dead = data.draw(st.lists(st.integers(0, design.n_sites - 1), max_size=12))
    m = plan_repair(design, DefectMap(design.rows, design.cols, dead))
    assert verify_repair_map(m, design) == []


def test_clipped_wafer_maps_verify_and_assessor_agrees() -> None:
    # corners of the grid fall outside the usable circle: links to missing sites count as dead
    design = Design(name="clip", rows=34, cols=34, pitch_x_mm=1.0, pitch_y_mm=1.0, logical_rows=28, logical_cols=28,
                    wafer_diameter_mm=46.0, edge_exclusion_mm=0.0, scheme="row-col",
                    scheme_params={"sr": 6, "sc": 6, "d": 1})
    assert not design.site_exists.all()
    batch = sample_batch(design, DefectModel(3.0, alpha=2, link_fraction=0.05), 30, np.random.default_rng(9))
    outcome = assessor_for(design)(batch)
    for i in range(batch.n_wafers):
        m = plan_repair(design, batch.wafer(i, "clip"))
        assert verify_repair_map(m, design) == []
        assert m.complete == outcome.full[i]
        assert m.logical_rows * m.logical_cols == outcome.logical_cores[i]


def test_quick_repair_keeps_rows_without_dead_sites() -> None:
    design = rc_design(16, 2)
    clean = plan_repair(design, DefectMap.empty(design))
    dead = [3 * design.cols + 5, 9 * design.cols + 12]
    m = plan_repair(design, DefectMap(design.rows, design.cols, dead))
    assert m.complete and m.algorithm == "row-col/shift" and verify_repair_map(m, design) == []
    changed = np.flatnonzero((m.physical_of_logical != clean.physical_of_logical).any(axis=1))
    row0 = int(clean.physical_of_logical[0, 0] // design.cols)
    assert set(changed.tolist()) <= {3 - row0, 9 - row0}


# --- local re-routing of bands pinned to fixed rows ------------------------------------------------

def _feasible_band(unusable: np.ndarray, top: np.ndarray, bottom: np.ndarray, d: int, lc: int) -> bool:
    """Brute force: some choice of lc increasing usable columns per row meets every pin and edge limit."""
    from itertools import combinations, product

    choices = [[c for c in combinations(np.flatnonzero(~row).tolist(), lc)] for row in unusable]
    for pick in product(*choices):
        p = np.array(pick).reshape(len(pick), lc)
        if top.size and (np.abs(p[0] - top) > d).any():
            continue
        if bottom.size and (np.abs(p[-1] - bottom) > d).any():
            continue
        if (np.abs(np.diff(p, axis=0)) > d).any():
            continue
        return True
    return False


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 3), st.integers(1, 2), st.integers(1, 3), st.data())
def test_band_rerouting_is_sound_and_complete(k: int, d: int, lc: int, data: st.DataObject) -> None:
    from yieldkit.redundancy.row_col import _reroute_window

    n = lc + data.draw(st.integers(0, 2))
    unusable = np.array(data.draw(st.lists(st.booleans(), min_size=k * n, max_size=k * n)), bool).reshape(k, n)
    unusable &= np.array(data.draw(st.lists(st.booleans(), min_size=k * n, max_size=k * n)), bool).reshape(k, n)
    pins = [np.sort(np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=lc, max_size=lc, unique=True))))
            if data.draw(st.booleans()) else np.zeros(0, np.int64) for _ in range(2)]
    top, bottom = (p.astype(np.int64) for p in pins)
    ok, pos = _reroute_window(unusable, top, bottom, d, lc)
    assert ok == _feasible_band(unusable, top, bottom, d, lc)
    if ok:
        assert not unusable[np.arange(k)[:, None], pos].any()
        assert (np.diff(pos, axis=1) > 0).all() and (np.abs(np.diff(pos, axis=0)) <= d).all()
        assert top.size == 0 or (np.abs(pos[0] - top) <= d).all()
        assert bottom.size == 0 or (np.abs(pos[-1] - bottom) <= d).all()


def test_two_dead_sites_in_a_row_are_repaired_by_a_local_band() -> None:
    # the row shifts by 2 past its dead sites, more than d = 1 from its neighbours: the quick shift fails,
    # a band of a few rows around it is re-routed and the rest of the array keeps its static positions
    design = rc_design(40, 2)
    clean = plan_repair(design, DefectMap.empty(design))
    row = 20
    m = plan_repair(design, DefectMap(design.rows, design.cols, [row * design.cols + 5, row * design.cols + 9]))
    assert m.complete and m.algorithm == "row-col/local" and verify_repair_map(m, design) == []
    changed = np.flatnonzero((m.physical_of_logical != clean.physical_of_logical).any(axis=1))
    row0 = int(clean.physical_of_logical[0, 0] // design.cols)
    assert changed.size and changed.min() >= row - row0 - 2 and changed.max() <= row - row0 + 2


def test_local_rerouting_agrees_with_the_assessor_on_sampled_wafers() -> None:
    design = rc_design(60, 2)
    batch = sample_batch(design, DefectModel(2.0, alpha=2), 40, np.random.default_rng(12))
    outcome = assessor_for(design)(batch)
    algorithms = set()
    for i in range(batch.n_wafers):
        m = plan_repair(design, batch.wafer(i, "rc"))
        algorithms.add(m.algorithm)
        assert verify_repair_map(m, design) == []
        assert m.complete == outcome.full[i]
        assert m.logical_rows * m.logical_cols == outcome.logical_cores[i]
    assert "row-col/local" in algorithms


def test_one_degraded_search_equals_the_full_then_degraded_passes(monkeypatch) -> None:  # noqa: ANN001
    # without wafer-edge routes the planner runs one search; with them (here: routes that never block),
    # a full pass and then a degraded one. Both must give the same arrays.
    from yieldkit.fabric import LinkPlanes
    from yieldkit.redundancy import row_col

    design = rc_design(30, 1)
    batch = sample_batch(design, DefectModel(6.0, alpha=2), 30, np.random.default_rng(5))
    wafers = [batch.wafer(i, "rc") for i in range(batch.n_wafers)]
    one = [row_col._plan_arrays(design, w, True) for w in wafers]
    open_routes = LinkPlanes.build(design.rows, design.cols, exists=design.site_exists)
    monkeypatch.setattr(row_col, "_static_planes", lambda _design: open_routes)
    two = [row_col._plan_arrays(design, w, True) for w in wafers]
    assert {a[0] for a in one} == {True, False}  # both outcomes occur
    for a, b in zip(one, two, strict=True):
        assert a[0] == b[0] and a[3:] == b[3:]
        assert (a[1] is None) == (b[1] is None)
        if a[1] is not None:
            assert np.array_equal(a[1], b[1]) and np.array_equal(a[2], b[2])
