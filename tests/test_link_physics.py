"""The link model of ``yieldkit.fabric``: a dead link never costs more than a dead core at one of its ends.

For random wafers of every scheme, adding one dead link gives the same outcome
(full-fabric verdict and logical cores) as making the end the planner maps
out dead, and never a worse one than making both ends dead would; the batch
assessor agrees with the exact planner, and every planned map verifies.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yieldkit.defect_map import DefectMap, link_endpoints
from yieldkit.defects import DefectBatch, DefectModel
from yieldkit.design import Design, load_design
from yieldkit.fabric import LinkPlanes, choose_link_ends, map_out_links
from yieldkit.montecarlo import simulate
from yieldkit.redundancy import assessor_for, plan_repair, scheme_module
from yieldkit.verify import verify_repair_map


def design_for(scheme: str) -> Design:
    params = {"none": {}, "row-shift": {"reach": 1}, "row-col": {"d": 1}, "block": {"b": 2, "s": 1}}[scheme]
    cols = {"none": 8, "row-shift": 10, "row-col": 10, "block": 12}[scheme]
    rows = 8 if scheme == "row-col" else 6
    return Design(name=f"links-{scheme}", rows=rows, cols=cols, pitch_x_mm=1.0, pitch_y_mm=1.0, logical_rows=6,
                  logical_cols=8, scheme=scheme, scheme_params=params)


DESIGNS = {scheme: design_for(scheme) for scheme in ("none", "row-shift", "row-col", "block")}


def outcome(design: Design, defects: DefectMap) -> tuple[bool, int]:
    m = plan_repair(design, defects)
    assert verify_repair_map(m, design) == [], m.reason
    return m.complete, m.logical_rows * m.logical_cols


def batch_of(design: Design, maps: list[DefectMap]) -> DefectBatch:
    sw = np.concatenate([np.full(m.n_dead_sites, i, np.int64) for i, m in enumerate(maps)])
    lw = np.concatenate([np.full(m.n_dead_links, i, np.int64) for i, m in enumerate(maps)])
    return DefectBatch(len(maps), design.rows, design.cols, sw, np.concatenate([m.dead_sites for m in maps]), lw,
                       np.concatenate([m.dead_links for m in maps]),
                       np.array([m.n_dead_sites + m.n_dead_links for m in maps], np.int64))


def inner_links(design: Design) -> list[int]:
    rows, cols = design.rows, design.cols
    return [2 * s + d for s in range(rows * cols) for d in (0, 1)
            if (d == 0 and s % cols < cols - 1) or (d == 1 and s < (rows - 1) * cols)]


@pytest.mark.parametrize("scheme", list(DESIGNS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_property_a_dead_link_costs_at_most_a_dead_end_core(scheme: str, data: st.DataObject) -> None:
    design = DESIGNS[scheme]
    n = design.n_sites
    dead = data.draw(st.lists(st.integers(0, n - 1), max_size=8, unique=True))
    others = data.draw(st.lists(st.sampled_from(inner_links(design)), max_size=3))
    link = data.draw(st.sampled_from(inner_links(design)))
    a, b = (int(v[0]) for v in link_endpoints(np.array([link]), design.cols))
    touched = set(np.concatenate(link_endpoints(np.array(others, np.int64), design.cols)).tolist()) if others else set()
    if a in dead or b in dead or a in touched or b in touched:
        return  # the end is already out of service (or shared with another link): nothing to compare
    base = dict(rows=design.rows, cols=design.cols, design=design.name)
    with_link = DefectMap(dead_sites=dead, dead_links=others + [link], **base)
    cost = scheme_module(scheme).link_cost(design)
    chosen = int(choose_link_ends(np.array([link]), design.cols, cost)[0])
    assert chosen in (a, b)
    ends = {end: DefectMap(dead_sites=dead + [end], dead_links=others, **base) for end in (a, b)}
    got = outcome(design, with_link)
    assert got == outcome(design, ends[chosen])
    worst = min(outcome(design, m) for m in ends.values())
    assert got[0] >= worst[0] and got[1] >= worst[1]
    # the batch assessor agrees with the planner on the verdict; its harvest never exceeds the map
    batch = batch_of(design, [with_link, ends[chosen]])
    result = assessor_for(design)(batch)
    assert result.full.tolist() == [got[0], got[0]]
    assert result.logical_cores[0] == result.logical_cores[1] <= got[1]


def test_map_out_links_takes_no_end_of_a_link_whose_end_is_dead_or_missing() -> None:
    exists = np.array([False, True, True, True, True, True])  # a 1 x 6 row whose site 0 is off the wafer
    d = DefectMap(1, 6, [3], [2 * 0, 2 * 2, 2 * 4])  # E links 0-1 (missing end), 2-3 (dead end), 4-5 (live)
    cost = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 0.0])  # site 4 dearer than site 5
    out = map_out_links(d, exists, cost)
    assert out.dead_sites.tolist() == [3, 5] and out.n_dead_links == 0


def test_links_raise_the_yield_to_that_of_the_same_defects_as_cores() -> None:
    # regression: link_fraction 0.02 at D0 0.3 on wse gave 0.094; a link now costs at most a core,
    # so the yield with links is at least about the yield with none (same defect count, all on cores)
    wse = load_design("wse")
    n = 800
    with_links = simulate(wse, DefectModel(0.3, alpha=2.0, link_fraction=0.02), n, seed=11).full_fabric_yield
    cores_only = simulate(wse, DefectModel(0.3, alpha=2.0), n, seed=11).full_fabric_yield
    from tests.stat_tolerance import proportion_tolerance

    assert with_links > 0.5
    assert with_links >= cores_only - 2 * proportion_tolerance(cores_only, n)


def test_link_planes_only_count_dead_links_between_serving_sites() -> None:
    serving = np.ones(9, bool)
    serving[4] = False
    links = np.array([2 * 3, 2 * 4, 2 * 0])  # E (1,0)-(1,1) [bypassed end], E (1,1)-(1,2), E (0,0)-(0,1)
    planes = LinkPlanes.build(3, 3, links, serving=serving)
    assert planes.east.tolist() == [[True, False, False], [False, False, False], [False, False, False]]
