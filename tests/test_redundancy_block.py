"""block scheme: closed form, verifier, identity inside the box, batch assessor = planner."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.stat_tolerance import proportion_tolerance
from yieldkit.defect_map import DefectMap
from yieldkit.defects import DefectModel, sample_batch
from yieldkit.design import Design, DesignError, load_design
from yieldkit.models import row_spare_yield, site_failure_probability
from yieldkit.montecarlo import simulate
from yieldkit.redundancy import assessor_for, plan_repair
from yieldkit.redundancy.block import geometry
from yieldkit.verify import block_worst_reach, verify_repair_map

TOML = """
[design]
name = "blocky"
[wafer]
diameter_mm = 300.0
edge_exclusion_mm = 3.0
[grid]
rows = {rows}
cols = {cols}
pitch_mm = 1.0
[logical]
rows = {lr}
cols = {lc}
[redundancy]
scheme = "block"
b = {b}
s = {s}
{extra}
"""


def block_design(tmp_path: Path, b: int = 4, s: int = 2, lr: int = 16, lc: int = 16, extra: str = "") -> Design:
    cols = lc // b * (b + -(-s // b)) + 2
    path = tmp_path / f"blocky_{b}_{s}_{lr}_{lc}.toml"
    path.write_text(TOML.format(rows=lr + 2, cols=cols, lr=lr, lc=lc, b=b, s=s, extra=extra), encoding="utf-8")
    return load_design(str(path))


def test_no_defects_is_identity_inside_every_box(tmp_path: Path) -> None:
    design = block_design(tmp_path, 4, 2)
    g = geometry(design)
    m = plan_repair(design, DefectMap.empty(design))
    assert m.complete and verify_repair_map(m, design) == []
    r, c = m.physical_rc()
    lr, lc = np.meshgrid(np.arange(16), np.arange(16), indexing="ij")
    assert (r == g.r0 + lr).all()
    assert (c == g.c0 + (lc // 4) * 5 + lc % 4).all()  # boxes 4 + ceil(2/4) = 5 columns wide


def test_dead_sites_shift_within_the_box_and_too_many_fail_it(tmp_path: Path) -> None:
    design = block_design(tmp_path, 4, 2)
    g = geometry(design)
    box0 = g.sites[0]
    m = plan_repair(design, DefectMap(design.rows, design.cols, box0[[0, 5]]))
    assert m.complete and verify_repair_map(m, design) == []
    assert m.physical_of_logical[0, 0] == box0[1] and m.physical_of_logical[3, 3] == box0[17]  # shifted 2 ranks
    dead = DefectMap(design.rows, design.cols, box0[[0, 5, 9]])  # 3 > s dead in the first box
    assert not plan_repair(design, dead, allow_degraded=False).complete
    part = plan_repair(design, dead)
    assert not part.complete and (part.logical_rows, part.logical_cols) in ((16, 12), (12, 16))
    assert verify_repair_map(part, design) == [] and "more than 2" in part.reason


def test_closed_form_product_of_box_binomial_tails(tmp_path: Path) -> None:
    design = block_design(tmp_path, 4, 2, 32, 32)
    d0, n = 2.0, 6000
    result = simulate(design, DefectModel(d0, x0_um=0), n, seed=3)
    p = float(site_failure_probability(d0, design.site_area_mm2))
    g = geometry(design)
    expected = float(row_spare_yield(p, np.full(g.n_boxes, 4 * 4 + 2), np.full(g.n_boxes, 2)))
    assert 0.05 < expected < 0.95
    assert abs(result.full_fabric_yield - expected) < proportion_tolerance(expected, n)


@pytest.mark.parametrize("b,s,d0,link_fraction,extra", [(4, 2, 15.0, 0.0, ""), (4, 1, 15.0, 0.2, ""),
                                                         (2, 3, 15.0, 0.1, ""), (4, 3, 3.0, 0.0, "reach = 4")])
def test_batch_assessor_agrees_with_the_planner_and_maps_verify(tmp_path: Path, b: int, s: int, d0: float,
                                                                link_fraction: float, extra: str) -> None:
    design = block_design(tmp_path, b, s, 16, 16, extra)
    batch = sample_batch(design, DefectModel(d0, alpha=2.0, link_fraction=link_fraction), 80,
                         np.random.default_rng(b * 10 + s))
    outcome = assessor_for(design)(batch)
    assert 0 < outcome.full.sum() < batch.n_wafers
    for i in range(batch.n_wafers):
        m = plan_repair(design, batch.wafer(i, design.name))
        assert verify_repair_map(m, design) == []
        assert m.complete == outcome.full[i]
        assert m.logical_rows * m.logical_cols == outcome.logical_cores[i]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(0, 5), st.data())
def test_property_maps_verify(b: int, s: int, data: st.DataObject) -> None:
    n = 4 * b
    design = Design(name="p", rows=n, cols=n // b * (b + -(-s // b)), pitch_x_mm=1.0, pitch_y_mm=1.0, logical_rows=n,
                    logical_cols=n, scheme="block", scheme_params={"b": b, "s": s})
    dead = data.draw(st.lists(st.integers(0, design.n_sites - 1), max_size=12))
    links = data.draw(st.lists(st.integers(0, 2 * design.n_sites - 1), max_size=4))
    r, c = np.divmod(np.asarray(links, np.int64) // 2, design.cols)
    links = [k for k, rr, cc in zip(links, r, c) if (cc + 1 < design.cols if k % 2 == 0 else rr + 1 < design.rows)]
    m = plan_repair(design, DefectMap(design.rows, design.cols, dead, links))
    assert verify_repair_map(m, design) == []
    if not dead and not links:
        assert m.complete


def test_worst_reach_and_bad_designs(tmp_path: Path) -> None:
    assert block_worst_reach(4, 0) == 1
    assert block_worst_reach(8, 1) == 10 and block_worst_reach(8, 4) >= block_worst_reach(8, 1)
    # the design is rejected when it is loaded, naming the key
    with pytest.raises(DesignError, match=r"redundancy\.b: the logical grid 16x18 must be a multiple of b=4"):
        block_design(tmp_path, 4, 1, 16, 18)
    small = load_design("small")
    from yieldkit.repair import with_scheme

    with pytest.raises(DesignError, match=r"redundancy\.s: block\(b=4, s=1\) needs 64 rows x 80 columns"):
        with_scheme(small, "block", {"b": 4, "s": 1})
