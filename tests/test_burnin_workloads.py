"""Workloads on their own: golden results and detection from outputs only."""

from __future__ import annotations

import numpy as np
import pytest

from burnin.workloads.fabric import FabricOutput, detect_fabric, link_routes
from burnin.workloads.gemm import abft_checksums, detect_gemm, gemm_golden, gemm_inputs, systolic_gemm
from burnin.workloads.registers import prescribed_registers, register_scan
from burnin.workloads.stencil import detect_stencil, stencil_golden, stencil_input
from burnin.workloads.watchdog import detect_stalls
from yieldkit.defect_map import DefectMap
from yieldkit.defects import DefectModel, sample_wafer
from yieldkit.fabric import active_dead_links
from yieldkit.design import load_design
from yieldkit.repair import repair_wafer

R, C, B = 24, 20, 4


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed))


@pytest.mark.parametrize("kind", ["normal", "hilbert", "wide", "cancel"])
@pytest.mark.parametrize("depth", [64, 1024])
def test_gemm_rounding_is_never_called_a_fault(kind: str, depth: int) -> None:
    for seed in range(3):
        a, b = gemm_inputs(R, C, B, depth, _rng(seed), kind)
        assert detect_gemm(a, b, gemm_golden(a, b), B) == []
        # another summation order (per-core partial products, as the systolic array does) is fine too
        blocks = systolic_gemm(a, b, B)
        assert detect_gemm(a, b, blocks.transpose(0, 2, 1, 3).reshape(R * B, C * B), B) == []


def test_gemm_cancellation_inputs_really_are_ill_conditioned() -> None:
    a, b = gemm_inputs(R, C, B, 256, _rng(1), "cancel")
    ratio = np.abs(a @ b) / (np.abs(a) @ np.abs(b))
    assert np.median(ratio) < 1e-8  # the result is tiny against |A||B|: rounding dominates it


