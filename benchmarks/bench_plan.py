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


def plan_once(design, model, wafers: int = 2000, seed: int = 0) -> tuple[float, list[dict], dict[str, float]]:  # noqa: ANN001
    """One plan: total seconds, every level's row, and seconds per scheme (and the wafer-scale row)."""
    levels: list[dict] = []
    split: dict[str, float] = {}
    start = time.perf_counter()
    for name in SCHEMES:
        t0 = time.perf_counter()
        size_redundancy(design, model, 0.99, wafers, seed, (name,), progress=levels.append)
        split[name] = time.perf_counter() - t0
    t0 = time.perf_counter()
    wafer_scale_row(design, model, wafers, seed)
    split["wafer-scale row"] = time.perf_counter() - t0
    return time.perf_counter() - start, levels, split


def rows(quick: bool = False) -> list[dict]:
    """The runner's row: plan time, min and median, and where the time goes."""
    from benchmarks.common import row

    design, model = load_design("wse"), DefectModel(0.1, alpha=2.0)
    plan_once(load_design("small"), model, 200)  # warm-up: numba kernels, imports
    runs = [plan_once(design, model) for _ in range(1 if quick else 3)]
    times = [t for t, _, _ in runs]
    med = statistics.median(times)
    _, levels, split = runs[-1]
    per_scheme: dict[str, list[int]] = {}
    for level in levels:
        per_scheme.setdefault(level["scheme"], []).append(level["wafers"])
    detail = "; ".join(f"{k}: {len(v)} levels, {sum(v)} wafers in the deciding stages, {split[k]:.2f} s"
                       for k, v in per_scheme.items())
    return [row("plan wse D0 0.1 alpha 2 target 0.99, 1 core", med, "s", f"< {TARGET_S:g}", med < TARGET_S,
                note=f"min {min(times):.2f} s; {detail}; wafer-scale row {split['wafer-scale row']:.2f} s")]


def main() -> None:
    for r in rows():
        print(f"{r['name']}: {r['figure']:.2f} {r['unit']} (target {r['target']}: "
              f"{'PASS' if r['passed'] else 'FAIL'}); {r['note']}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: the benchmarks package
    main()
