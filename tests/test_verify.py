"""The repair-map verifier, on hand-made maps (independent of every planner)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from yieldkit.defect_map import DefectMap
from yieldkit.design import Design, DesignError, load_design
from yieldkit.repair_map import RepairMap
from yieldkit.verify import MAX_PER_INVARIANT, Violation, max_detour, verify_repair_map

SMALL = load_design("small")


def tiny(scheme: str = "row-shift", **params: object) -> Design:
    return Design(name="tiny", rows=6, cols=10, pitch_x_mm=1.0, pitch_y_mm=1.0, logical_rows=4, logical_cols=6,
                  scheme=scheme, scheme_params=dict(params))


def nominal(design: Design) -> np.ndarray:
    r0, c0 = design.logical_row_offset, (design.cols - design.logical_cols) // 2
    rr, cc = np.meshgrid(np.arange(design.logical_rows) + r0, np.arange(design.logical_cols) + c0, indexing="ij")
    return rr * design.cols + cc


def rmap(design: Design, grid: np.ndarray, sites=(), links=(), complete: bool = True) -> RepairMap:
    defects = DefectMap(design.rows, design.cols, np.asarray(sites, np.int64), np.asarray(links, np.int64), design=design.name)
    return RepairMap(np.asarray(grid, np.int64), defects, design.scheme, design.scheme_params, design.name,
                     design.fingerprint, complete=complete)


def kinds(violations: list[Violation]) -> set[str]:
    return {v.invariant for v in violations}


def test_identity_map_is_valid() -> None:
    for design in (tiny(), tiny("none"), tiny("row-col", d=1), tiny("block", b=2, s=1), SMALL):
        assert verify_repair_map(rmap(design, nominal(design)), design) == []


def test_out_of_range_index_is_a_shape_violation_and_stops() -> None:
    d = tiny()
    grid = nominal(d)
    grid[0, 0] = d.n_sites + 5
    found = verify_repair_map(rmap(d, grid), d)
    assert kinds(found) == {"shape"}
    assert found[0].logical == (0, 0)


def test_wrong_logical_grid_and_design_mismatch() -> None:
    d = tiny()
    found = verify_repair_map(rmap(d, nominal(d)[:3]), d)
    assert kinds(found) == {"shape"}
    degraded = verify_repair_map(rmap(d, nominal(d)[:3], complete=False), d)
    assert degraded == []
    other = load_design("small")
    assert "shape" in kinds(verify_repair_map(rmap(d, nominal(d)), other))


def test_unknown_scheme_or_bad_parameter_in_a_map_file() -> None:
    d = tiny()
    found = verify_repair_map(replace(rmap(d, nominal(d)), scheme="mystery"), None)
    assert kinds(found) == {"shape"} and "unknown redundancy scheme" in found[0].message
    found = verify_repair_map(replace(rmap(d, nominal(d)), scheme_params={"reach": -1}), None)
    assert kinds(found) == {"shape"} and "reach: must be an integer >= 0 or 'inf'" in found[0].message


def test_injective() -> None:
    d = tiny()
    grid = nominal(d)
    grid[1, 2] = grid[1, 1]
    found = [v for v in verify_repair_map(rmap(d, grid), d) if v.invariant == "injective"]
    assert len(found) == 1 and found[0].logical == (1, 2)
    assert "(1, 1)" in found[0].message


def test_target_alive_and_exists() -> None:
    d = tiny()
    grid = nominal(d)
    found = verify_repair_map(rmap(d, grid, sites=[grid[2, 3]]), d)
    assert [(v.invariant, v.logical) for v in found] == [("target_alive", (2, 3))]
    wse = load_design("wse")
    assert not wse.site_exists[0, 0]
    wgrid = nominal(wse)
    wgrid[0, 0] = 0
    found = verify_repair_map(rmap(wse, wgrid), wse)
    assert ("target_exists", (0, 0)) in [(v.invariant, v.logical) for v in found]


def shifted(d: Design, row: int, *starts: int) -> tuple[np.ndarray, list[int]]:
    """Nominal map with logical ``row`` shifted right past a dead site before each start column."""
    r, c = np.divmod(nominal(d), d.cols)
    dead = []
    for k, start in enumerate(starts):
        dead.append(int(r[row, start] * d.cols + c[row, start] + 0))
        c[row, start:] += 1
    return r * d.cols + c, dead


def test_row_shift_reach() -> None:
    d = tiny(reach=1)
    grid, dead = shifted(d, 1, 2)
    assert verify_repair_map(rmap(d, grid, sites=dead), d) == []
    grid, dead = shifted(d, 1, 2, 4)  # two shifts: column difference 2 > reach 1
    assert "reach" in kinds(verify_repair_map(rmap(d, grid, sites=dead), d))
    for ok in (tiny(reach=2), tiny(reach="inf"), tiny(reach=float("inf")), tiny()):
        assert verify_repair_map(rmap(ok, grid, sites=dead), ok) == []


def test_negative_reach_is_rejected_when_the_design_is_made() -> None:
    # it used to mean "unlimited" to the verifier while the CLI rejected it; 'inf' says unlimited
    with pytest.raises(DesignError, match=r"redundancy\.reach: must be an integer >= 0 or 'inf'"):
        tiny(reach=-1)


def test_row_shift_rows_must_be_adjacent_and_horizontal_forward() -> None:
    d = tiny(reach=1)
    grid = nominal(d)
    swapped = grid.copy()
    swapped[0, [0, 1]] = swapped[0, [1, 0]]
    assert "reach" in kinds(verify_repair_map(rmap(d, swapped), d))


def test_none_scheme_rejects_any_shift() -> None:
    d = tiny("none")
    r, c = np.divmod(nominal(d), d.cols)
    c[1, 2:] += 1
    assert "reach" in kinds(verify_repair_map(rmap(d, r * d.cols + c), d))


def test_row_col_allows_skipping_rows_within_d() -> None:
    d = tiny("row-col", d=1)
    r, c = np.divmod(nominal(d), d.cols)
    r[2:] += 1  # exclude physical row 3
    assert verify_repair_map(rmap(d, r * d.cols + c), d) == []
    c[3, 0:] += 1
    r2 = r * d.cols + c
    assert verify_repair_map(rmap(d, r2), d) == []
    c[3, 0:] += 1
    assert "reach" in kinds(verify_repair_map(rmap(d, r * d.cols + c), d))


def test_dead_link_on_straight_edges() -> None:
    d = tiny()
    grid = nominal(d)
    a = int(grid[1, 1])
    found = verify_repair_map(rmap(d, grid, links=[2 * a]), d)  # E link of logical (1, 1)
    assert [(v.invariant, v.logical) for v in found] == [("dead_link", (1, 1))]
    found = verify_repair_map(rmap(d, grid, links=[2 * a + 1]), d)  # S link
    assert [(v.invariant, v.logical) for v in found] == [("dead_link", (1, 1))]


def test_dead_link_bent_edge_takes_the_other_l() -> None:
    d = tiny(reach=1)
    grid, dead = shifted(d, 1, 2)
    r, c = np.divmod(grid, d.cols)
    # vertical edge logical (0, 2): (r0, x) -> (r0 + 1, x + 1); horizontal first uses E(r0, x), S(r0, x+1)
    r0, x = int(r[0, 2]), int(c[0, 2])
    assert (int(r[1, 2]), int(c[1, 2])) == (r0 + 1, x + 1)
    s_bend = 2 * (r0 * d.cols + x + 1) + 1
    s_straight = 2 * (r0 * d.cols + x) + 1
    assert verify_repair_map(rmap(d, grid, sites=dead, links=[s_bend]), d) == []
    # the vertical-first L goes S (r0, x), then E (r0 + 1, x): both links touch the dead site (r0 + 1, x),
    # which is bypassed, so a dead S (r0, x) does not block it either
    assert (r0 + 1) * d.cols + x in dead
    assert verify_repair_map(rmap(d, grid, sites=dead, links=[s_bend, s_straight]), d) == []
    # edge logical (0, 3): (r0, x + 1) -> (r0 + 1, x + 2), all four corner sites serve; killing the S links
    # under (r0, x + 2) and (r0, x + 1) blocks both L routes
    assert (int(r[1, 3]), int(c[1, 3])) == (r0 + 1, x + 2)
    both = [2 * (r0 * d.cols + x + 2) + 1, 2 * (r0 * d.cols + x + 1) + 1]
    found = verify_repair_map(rmap(d, grid, sites=dead, links=both), d)
    assert ("dead_link", (0, 3)) in [(v.invariant, v.logical) for v in found]
    # the E link out of the dead site: the site is bypassed by the redundant links, so the route of
    # logical (1, 1) -> (1, 2) past it does not use that link (yieldkit.fabric)
    e_bypass = 2 * dead[0]
    assert verify_repair_map(rmap(d, grid, sites=dead, links=[e_bypass]), d) == []
    # the same link between two serving sites blocks the straight edge
    a = int(grid[1, 3])
    found = verify_repair_map(rmap(d, grid, sites=dead, links=[2 * a]), d)
    assert [(v.invariant, v.logical) for v in found] == [("dead_link", (1, 3))]


def test_links_to_missing_sites_count_as_dead() -> None:
    wse = load_design("wse")
    grid = nominal(wse)
    r, c = np.divmod(grid, wse.cols)
    row = 0
    first = int(np.argmax(wse.site_exists[r[row, 0]]))
    assert first > c[row, 0] - 10
    # a route in row r[0,0] that passes the clipped corner: bend logical (0,0)->(1,0) via a missing site
    assert verify_repair_map(rmap(wse, grid), wse) == []


def test_cap_and_summary() -> None:
    d = SMALL
    grid = nominal(d)
    dead = grid[:, :5].ravel()  # 320 dead targets
    found = [v for v in verify_repair_map(rmap(d, grid, sites=dead), d) if v.invariant == "target_alive"]
    assert len(found) == MAX_PER_INVARIANT + 1
    assert found[-1].logical is None and "220 more" in found[-1].message


def test_defects_argument_overrides() -> None:
    d = tiny()
    grid = nominal(d)
    other = DefectMap(d.rows, d.cols, [int(grid[0, 0])])
    assert kinds(verify_repair_map(rmap(d, grid), d, defects=other)) == {"target_alive"}
    wrong = DefectMap(d.rows + 1, d.cols)
    assert kinds(verify_repair_map(rmap(d, grid), d, defects=wrong)) == {"shape"}


def test_max_detour() -> None:
    d = tiny()
    assert max_detour(rmap(d, nominal(d))) == 0
    r, c = np.divmod(nominal(d), d.cols)
    c[1, 2:] += 1
    assert max_detour(rmap(d, r * d.cols + c)) == 1


@pytest.mark.parametrize("name", ["wse"])
def test_wse_map_verifies_fast(name: str) -> None:
    import time
    design = load_design(name)
    grid = nominal(design)
    m = rmap(design, grid, links=[2 * int(grid[5, 5])])
    verify_repair_map(m, design)
    start = time.perf_counter()
    found = verify_repair_map(m, design)
    elapsed = time.perf_counter() - start
    assert [v.invariant for v in found] == ["dead_link"]
    assert elapsed < 0.5  # 60 ms typical; loose bound for loaded CI machines


@pytest.mark.parametrize("scheme", ["none", "block", "row-shift", "row-col"])
def test_edge_kernel_equals_its_numpy_reference(scheme: str) -> None:
    from yieldkit.fabric import LinkPlanes
    from yieldkit.verify import _edge_flags, _edge_flags_numpy

    rng = np.random.default_rng(5)
    rows, cols = 30, 40
    planes = LinkPlanes.build(rows, cols, exists=rng.random((rows, cols)) > 0.05).with_dead_links(
        rng.choice(2 * rows * cols, 80, replace=False))
    r0, c0 = np.meshgrid(np.arange(20) + 4, np.arange(25) + 6, indexing="ij")
    r = np.clip(r0 + rng.integers(-2, 3, r0.shape) * (rng.random(r0.shape) < 0.3), 0, rows - 1)
    c = np.clip(c0 + rng.integers(-3, 4, c0.shape) * (rng.random(c0.shape) < 0.3), 0, cols - 1)
    grid = r * cols + c
    seen = np.zeros(2, int)
    for reach in (1.0, 2.0, np.inf):
        for links in (planes, None):
            fast = _edge_flags(grid, cols, scheme, reach, links)
            ref = _edge_flags_numpy(grid, cols, scheme, reach, links)
            assert all(np.array_equal(a, b) for a, b in zip(fast, ref))
            seen += [int(fast[0].sum()), int(fast[1].sum())]
    assert seen.all()  # both invariants were broken somewhere: the comparison is not vacuous