@pytest.mark.parametrize("kind", ["normal", "hilbert", "wide"])
def test_gemm_localises_every_high_bit_flip(kind: str) -> None:
    rng = _rng(7)
    a, b = gemm_inputs(R, C, B, 128, rng, kind)
    golden = gemm_golden(a, b)
    bits = list(range(48, 63))  # top four mantissa bits and the exponent
    for trial in range(60):
        i, j, bit = int(rng.integers(0, R * B)), int(rng.integers(0, C * B)), bits[trial % len(bits)]
        out = golden.copy()
        out.view(np.uint64)[i, j] ^= np.uint64(1) << np.uint64(bit)
        found = detect_gemm(a, b, out, B)
        assert [(f.row, f.col) for f in found] == [(i // B, j // B)], (i, j, bit)
        ev = found[0].evidence
        assert i % B in ev["rows"] or j % B in ev["cols"]


def test_gemm_tolerance_is_tight_enough_to_see_small_errors() -> None:
    a, b = gemm_inputs(R, C, B, 256, _rng(3), "normal")
    ref = abft_checksums(a, b, B)
    out = gemm_golden(a, b)
    out[5, 7] += 1e-9 * np.abs(out).max()
    assert [(f.row, f.col) for f in detect_gemm(a, b, out, B)] == [(1, 1)]
    assert float(ref["row_tol"].max()) < 1e-10 * float(np.abs(out).max()) * 256


def test_gemm_flags_non_finite_results() -> None:
    a, b = gemm_inputs(4, 4, 2, 8, _rng(0))
    out = gemm_golden(a, b)
    out[3, 6] = np.nan
    assert [(f.row, f.col) for f in detect_gemm(a, b, out, 2)] == [(1, 3)]


def test_stencil_finds_any_flipped_bit_in_its_tile() -> None:
    rng = _rng(4)
    u = stencil_input(R, C, B, rng)
    golden = stencil_golden(u)
    assert detect_stencil(golden, stencil_golden(u.copy()), B) == []
    for bit in range(64):
        i, j = int(rng.integers(0, R * B)), int(rng.integers(0, C * B))
        out = golden.copy()
        out.view(np.uint64)[i, j] ^= np.uint64(1) << np.uint64(bit)
        assert [(f.row, f.col) for f in detect_stencil(golden, out, B)] == [(i // B, j // B)]


def test_stencil_golden_matches_the_five_point_formula() -> None:
    u = stencil_input(3, 3, 2, _rng(5))
    w = 0.2
    p = np.pad(u, 1)
    ref = (1 - 4 * w) * u + w * (p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:])
    assert np.allclose(stencil_golden(u, w), ref, rtol=1e-14, atol=1e-15)


def _walk(route: np.ndarray, start: int, cols: int) -> int:
    """Follow a route's links from ``start``; return the site reached."""
    site = start
    for link in route.tolist():
        a = link // 2
        b = a + 1 if link % 2 == 0 else a + cols
        assert site in (a, b), "route is not a path"
        site = b if site == a else a
    return site


def test_routes_join_the_two_cores_of_every_logical_link_and_avoid_blocking_dead_links() -> None:
    design = load_design("small")
    # Links found dead in burn-in, before the remap: the loaded map (planned on the dead cores
    # alone, so it has bent routes) still serves both ends of some of them.
    defects = sample_wafer(design, DefectModel(0.3, link_fraction=0.3), seed=8)
    cores_only = DefectMap(design.rows, design.cols, defects.dead_sites, design=design.name)
    pol = repair_wafer(design, cores_only).repair_map.physical_of_logical
    serving = np.zeros(design.n_sites, bool)
    serving[pol.ravel()] = True
    blocking = active_dead_links(defects.dead_links, design.cols, serving)
    routes = link_routes(pol, design.cols, defects.dead_links)
    naive = link_routes(pol, design.cols)  # horizontal first everywhere
    assert np.isin(naive.physical, blocking).any()  # so the detour rule is exercised
    rows, cols = pol.shape
    assert routes.links.size == rows * (cols - 1) + (rows - 1) * cols
    def blocked(r) -> np.ndarray:  # noqa: ANN001 - per logical link: its route crosses a blocking dead link
        hit = np.isin(r.physical, blocking)
        return np.add.reduceat(hit, r.ptr[:-1]) > 0

    # A route detours (vertical first) wherever that avoids the dead link; only links with no open L keep one.
    assert (blocked(routes) <= blocked(naive)).all() and blocked(routes).sum() < blocked(naive).sum()
    flat = pol.ravel()
    for i, lid in enumerate(routes.links.tolist()):
        a = flat[lid // 2]
        b = flat[lid // 2 + (1 if lid % 2 == 0 else cols)]
        assert _walk(routes.route(i), int(a), design.cols) == b


def test_fabric_detection_points_at_the_failing_link_only() -> None:
    routes = link_routes(np.arange(30).reshape(5, 6), 6)
    n = routes.links.size
    full, zero = np.full((n, 2), 8), np.zeros((n, 2), np.int64)
    assert detect_fabric(FabricOutput(8, routes.links, full, zero, zero), routes) == []
    missing = zero.copy()
    received = full.copy()
    k = int(np.flatnonzero(routes.links == 2 * (2 * 6 + 3) + 1)[0])  # south link below logical (2, 3)
    received[k, 0], missing[k, 0] = 7, 1
    found = detect_fabric(FabricOutput(8, routes.links, received, zero, missing), routes)
    assert [(f.row, f.col, f.link) for f in found] == [(2, 3, 2 * (2 * 6 + 3) + 1)]
    assert found[0].evidence["suspects"] == routes.route(k).tolist()


class _Registers:
    def __init__(self, values: np.ndarray, stuck: tuple | None = None) -> None:
        self.values, self.stuck = values.copy(), stuck

    def read_registers(self) -> np.ndarray:
        out = self.values.copy()
        if self.stuck:
            out[self.stuck[:3]] ^= np.uint32(self.stuck[3])
        return out

    def write_registers(self, rows, cols, index, values) -> None:
        self.values[rows, cols, index] = values


def test_register_scan_finds_rewrites_and_verifies_an_upset() -> None:
    want = prescribed_registers(np.arange(12).reshape(3, 4) * 2)
    device = _Registers(want)
    device.values[2, 1, 3] ^= np.uint32(1 << 17)
    found = register_scan(device, want)
    assert [(f.row, f.col, f.evidence["register"], f.evidence["flipped_bits"], f.evidence["verified"])
            for f in found] == [(2, 1, 3, 1 << 17, True)]
    assert register_scan(device, want) == []


def test_register_scan_reports_a_hard_upset_as_not_verified() -> None:
    want = prescribed_registers(np.arange(12).reshape(3, 4))
    device = _Registers(want, stuck=(0, 2, 1, 1 << 3))
    found = register_scan(device, want)
    assert [(f.row, f.col, f.evidence["verified"]) for f in found] == [(0, 2, False)]


def test_prescribed_registers_change_with_the_mapping() -> None:
    a = prescribed_registers(np.arange(6).reshape(2, 3))
    b = prescribed_registers(np.arange(6).reshape(2, 3) + 1)
    assert (a[..., 2:] != b[..., 2:]).all() and (a[..., :2] == b[..., :2]).all()


def test_watchdog_flags_short_heartbeats_only() -> None:
    beats = np.full((4, 5), 100)
    assert detect_stalls(beats, 100) == []
    beats[3, 0] = 0
    assert [(f.row, f.col) for f in detect_stalls(beats, 100)] == [(3, 0)]


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 6), cols=st.integers(1, 6), block=st.integers(1, 5), depth=st.integers(1, 300),
       kind=st.sampled_from(["normal", "hilbert", "wide", "cancel"]), scale=st.floats(-150, 150),
       seed=st.integers(0, 2**32 - 1))
def test_gemm_has_no_false_positive_for_any_shape_or_scale(rows, cols, block, depth, kind, scale, seed) -> None:
    a, b = gemm_inputs(rows, cols, block, depth, _rng(seed), kind)
    a = a * 2.0**scale  # exact rescaling over a wide exponent range
    assert detect_gemm(a, b, gemm_golden(a, b), block) == []
