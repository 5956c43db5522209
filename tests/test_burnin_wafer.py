"""The simulated wafer: faults corrupt exactly where the truth and the loaded mapping say."""

from __future__ import annotations

import math

import numpy as np
import pytest

from burnin.fault_model import FaultModel
from burnin.simulated_wafer import SimulatedWafer
from burnin.sram import SramFaultKind
from burnin.truth import draw_fault_truth
from burnin.workloads.fabric import detect_fabric
from burnin.workloads.gemm import detect_gemm, gemm_inputs
from burnin.workloads.march import detect_march
from burnin.workloads.registers import register_scan
from burnin.workloads.stencil import detect_stencil, stencil_golden, stencil_input
from burnin.workloads.watchdog import detect_stalls
from tests.stat_tolerance import Z, proportion_tolerance
from yieldkit.defect_map import DefectMap
from yieldkit.design import load_design
from yieldkit.repair import repair_wafer

B = 2
QUIET = dict(latent_fraction=0.0, marginal_fraction=0.0, thermal_fraction=0.0, transient_rate_per_core_hour=0.0,
             link_fault_fraction=0.0, register_upset_rate_per_core_hour=0.0, sram_fault_fraction=0.0)


@pytest.fixture(scope="module")
def setup():
    design = load_design("small")
    dead = [r * design.cols + (5 * r) % design.cols for r in range(0, design.rows, 3)]
    defects = DefectMap(design.rows, design.cols, dead_sites=dead, design=design.name)
    image = repair_wafer(design, defects).repair_map
    assert image.complete
    return design, defects, image


def _wafer(setup, seed: int = 1, **params) -> SimulatedWafer:
    design, defects, image = setup
    truth = draw_fault_truth(design, defects, FaultModel(**{**QUIET, **params}), seed)
    return SimulatedWafer(design, defects, image, truth, seed=seed)


def _logical(wafer: SimulatedWafer, sites) -> set:
    """Logical positions of the sites that serve a logical core (computed here, independently)."""
    where = {int(s): divmod(i, wafer.logical_shape[1]) for i, s in enumerate(wafer.physical_of_logical.ravel())}
    return {where[int(s)] for s in np.asarray(sites).tolist() if int(s) in where}


def _cores(findings) -> set:
    return {(f.row, f.col) for f in findings}


def _stencil_pass(wafer: SimulatedWafer, rng) -> set:
    rows, cols = wafer.logical_shape
    u = stencil_input(rows, cols, B, rng)
    return _cores(detect_stencil(stencil_golden(u), wafer.run_stencil(u, B), B))


def test_a_fault_free_wafer_gives_no_finding_on_any_workload(setup) -> None:
    wafer = _wafer(setup)
    wafer.advance(48.0, 125.0, 0.9)
    rows, cols = wafer.logical_shape
    rng = np.random.default_rng(np.random.SeedSequence(2))
    for kind in ("normal", "hilbert", "wide", "cancel"):
        a, b = gemm_inputs(rows, cols, B, 512, rng, kind)
        assert detect_gemm(a, b, wafer.run_gemm(a, b, B), B) == []
    assert _stencil_pass(wafer, rng) == set()
    for test in ("march_c-", "march_ss"):
        assert detect_march(wafer.run_march(test)) == []
    assert detect_fabric(wafer.run_fabric(8), wafer.routes) == []
    assert detect_stalls(wafer.run_watchdog(100), 100) == []
    assert register_scan(wafer, wafer.prescribed) == []
    assert wafer.events == []


def test_latent_defects_fail_once_the_equivalent_age_passes_their_ttf_and_are_all_found(setup) -> None:
    wafer = _wafer(setup, latent_fraction=0.05, weibull_scale_h=2000.0)
    rows, cols = wafer.logical_shape
    rng = np.random.default_rng(np.random.SeedSequence(3))
    t = wafer.truth
    assert _stencil_pass(wafer, rng) == set()  # age 0: nothing has failed yet
    wafer.advance(12.0, 125.0, 0.85)
    age = 12.0 * wafer.model.acceleration(125.0, 0.85)
    assert wafer.equivalent_age_h == pytest.approx(age)
    expected = _logical(wafer, t.latent_site[t.latent_ttf_ref_h <= age])
    assert 0 < len(expected) < len(_logical(wafer, t.latent_site))  # some failed, some still latent
    a, b = gemm_inputs(rows, cols, B, 64, rng)
    assert _cores(detect_gemm(a, b, wafer.run_gemm(a, b, B), B)) == expected  # recall and precision 100 %
    assert _stencil_pass(wafer, rng) == expected
    assert _cores(detect_march(wafer.run_march())) == expected


