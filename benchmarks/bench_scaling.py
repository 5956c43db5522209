"""Scaling of the Monte Carlo: wafers/s against workers, and the per-wafer cost against the grid size.

    python benchmarks/bench_scaling.py

1. ``simulate`` on wse (D0 0.1, alpha 2) with 1 .. (usable cores) local
   worker processes, and on a Dask ``LocalCluster`` of 1 .. cores worker
   processes (one thread each), with Dask's worker environment and with
   :data:`WORKER_MALLOC`; speed-up relative to one process in this process.
   Start-up of the local pool is included (it is what a user waits for);
   the cluster's is printed apart (a cluster outlives a run).
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
from yieldkit.design import Design, load_design
from yieldkit.montecarlo import BLOCK_WAFERS, simulate, usable_cpus


#: Worker environment that keeps glibc's dynamic mmap threshold out of the way. Dask's nanny starts
#: workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which also pins the mmap threshold at 128 KiB: every
#: array above it is then a fresh ``mmap`` whose pages fault in again, and the engine runs ~3x slower.
WORKER_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(128 << 20)}


def rate(design, model, n: int, **options) -> float:  # noqa: ANN001, ANN003
    start = time.perf_counter()
    simulate(design, model, n, 1, **options)
    return n / (time.perf_counter() - start)


def grids(wse: Design) -> list[Design]:
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
    n = (8 if quick else 256) * BLOCK_WAFERS  # long enough that start-up and task traffic do not dominate
    simulate(wse, model, BLOCK_WAFERS, 0)  # warm-up
    base = rate(wse, model, n)
    out = [row("scaling: 1 process (in-process)", base, "wafers/s", "", None)]
    for workers in range(2, cores + 1):
        r = rate(wse, model, n, workers=workers)
        out.append(row(f"scaling: {workers} local processes", r, "wafers/s", "", None, ratio=r / base,
                       note="ratio: speed-up over 1 process"))
    try:
        import dask
        from dask.distributed import LocalCluster
    except ImportError:
        out.append(row("scaling: Dask LocalCluster", float("nan"), "", "", None, note="dask not installed"))
    else:
        for label, environ in (("Dask's worker environment", {}), ("mmap threshold raised", WORKER_MALLOC)):
            for workers in range(1, cores + 1):
                with dask.config.set({f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in environ.items()}):
                    start = time.perf_counter()
                    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster:
                        startup = time.perf_counter() - start
                        address = cluster.scheduler_address
                        rate(wse, model, 2 * workers * BLOCK_WAFERS, scheduler=address, blocks_per_task=1)  # warm
                        r = rate(wse, model, n, scheduler=address)
                out.append(row(f"scaling: Dask LocalCluster, {workers} workers, {label}", r, "wafers/s", "", None,
                               ratio=r / base, note=f"cluster start-up {startup:.1f} s not included; ratio over "
                                                    "1 process"))
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
