"""Benchmark: the operator's loop on a ``wse`` wafer (figure, target, peer ratio).

Usage::

    .venv/bin/python benchmarks/bench_burnin_loop.py [--repeat 5]

Setup (not timed): the ``wse`` design, a wafer sampled at D0 = 0.1 cm^-2
(seed 1) and repaired with row-shift. Timed, median of ``--repeat`` loops,
each with a different in-use core found newly bad: the incremental remap
(``burnin.remap.remap``: local row shift checked by
``yieldkit.verify.verify_repair_map``), the next image built and checked to
decode to that verified map (``burnin.image_step.build_checked_image``).
Peer: the same loop re-planning from scratch (``yieldkit.repair.repair_wafer``
on the accumulated defect map, which verifies too), image built and checked.
Also printed: the extra cost of the full ``firmware_map.verify_image``.
Target: the loop under 0.5 s. Ratio: peer / figure. Also printed: logical
cores moved by each.
"""

from __future__ import annotations

import argparse
import statistics
import time

from burnin.remap import moved_cores, remap
from burnin.image_step import build_checked_image
from yieldkit.defects import DefectModel, sample_wafer
from yieldkit.defect_map import DefectMap
from yieldkit.design import load_design
from yieldkit.repair import repair_wafer

TARGET_S = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    design = load_design("wse")
    start = repair_wafer(design, sample_wafer(design, DefectModel(0.1), 1)).repair_map
    pol = start.physical_of_logical
    picks = [(100 + 97 * i) % pol.shape[0] for i in range(args.repeat)]
    ours, peer, full, moved_ours, moved_peer = [], [], [], [], []
    for i, r in enumerate(picks):
        site = int(pol[r, (31 * i + 200) % pol.shape[1]])
        t0 = time.perf_counter()
        result = remap(design, start, [site])
        build_checked_image(result.repair_map, "BENCH", design)
        ours.append(time.perf_counter() - t0)
        assert result.method == "local", result
        t0 = time.perf_counter()
        build_checked_image(result.repair_map, "BENCH", design, full=True)
        full.append(time.perf_counter() - t0)
        moved_ours.append(result.moved)
        defects = DefectMap(start.defects.rows, start.defects.cols, list(start.defects.dead_sites) + [site],
                            start.defects.dead_links, design=design.name)
        t0 = time.perf_counter()
        again = repair_wafer(design, defects)
        build_checked_image(again.repair_map, "BENCH", design)
        peer.append(time.perf_counter() - t0)
        assert again.repairable
        moved_peer.append(moved_cores(pol, again.repair_map.physical_of_logical))
    figure, reference = statistics.median(ours), statistics.median(peer)
    print(f"operator loop on wse (new bad core -> incremental remap -> image built and checked): "
          f"{figure:.3f} s (median of {args.repeat})")
    print(f"target: < {TARGET_S} s -> {'met' if figure < TARGET_S else 'MISSED'}")
    print(f"peer (re-plan from scratch, image built and checked): {reference:.3f} s; ratio peer/figure = "
          f"{reference / figure:.2f}x")
    print(f"full firmware verify_image of the new image (not in the figure): {statistics.median(full):.3f} s")
    print(f"logical cores moved: incremental median {statistics.median(moved_ours):g}, "
          f"re-plan median {statistics.median(moved_peer):g}")


if __name__ == "__main__":
    main()
