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
