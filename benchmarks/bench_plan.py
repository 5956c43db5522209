"""``yieldkit plan`` on the wse preset, one core: target under 3 s.

    python benchmarks/bench_plan.py

Times what ``yieldkit plan --design wse --d0 0.1 --alpha 2 --target-yield
0.99`` computes (the sizing of the default schemes, then the wafer-scale
row), in this process after one warm-up of the numba kernels, min and
median of a few runs; and how many levels and wafers each scheme simulated.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
import time

from yieldkit.defects import DefectModel
from yieldkit.design import load_design
from yieldkit.sizing import SCHEMES, size_redundancy, wafer_scale_row

TARGET_S = 3.0


def plan_once(design, model, wafers: int = 2000, seed: int = 0) -> tuple[float, list[dict]]:  # noqa: ANN001
    levels: list[dict] = []
    start = time.perf_counter()
    for name in SCHEMES:
        size_redundancy(design, model, 0.99, wafers, seed, (name,), progress=levels.append)
    wafer_scale_row(design, model, wafers, seed)
    return time.perf_counter() - start, levels


def rows(quick: bool = False) -> list[dict]:
    """The runner's row: plan time, min and median."""
    from benchmarks.common import row

    design, model = load_design("wse"), DefectModel(0.1, alpha=2.0)
    plan_once(load_design("small"), model, 200)  # warm-up: numba kernels, imports
    times = []
    levels: list[dict] = []
    for _ in range(1 if quick else 3):
        t, levels = plan_once(design, model)
        times.append(t)
    med = statistics.median(times)
    per_scheme = {}
    for level in levels:
        per_scheme.setdefault(level["scheme"], []).append(level["wafers"])
    detail = "; ".join(f"{k}: {len(v)} levels, {sum(v)} wafers" for k, v in per_scheme.items())
    return [row("plan wse D0 0.1 alpha 2 target 0.99, 1 core", med, "s", f"< {TARGET_S:g}", med < TARGET_S,
                note=f"min {min(times):.2f} s; {detail}")]


def main() -> None:
    for r in rows():
        print(f"{r['name']}: {r['figure']:.2f} {r['unit']} (target {r['target']}: "
              f"{'PASS' if r['passed'] else 'FAIL'}); {r['note']}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: the benchmarks package
    main()
