"""Harvest table: logical cores / live cores of the maximal logical array.

Usage::

    .venv/bin/python benchmarks/bench_harvest.py [--quick] [--arrays 100] [--seed 0] [--csv FILE]

Random host arrays of N x N cores (N = 32, 64, 128, 256) with independent
faults at 1, 5, 10, 15, 20 %; for each, the maximal logical array of the
``row-col`` scheme (row bypass, column rerouting with compensation distance
d = 1; GCR with backtracking + row exclusion,
``yieldkit.redundancy.row_col.maximal_array``), and
the harvest = logical cores / fault-free cores, averaged over ``--arrays``
arrays (100 by default, as in the reconfiguration literature, e.g. Low &
Leong, IEEE TCAD 1997; Wu & Srikanthan, JSA 2003). ``--quick`` runs 10
arrays per cell. Also prints the mean logical array size and the time per array.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from yieldkit.redundancy.row_col import maximal_array

SIZES = (32, 64, 128, 256)
FAULTS = (0.01, 0.05, 0.10, 0.15, 0.20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 arrays per cell")
    parser.add_argument("--arrays", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--csv", default=None)
    args = parser.parse_args()
    arrays = 10 if args.quick else args.arrays
    rng = np.random.default_rng(args.seed)
    maximal_array(np.zeros((4, 4), bool), 1)  # compile
    rows = []
    print(f"{'N':>4} {'fault':>6} {'harvest':>8} {'rows':>7} {'cols':>7} {'ms/array':>9}")
    for n in SIZES:
        for f in FAULTS:
            harvest, rr, cc = [], [], []
            start = time.perf_counter()
            for _ in range(arrays):
                unusable = rng.random((n, n)) < f
                cores, r, c = maximal_array(unusable, 1)
                harvest.append(cores / max(int((~unusable).sum()), 1))
                rr.append(r)
                cc.append(c)
            ms = (time.perf_counter() - start) / arrays * 1000
            row = (n, f, float(np.mean(harvest)), float(np.mean(rr)), float(np.mean(cc)), ms)
            rows.append(row)
            print(f"{n:>4} {f:>6.2f} {row[2]:>8.3f} {row[3]:>7.1f} {row[4]:>7.1f} {ms:>9.1f}", flush=True)
    if args.csv:
        with open(args.csv, "w", encoding="utf-8") as fp:
            fp.write("n,fault_fraction,harvest,mean_rows,mean_cols,ms_per_array\n")
            for row in rows:
                fp.write(",".join(str(v) for v in row) + "\n")


if __name__ == "__main__":
    main()
