"""Benchmark: wafer map of a ``wse`` wafer (10^6 sites) drawn and saved to PNG (target < 2 s).

Usage::

    .venv/bin/python benchmarks/bench_views.py [--dead 400] [--mapped-out 40] [--repeat 5]
        [--peer-sites 20000]

The timed call is :func:`yieldkit.views.plot_wafer_map` on a ``wse`` wafer
(969,712 existing sites of 1200 x 810) with ``--dead`` dead cores, mapped-out
cores, a repair map's spares in use and dead links, then ``savefig`` to PNG
at 110 dpi: the median of ``--repeat`` runs after a warm-up.

Peer: the naive drawing, one patch per core (``PatchCollection`` of
``Rectangle`` per existing site), timed on ``--peer-sites`` sites and
scaled linearly to the whole wafer (it would take minutes and gigabytes at
10^6 patches; the scaling is an estimate, said so in the output).
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from yieldkit.defect_map import DefectMap
from yieldkit.defects import DefectModel, sample_wafer
from yieldkit.design import load_design
from yieldkit.repair import repair_wafer
from yieldkit.views import plot_wafer_map

TARGET_S = 2.0


def _draw(design, defects, mapped, repair) -> float:
    t0 = time.perf_counter()
    fig = plot_wafer_map(design, defects, mapped_out=mapped, repair_map=repair)
    fig.savefig(io.BytesIO(), format="png", dpi=110)
    return time.perf_counter() - t0


def _peer(design, n_sites: int, dead: np.ndarray) -> float:
    exist = np.flatnonzero(design.site_exists.reshape(-1))[:n_sites]
    r, c = np.divmod(exist, design.cols)
    t0 = time.perf_counter()
    fig = Figure(figsize=(7.5, 6.0), layout="constrained")
    ax = fig.add_subplot()
    patches = [Rectangle((design.x0_mm + ci * design.pitch_x_mm, design.y0_mm - (ri + 1) * design.pitch_y_mm),
                         design.pitch_x_mm, design.pitch_y_mm) for ri, ci in zip(r, c)]
    colours = np.where(np.isin(exist, dead), "#c0392b", "#d5e8d4")
    ax.add_collection(PatchCollection(patches, facecolors=colours, edgecolors="none"))
    ax.set(xlim=(-150, 150), ylim=(-150, 150), aspect="equal")
    fig.savefig(io.BytesIO(), format="png", dpi=110)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dead", type=int, default=400)
    parser.add_argument("--mapped-out", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--peer-sites", type=int, default=20_000)
    args = parser.parse_args()

    design = load_design("wse")
    exist = np.flatnonzero(design.site_exists.reshape(-1))
    rng = np.random.default_rng(11)
    sampled = sample_wafer(design, DefectModel(0.1, alpha=2.0, link_fraction=0.02), 7)
    dead = np.union1d(sampled.dead_sites, rng.choice(exist, args.dead, replace=False))
    rows, cols = rng.integers(100, design.rows - 100, 12), rng.integers(100, design.cols - 100, 12)
    links = np.union1d(sampled.dead_links, 2 * (rows * design.cols + cols) + rng.integers(0, 2, 12))
    defects = DefectMap(design.rows, design.cols, dead, links, design=design.name)
    repair = repair_wafer(design, defects).repair_map
    mapped = np.setdiff1d(rng.choice(exist, args.mapped_out, replace=False), dead)

    _draw(design, defects, mapped, repair)  # warm-up: fonts, colour maps, the design's cached masks
    times = [_draw(design, defects, mapped, repair) for _ in range(args.repeat)]
    median = statistics.median(times)
    peer = _peer(design, args.peer_sites, dead)
    peer_scaled = peer * exist.size / args.peer_sites
    print(f"wafer map, wse ({exist.size:,} sites, {dead.size} dead, {mapped.size} mapped out, "
          f"{defects.n_dead_links} dead links, spares in use from the repair map), draw + PNG at 110 dpi")
    print(f"  figure: median {median:.3f} s of {args.repeat} (min {min(times):.3f} s, max {max(times):.3f} s)")
    print(f"  target: < {TARGET_S:.1f} s -> {'met' if median < TARGET_S else 'NOT met'}")
    print(f"  peer:   one Rectangle patch per core, measured on {args.peer_sites:,} sites: {peer:.2f} s; "
          f"scaled linearly to {exist.size:,} sites (an estimate): {peer_scaled:.0f} s")
    print(f"  ratio:  {peer_scaled / median:.0f}x faster than the per-core patches")


if __name__ == "__main__":
    main()