def test_a_remap_moves_the_work_off_mapped_out_cores(setup) -> None:
    design = setup[0]
    defects = DefectMap.empty(design)
    setup = (design, defects, repair_wafer(design, defects).repair_map)
    wafer = _wafer(setup, latent_fraction=0.002, weibull_scale_h=1e-6)
    wafer.advance(1.0, 125.0, 0.85)
    rng = np.random.default_rng(np.random.SeedSequence(4))
    found = _stencil_pass(wafer, rng)
    assert found
    sites = [int(wafer.physical_of_logical[r, c]) for r, c in found]
    worse = DefectMap(design.rows, design.cols, np.concatenate([defects.dead_sites, sites]), design=design.name)
    remap = repair_wafer(design, worse).repair_map
    assert remap.complete
    wafer.load_mapping(remap)
    assert not np.isin(wafer.physical_of_logical, sites).any()
    failed_in_use = _logical(wafer, wafer.truth.latent_site)  # latent sites the new map brings into use
    assert _stencil_pass(wafer, rng) == failed_in_use


def test_marginal_cores_fail_at_the_accelerated_rate(setup) -> None:
    wafer = _wafer(setup, marginal_fraction=0.03, marginal_fail_prob_ref=0.02)
    marginal = _logical(wafer, wafer.truth.marginal_site)
    rng = np.random.default_rng(np.random.SeedSequence(5))
    passes, hits = 30, 0
    for _ in range(passes):  # reference conditions
        seen = _stencil_pass(wafer, rng)
        assert seen <= marginal
        hits += len(seen)
    n = passes * len(marginal)
    assert abs(hits / n - 0.02) <= proportion_tolerance(0.02, n)
    wafer.advance(1.0, 125.0, 0.9)  # p_ref * AF_T * AF_V >= 1
    assert wafer.model.acceleration(125.0, 0.9) * 0.02 >= 1.0
    assert _stencil_pass(wafer, rng) == marginal


def test_thermal_faults_appear_only_above_their_threshold(setup) -> None:
    wafer = _wafer(setup, thermal_fraction=0.03)
    t = wafer.truth
    rng = np.random.default_rng(np.random.SeedSequence(6))
    for temp in (60.0, 105.0, 115.0, 131.0):
        wafer.advance(0.5, temp, 0.8)
        assert _stencil_pass(wafer, rng) == _logical(wafer, t.thermal_site[t.thermal_threshold_c <= temp])
    assert _logical(wafer, t.thermal_site[t.thermal_threshold_c <= 105.0])  # a non-trivial middle case


def test_transient_flips_arrive_at_their_rate_and_are_found_by_the_stencil(setup) -> None:
    rate = 2e-3
    wafer = _wafer(setup, transient_rate_per_core_hour=rate)
    rng = np.random.default_rng(np.random.SeedSequence(7))
    passes, found = 40, 0
    for _ in range(passes):
        before = len(wafer.events)
        seen = _stencil_pass(wafer, rng)
        flips = {ev["logical"] for ev in wafer.events[before:]}
        assert seen == flips
        found += len(wafer.events) - before
    mean = rate * wafer.physical_of_logical.size * wafer.run_hours * passes
    assert abs(found - mean) <= Z * math.sqrt(mean)


def test_march_finds_every_sram_fault_in_use_and_march_c_minus_misses_only_deceptive_reads(setup) -> None:
    wafer = _wafer(setup, sram_fault_fraction=0.05, sram_words=256, sram_word_bits=8)
    sram = wafer.truth.sram
    every = _logical(wafer, sram.core)
    deceptive = _logical(wafer, sram.core[sram.kind == SramFaultKind.DRDF])
    assert deceptive and len(every) > 100
    assert _cores(detect_march(wafer.run_march("march_ss"))) == every
    assert _cores(detect_march(wafer.run_march("march_c-"))) == every - deceptive


