"""Benchmark: one pass of every burn-in workload over a ``wse`` wafer (figure, target, peer ratio).

Usage::

    .venv/bin/python benchmarks/bench_burnin_workloads.py [--repeat 3] [--block 4] [--depth 16] [--subset 2000]

Setup (not timed): the ``wse`` design (1172 x 762 logical cores), a wafer
sampled at D0 = 0.1 cm^-2, alpha = 2 and repaired with row-shift, its fault
truth from the default ``FaultModel`` and a :class:`SimulatedWafer` aged
24 h at 125 degC, 0.88 V. The process is pinned to one CPU and BLAS to one
thread.

Timed, median of ``--repeat`` passes each: the wafer side and the host side
(golden result and detection from the outputs) of

* gemm: ABFT systolic multiply, b x b block per core, inner dimension n;
* stencil: one 5-point sweep, b x b tile per core, golden computed on the host;
* march: March SS on every core's SRAM (fault-free memories skipped, exact);
* fabric: 4 packets each way over every logical link, sequence numbers, CRC-32;
* registers: watchdog heartbeat and a full register scan.

Target: the sum under 2 s. Peer: a plain per-core (per-link) Python loop
over the same work, timed on ``--subset`` cores (links) drawn at random and
scaled to the whole fabric (said so in the output); the ratio is
peer / figure.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from burnin.fault_model import FaultModel  # noqa: E402
from burnin.simulated_wafer import SimulatedWafer  # noqa: E402
from burnin.sram import run_march  # noqa: E402
from burnin.truth import draw_fault_truth  # noqa: E402
from burnin.workloads.fabric import detect_fabric  # noqa: E402
from burnin.workloads.gemm import detect_gemm, gamma, gemm_inputs  # noqa: E402
from burnin.workloads.march import MARCH_SS, detect_march  # noqa: E402
from burnin.workloads.registers import register_scan  # noqa: E402
from burnin.workloads.stencil import detect_stencil, stencil_golden, stencil_input  # noqa: E402
from burnin.workloads.watchdog import detect_stalls  # noqa: E402
from yieldkit.defects import DefectModel, sample_wafer  # noqa: E402
from yieldkit.design import load_design  # noqa: E402
from yieldkit.repair import repair_wafer  # noqa: E402

TARGET_S = 2.0


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# -- peers: one core (one link) at a time ------------------------------------------------
def peer_gemm(a, b, result, block, cores) -> int:
    n, bad = a.shape[1], 0
    g = gamma(n + block + 2)
    for r, c in cores:
        ar, bc = a[r * block:(r + 1) * block], b[:, c * block:(c + 1) * block]
        blk = ar @ bc
        got = result[r * block:(r + 1) * block, c * block:(c + 1) * block]
        ref_row, ref_col = ar @ bc.sum(axis=1), ar.sum(axis=0) @ bc
        tol_row = 2 * g / (1 - g) * (np.abs(ar) @ np.abs(bc).sum(axis=1))
        tol_col = 2 * g / (1 - g) * (np.abs(ar).sum(axis=0) @ np.abs(bc))
        del blk
        bad += bool((np.abs(got.sum(axis=1) - ref_row) > tol_row).any()
                    or (np.abs(got.sum(axis=0) - ref_col) > tol_col).any())
    return bad


def peer_stencil(u, result, block, cores, weight=0.2) -> int:
    p = np.pad(u, 1)
    bad = 0
    for r, c in cores:
        i, j = r * block + 1, c * block + 1
        tile = p[i:i + block, j:j + block]
        want = (1 - 4 * weight) * tile + weight * (p[i - 1:i + block - 1, j:j + block] + p[i + 1:i + block + 1, j:j + block]
                                                   + p[i:i + block, j - 1:j + block - 1] + p[i:i + block, j + 1:j + block + 1])
        bad += bool((want != result[r * block:(r + 1) * block, c * block:(c + 1) * block]).any())
    return bad


def peer_march(wafer, cores) -> int:
    sram = wafer.truth.sram
    by_site: dict[int, list[int]] = {}
    for k, site in enumerate(sram.core.tolist()):
        by_site.setdefault(site, []).append(k)
    bad = 0
    for r, c in cores:
        rows = by_site.get(int(wafer.physical_of_logical[r, c]))
        if rows:
            bad += bool(run_march(MARCH_SS, wafer.model.sram_words, wafer.model.sram_word_bits, sram.take(rows)))
    return bad


def peer_fabric(wafer, links) -> int:
    faulty = set(wafer.truth.link_id.tolist())
    bad = 0
    for i in links:
        route = wafer.routes.physical[wafer.routes.ptr[i]:wafer.routes.ptr[i + 1]]
        bad += any(int(p) in faulty for p in route)
    return bad


def peer_registers(wafer, cores) -> int:
    got, want = wafer.read_registers(), wafer.prescribed
    bad = 0
    for r, c in cores:
        for k in range(want.shape[2]):
            bad += int(got[r, c, k] != want[r, c, k])
    return bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--block", type=int, default=4)
    parser.add_argument("--depth", type=int, default=16)
    parser.add_argument("--subset", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    design = load_design("wse")
    defects = sample_wafer(design, DefectModel(0.1, alpha=2.0), args.seed)
    image = repair_wafer(design, defects).repair_map
    t0 = time.perf_counter()
    truth = draw_fault_truth(design, defects, FaultModel(), args.seed + 1)
    t_truth = time.perf_counter() - t0
    t0 = time.perf_counter()
    wafer = SimulatedWafer(design, defects, image, truth, seed=args.seed + 2)
    t_load = time.perf_counter() - t0
    wafer.advance(24.0, 125.0, 0.88)
    rows, cols = wafer.logical_shape
    b = args.block
    rng = np.random.default_rng(np.random.SeedSequence(args.seed + 3))
    a_in, b_in = gemm_inputs(rows, cols, b, args.depth, rng)
    u = stencil_input(rows, cols, b, rng)

    passes = {
        "gemm": lambda: detect_gemm(a_in, b_in, wafer.run_gemm(a_in, b_in, b), b),
        "stencil": lambda: detect_stencil(stencil_golden(u), wafer.run_stencil(u, b), b),
        "march": lambda: detect_march(wafer.run_march("march_ss")),
        "fabric": lambda: detect_fabric(wafer.run_fabric(4), wafer.routes),
        "registers": lambda: (detect_stalls(wafer.run_watchdog(1000), 1000), register_scan(wafer, wafer.prescribed)),
    }
    figures = {name: _median(fn, args.repeat) for name, fn in passes.items()}

    n_cores, n_links = rows * cols, wafer.routes.links.size
    k = min(args.subset, n_cores)
    pick = rng.choice(n_cores, k, replace=False)
    cores = list(zip(*(x.tolist() for x in np.divmod(pick, cols))))
    links = rng.choice(n_links, min(args.subset, n_links), replace=False).tolist()
    gemm_out, stencil_out = wafer.run_gemm(a_in, b_in, b), wafer.run_stencil(u, b)
    peers = {
        "gemm": (lambda: peer_gemm(a_in, b_in, gemm_out, b, cores), n_cores / k),
        "stencil": (lambda: peer_stencil(u, stencil_out, b, cores), n_cores / k),
        "march": (lambda: peer_march(wafer, cores), n_cores / k),
        "fabric": (lambda: peer_fabric(wafer, links), n_links / len(links)),
        "registers": (lambda: peer_registers(wafer, cores), n_cores / k),
    }
    peer_s = {name: _median(fn, 1) * scale for name, (fn, scale) in peers.items()}

    total, peer_total = sum(figures.values()), sum(peer_s.values())
    print(f"wse: {rows} x {cols} = {n_cores:,} logical cores, {n_links:,} logical links; block {b} x {b}, "
          f"GEMM depth {args.depth}; one CPU, BLAS 1 thread; median of {args.repeat}")
    print(f"fault truth draw: {t_truth * 1e3:.0f} ms; wafer load (routes, registers): {t_load * 1e3:.0f} ms (not in the pass)")
    print(f"{'workload':<10} {'figure':>10} {'peer (scaled)':>14} {'ratio':>7}")
    for name in passes:
        print(f"{name:<10} {figures[name]:>9.3f}s {peer_s[name]:>13.2f}s {peer_s[name] / figures[name]:>6.0f}x")
    print(f"{'total':<10} {total:>9.3f}s {peer_total:>13.2f}s {peer_total / total:>6.0f}x   "
          f"target < {TARGET_S:.0f} s: {'met' if total < TARGET_S else 'MISSED'}")
    print(f"peer: a plain per-core (fabric: per-link) Python loop over the same work, timed on {k:,} random cores "
          f"({len(links):,} links) and scaled linearly to the whole fabric")


if __name__ == "__main__":
    main()
