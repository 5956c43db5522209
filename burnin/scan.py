"""One scan of a wafer: run the workloads, re-test the suspects, classify them.

Works from workload outputs only, through a *station* (the hardware: a real
oven or ``burnin.station.SimulatedStation``) offering ``stress``,
``run_gemm``, ``run_stencil``, ``run_march``, ``run_fabric``,
``run_watchdog``, ``read_registers``/``write_registers``, ``routes``,
``prescribed`` and ``physical_of_logical``. Never imports the fault truth.

A scan runs, at the campaign conditions: GEMM with ABFT, a stencil sweep,
March C- over every core's SRAM, fabric traffic, the watchdog, the register
scan; then the re-tests and the rules of :mod:`burnin.classify`. Inputs come
from ``SeedSequence(key)`` (the caller's key: campaign seed, wafer seed, step).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from burnin.classify import DISABLE_LINK, MAP_OUT_CORE, classify_core, classify_link, classify_register
from burnin.workloads.fabric import detect_fabric
from burnin.workloads.gemm import detect_gemm, gemm_inputs
from burnin.workloads.march import detect_march
from burnin.workloads.registers import register_scan
from burnin.workloads.stencil import detect_stencil, stencil_golden, stencil_input
from burnin.workloads.watchdog import detect_stalls

__all__ = ["ScanResult", "scan", "REPEATS", "RAISED_DT_C", "RAISED_VOLTAGE", "RELAXED_TEMP_C"]

REPEATS = 3
RAISED_DT_C = 10.0
RAISED_VOLTAGE = 1.05
RELAXED_TEMP_C = 85.0
BLOCK, DEPTH, PACKETS, TICKS = 2, 8, 4, 100


@dataclass(eq=False)
class ScanResult:
    """What one scan found and did.

    Attributes
    ----------
    executions : list of dict
        One per workload pass: ``workload``, ``passed``, ``params`` (JSON text).
    events : list of dict
        One per classified suspect: ``core_row``/``core_col`` (physical) or
        ``link_id`` (physical), ``logical``, ``fault_class``, ``workload``,
        ``detection``, ``action``.
    map_out_sites, map_out_links : list of int
        Physical sites and links to map out.
    """

    executions: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    map_out_sites: list[int] = field(default_factory=list)
    map_out_links: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"executions": len(self.executions), "events": self.events, "map_out_sites": self.map_out_sites,
                "map_out_links": self.map_out_links}

    def __repr__(self) -> str:
        return (f"ScanResult({len(self.executions)} passes, {len(self.events)} events, "
                f"{len(self.map_out_sites)} cores and {len(self.map_out_links)} links to map out)")


def _cores(findings) -> set[tuple[int, int]]:
    return {(f.row, f.col) for f in findings}


def scan(station: Any, temp_c: float, voltage_v: float, key: Any, sram_spare_rows: int = 0) -> ScanResult:
    """Scan the wafer on ``station`` at ``temp_c`` [degC] and ``voltage_v`` [V] (module docstring)."""
    rng = np.random.default_rng(np.random.SeedSequence(key))
    out = ScanResult()
    rows, cols = station.logical_shape
    pol = np.asarray(station.physical_of_logical)
    pcols = int(station.design.cols)

    def log(workload: str, findings: list, phase: str = "scan", **conditions: Any) -> list:
        params = {"phase": phase, "findings": len(findings), **conditions}
        out.executions.append({"workload": workload, "passed": not findings,
                               "params": json.dumps(params, sort_keys=True)})
        return findings

    def compute_pass(phase: str, **cond: Any) -> set[tuple[int, int]]:
        u = stencil_input(rows, cols, BLOCK, rng)
        return _cores(log("stencil", detect_stencil(stencil_golden(u), station.run_stencil(u, BLOCK), BLOCK),
                          phase, **cond))

    def march_pass(phase: str, **cond: Any) -> set[tuple[int, int]]:
        return _cores(log("march", detect_march(station.run_march("march_c-")), phase, **cond))

    a, b = gemm_inputs(rows, cols, BLOCK, DEPTH, rng)
    gemm = log("gemm", detect_gemm(a, b, station.run_gemm(a, b, BLOCK), BLOCK))
    u = stencil_input(rows, cols, BLOCK, rng)
    stencil = log("stencil", detect_stencil(stencil_golden(u), station.run_stencil(u, BLOCK), BLOCK))
    march = log("march", detect_march(station.run_march("march_c-")))
    fabric = log("fabric", detect_fabric(station.run_fabric(PACKETS), station.routes))
    stalls = log("watchdog", detect_stalls(station.run_watchdog(TICKS), TICKS))
    registers = log("registers", register_scan(station, station.prescribed))

    # -- core suspects: repeat, then raised stress or relaxed temperature --------------------------
    compute_seen = _cores(gemm) | _cores(stencil)
    detected_by = {}
    for f in march:
        detected_by[(f.row, f.col)] = "march"
    for f in stencil:
        detected_by[(f.row, f.col)] = "stencil"
    for f in gemm:
        detected_by[(f.row, f.col)] = "gemm"
    suspects = sorted(detected_by)
    if suspects:
        nominal_c, nominal_m = [], []
        for _ in range(REPEATS):
            nominal_c.append(compute_pass("repeat"))
            nominal_m.append(march_pass("repeat"))

        def fails(core, comp, mar):
            compute = core in compute_seen or any(core in s for s in comp)
            return [(core in c) if compute else (core in m) for c, m in zip(comp, mar)], compute

        needs_raised = [s for s in suspects if not any(fails(s, nominal_c, nominal_m)[0])]
        needs_relaxed = [s for s in suspects if all(fails(s, nominal_c, nominal_m)[0])]
        raised_c, raised_m, relaxed_c, relaxed_m = [], [], [], []
        if needs_raised:
            cond = {"temp_c": temp_c + RAISED_DT_C, "voltage_v": voltage_v * RAISED_VOLTAGE}
            station.stress(0.0, cond["temp_c"], cond["voltage_v"])
            for _ in range(REPEATS):
                raised_c.append(compute_pass("raised", **cond))
                raised_m.append(march_pass("raised", **cond))
        if needs_relaxed:
            cond = {"temp_c": RELAXED_TEMP_C, "voltage_v": voltage_v}
            station.stress(0.0, RELAXED_TEMP_C, voltage_v)
            for _ in range(REPEATS):
                relaxed_c.append(compute_pass("relaxed", **cond))
                relaxed_m.append(march_pass("relaxed", **cond))
        station.stress(0.0, temp_c, voltage_v)
        for core in suspects:
            nominal, compute = fails(core, nominal_c, nominal_m)
            raised = fails(core, raised_c, raised_m)[0] if core in needs_raised else []
            relaxed = fails(core, relaxed_c, relaxed_m)[0] if core in needs_relaxed else []
            cls, action = classify_core(nominal, raised, relaxed, compute, sram_spare_rows)
            _event(out, pol, pcols, core, cls, action, detected_by[core])

    # -- registers and stalls ----------------------------------------------------------------------
    reg_cores: dict[tuple[int, int], bool] = {}
    for f in registers:
        reg_cores[(f.row, f.col)] = reg_cores.get((f.row, f.col), True) and bool(f.evidence["verified"])
    for core in sorted(reg_cores):
        cls, action = classify_register(reg_cores[core])
        _event(out, pol, pcols, core, cls, action, "registers")
    if stalls:
        still = _cores(log("watchdog", detect_stalls(station.run_watchdog(TICKS), TICKS), "repeat"))
        for core in sorted(_cores(stalls)):
            if core in still and reg_cores.get(core, True):
                cls, action = classify_register(False)
                _event(out, pol, pcols, core, cls, action, "watchdog")
            elif core not in reg_cores and core not in still:
                cls, action = classify_core([False], [False])
                _event(out, pol, pcols, core, cls, action, "watchdog")

    # -- links ---------------------------------------------------------------------------------------
    if fabric:
        repeats = [{f.link: f for f in log("fabric", detect_fabric(station.run_fabric(PACKETS), station.routes),
                                           "repeat")} for _ in range(REPEATS)]
        for f in fabric:
            again = [rep[f.link] for rep in repeats if f.link in rep]
            ends = {(f.row, f.col), (f.row, f.col + 1) if f.link % 2 == 0 else (f.row + 1, f.col)}
            result = classify_link([f.link in rep for rep in repeats], bool(ends & set(reg_cores)))
            if result is None:
                continue
            suspects_links = [set(g.evidence["suspects"]) for g in again] or [set(f.evidence["suspects"])]
            common = set.intersection(*suspects_links) or set(f.evidence["suspects"]) \
                or set(f.evidence["physical_links"])
            links = sorted(common)
            cls, action = result
            out.events.append({"logical": (f.row, f.col), "core_row": None, "core_col": None,
                               "link_id": int(links[0]) if links else None, "fault_class": cls, "workload": "fabric",
                               "detection": "fabric", "action": action, "logical_link": f.link})
            if action == DISABLE_LINK:
                out.map_out_links.extend(int(x) for x in links)
    out.events = [e for e in out.events if e["core_row"] is not None or e["link_id"] is not None]
    out.map_out_sites = sorted(set(out.map_out_sites))
    out.map_out_links = sorted(set(out.map_out_links))
    return out


def _event(out: ScanResult, pol: np.ndarray, pcols: int, core: tuple[int, int], cls, action: str,
           detection: str) -> None:
    site = int(pol[core])
    row, col = divmod(site, pcols)
    out.events.append({"logical": core, "site": site, "core_row": row, "core_col": col, "link_id": None,
                       "fault_class": cls, "workload": detection, "detection": detection, "action": action})
    if action == MAP_OUT_CORE:
        out.map_out_sites.append(site)