def test_a_bad_link_is_localised_and_intermittent_links_are_seen(setup) -> None:
    wafer = _wafer(setup, link_fault_fraction=0.002, link_intermittent_fraction=0.0)
    t = wafer.truth
    used = np.isin(t.link_id, wafer.routes.physical)
    assert used.any()
    found = detect_fabric(wafer.run_fabric(8), wafer.routes)
    expected = {int(wafer.routes.links[i]) for i in wafer.routes.routes_using_links(t.link_id)}
    assert {f.link for f in found} == expected
    suspects = set().union(*(f.evidence["suspects"] for f in found))
    assert set(t.link_id[used].tolist()) <= suspects
    for f in found:
        ev = f.evidence
        corrupt = bool(np.isin(ev["physical_links"], t.link_id[t.link_corrupt]).any())
        assert (sum(ev["crc_errors"]) == 16) == corrupt and (sum(ev["missing"]) > 0) == (not corrupt)


def test_intermittent_links_fail_a_fraction_of_packets(setup) -> None:
    p = 0.3
    wafer = _wafer(setup, link_fault_fraction=0.002, link_intermittent_fraction=1.0, link_corrupt_fraction=0.0,
                   link_packet_fail_prob=p)
    out = wafer.run_fabric(64)
    affected = wafer.routes.routes_using_links(wafer.truth.link_id)
    lost = int(out.missing[affected].sum())
    n = 2 * 64 * int(sum(np.isin(wafer.routes.route(i), wafer.truth.link_id).sum() for i in affected))
    # one faulty link per route here: each packet is lost with probability p
    assert abs(lost / n - p) <= proportion_tolerance(p, n)


def test_register_upsets_stall_misroute_and_are_repaired_by_the_scan(setup) -> None:
    wafer = _wafer(setup, register_upset_rate_per_core_hour=6e-5, register_stuck_fraction=0.3, horizon_h=100.0)
    t = wafer.truth
    wafer.advance(60.0, 125.0, 0.85)
    act = t.register_time_h <= 60.0
    in_use = _logical(wafer, t.register_site[act])
    stall = _logical(wafer, t.register_site[act & (t.register_index < 3)])
    assert stall and in_use - stall
    assert _cores(detect_stalls(wafer.run_watchdog(50), 50)) == stall
    routers = t.register_site[act & (t.register_index == 3)]
    fabric = detect_fabric(wafer.run_fabric(4), wafer.routes)
    assert {f.link for f in fabric} == {int(wafer.routes.links[i]) for i in wafer.routes.routes_touching_sites(routers)}
    found = register_scan(wafer, wafer.prescribed)
    assert _cores(found) == in_use
    hard = _logical(wafer, t.register_site[act & t.register_stuck])
    assert {(f.row, f.col) for f in found if not f.evidence["verified"]} == hard
    again = register_scan(wafer, wafer.prescribed)
    assert _cores(again) == hard and all(not f.evidence["verified"] for f in again)
    assert _cores(detect_stalls(wafer.run_watchdog(50), 50)) == _logical(
        wafer, t.register_site[act & t.register_stuck & (t.register_index < 3)])


def test_the_wafer_is_reproducible_from_its_seeds(setup) -> None:
    params = dict(marginal_fraction=0.02, transient_rate_per_core_hour=1e-3, link_fault_fraction=0.002,
                  link_intermittent_fraction=1.0)
    outputs = []
    for seed in (9, 9, 10):
        wafer = _wafer(setup, seed=seed, **params)
        wafer.advance(2.0, 100.0, 0.85)
        u = stencil_input(*wafer.logical_shape, B, np.random.default_rng(0))
        outputs.append((wafer.run_stencil(u, B), wafer.run_fabric(16).missing))
    assert np.array_equal(outputs[0][0].view(np.uint64), outputs[1][0].view(np.uint64))
    assert np.array_equal(outputs[0][1], outputs[1][1])
    assert not np.array_equal(outputs[0][0].view(np.uint64), outputs[2][0].view(np.uint64))
