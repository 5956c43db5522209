"""Scaling of the Monte Carlo: wafers/s against workers, and the per-wafer cost against the grid size.

    python benchmarks/bench_scaling.py

1. ``simulate`` on wse (D0 0.1, alpha 2) with 1 .. (usable cores) local
   worker processes, and on a Dask ``LocalCluster`` of 1 .. cores worker
   processes (one thread each); speed-up relative to one process in this
   process. Start-up of the pool or cluster is included (it is what a user waits for).
2. The per-wafer cost as the grid grows: ``small`` (64 x 64 logical cores),
   then the ``wse`` square scaled to 1/4 and 1/2 of its side (same pitch,
   spare sites per row and reach: fewer defects per wafer), up to ``wse``.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from yieldkit.defects import DefectModel
from yieldkit.design import load_design
from yieldkit.montecarlo import BLOCK_WAFERS, simulate, usable_cpus


def rate(design, model, n: int, **options) -> float:  # noqa: ANN001, ANN003
    start = time.perf_counter()
    simulate(design, model, n, 1, **options)
    return n / (time.perf_counter() - start)


def grids(wse):  # noqa: ANN001, ANN201
    """``small``, then the ``wse`` square scaled to 1/4 and 1/2 of its side (same pitch, spares and reach), then ``wse``."""
    scaled = [replace(wse, name=f"wse-x{f:g}", rows=round(wse.rows * f), cols=round(wse.cols * f),
                      logical_rows=round(wse.logical_rows * f), logical_cols=round(wse.logical_cols * f))
              for f in (0.25, 0.5)]
    return [load_design("small"), *scaled, wse]


def rows(quick: bool = False) -> list[dict]:
    """The runner's rows: the scaling curve (info rows, no target)."""
    from benchmarks.common import row

    wse, model = load_design("wse"), DefectModel(0.1, alpha=2.0)
    cores = usable_cpus()
    n = (8 if quick else 32) * BLOCK_WAFERS
    simulate(wse, model, BLOCK_WAFERS, 0)  # warm-up
    base = rate(wse, model, n)
    out = [row("scaling: 1 process (in-process)", base, "wafers/s", "", None)]
    for workers in range(2, cores + 1):
        r = rate(wse, model, n, workers=workers, blocks_per_task=1)
        out.append(row(f"scaling: {workers} local processes", r, "wafers/s", "", None, ratio=r / base,
                       note="ratio: speed-up over 1 process"))
    try:
        from dask.distributed import LocalCluster
    except ImportError:
        out.append(row("scaling: Dask LocalCluster", float("nan"), "", "", None, note="dask not installed"))
    else:
        for workers in range(1, cores + 1):
            start = time.perf_counter()
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as c:
                startup = time.perf_counter() - start
                rate(wse, model, BLOCK_WAFERS, scheduler=c.scheduler_address, blocks_per_task=1)  # warm workers
                r = rate(wse, model, n, scheduler=c.scheduler_address, blocks_per_task=1)
            out.append(row(f"scaling: Dask LocalCluster, {workers} workers", r, "wafers/s", "", None, ratio=r / base,
                           note=f"cluster start-up {startup:.1f} s not included; ratio over 1 process"))
    for design in grids(wse):
        r = rate(design, model, n // 2)
        out.append(row(f"per-wafer cost, {design.name} ({design.logical_rows}x{design.logical_cols} logical)",
                       1e6 / r, "us/wafer", "", None, note=f"{design.existing_sites:,} sites"))
    return out


def main() -> None:
    for r in rows():
        ratio = "" if r["ratio"] is None else f"  x{r['ratio']:.2f}"
        print(f"{r['name']:48s} {r['figure']:12,.1f} {r['unit']}{ratio}  {r['note']}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: the benchmarks package
    main()
