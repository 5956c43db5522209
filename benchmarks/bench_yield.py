"""Monte-Carlo throughput on the wse preset, clustered defects, one core.

Target: at least 20,000 wafer trials per second with the row-spare
check. Peer, measured in the same run: the dense simulation an engineer
would first write, a Bernoulli draw per core per wafer (with the wafer's
gamma-mixed density for clustering), then the same row check.

    python benchmarks/bench_yield.py [--wafers 100000]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np

from yieldkit.defects import DefectModel, sample_batch
from yieldkit.design import load_design
from yieldkit.models import site_failure_probability
from yieldkit.montecarlo import BLOCK_WAFERS, simulate
from yieldkit.redundancy import assessor_for

TARGET_WAFERS_PER_S = 20_000


def sparse_row_spare(design, model, n_wafers: int, seed: int) -> tuple[float, float]:  # noqa: ANN001
    """The engine's inner loop with the row-spare check: (wafers/s, yield).

    The row-spare check is row-shift repair with unlimited routing reach (a row
    is repaired whenever its dead sites fit its spares).
    """
    assess = assessor_for(replace(design, scheme_params={}))
    full = 0
    start = time.perf_counter()
    for block in range(-(-n_wafers // BLOCK_WAFERS)):
        n = min(BLOCK_WAFERS, n_wafers - block * BLOCK_WAFERS)
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
        full += int(assess(sample_batch(design, model, n, rng)).full.sum())
    return n_wafers / (time.perf_counter() - start), full / n_wafers


def dense_bernoulli(design, model, n_wafers: int, seed: int) -> tuple[float, float]:  # noqa: ANN001
    """Peer: one Bernoulli draw per existing core per wafer: (wafers/s, yield)."""
    rng = np.random.default_rng(seed)
    exists = design.site_exists
    band = slice(design.logical_row_offset, design.logical_row_offset + design.logical_rows)
    spares = design.spares_per_row
    full = 0
    start = time.perf_counter()
    for _ in range(n_wafers):
        d0 = rng.gamma(model.alpha, model.d0_per_cm2 / model.alpha) if model.alpha else model.d0_per_cm2
        dead = (rng.random(exists.shape) < site_failure_probability(d0, design.site_area_mm2)) & exists
        full += bool(np.all(dead[band].sum(axis=1) <= spares))
    return n_wafers / (time.perf_counter() - start), full / n_wafers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wafers", type=int, default=100_000)
    parser.add_argument("--peer-wafers", type=int, default=100)
    parser.add_argument("--d0", type=float, default=0.1)
    parser.add_argument("--alpha", type=float, default=2.0)
    args = parser.parse_args()
    design = load_design("wse")
    model = DefectModel(args.d0, alpha=args.alpha, x0_um=0.0)
    sparse_row_spare(design, model, BLOCK_WAFERS, 0)  # warm-up (caches, imports)
    rate, y = sparse_row_spare(design, model, args.wafers, 1)
    peer_rate, peer_y = dense_bernoulli(design, model, args.peer_wafers, 2)
    print(f"wse, D0={args.d0} cm^-2, alpha={args.alpha}, row-spare check, 1 core")
    print(f"  sparse positions : {rate:12,.0f} wafers/s  (target >= {TARGET_WAFERS_PER_S:,}: "
          f"{'PASS' if rate >= TARGET_WAFERS_PER_S else 'FAIL'})  yield {y:.4f} over {args.wafers:,} wafers")
    print(f"  dense Bernoulli  : {peer_rate:12,.1f} wafers/s  (peer)                 yield {peer_y:.4f} over {args.peer_wafers:,} wafers")
    print(f"  speed-up         : {rate / peer_rate:12,.0f} x")
    start = time.perf_counter()
    result = simulate(design, DefectModel(args.d0, alpha=args.alpha), args.wafers, seed=3)
    sim_rate = args.wafers / (time.perf_counter() - start)
    print(f"  simulate() with the design's own scheme ({design.scheme} {design.scheme_params}), default defect model:"
          f" {sim_rate:,.0f} wafers/s, yield {result.full_fabric_yield:.4f}")


if __name__ == "__main__":
    main()
