"""Benchmark: repair planner speed (figure, target, peer ratio).

Usage::

    .venv/bin/python benchmarks/bench_repair.py [--wafers 20] [--seed 0]

1. Full row-shift repair of one ``wse`` wafer (D0 = 0.1 cm^-2, alpha = 2),
   the repair map materialised for all 893,064 logical cores: median over
   repairable wafers, target < 25 ms. Peer: a straightforward per-row Python
   loop that walks every site of the band (as an engineer would first write
   it); the ratio is peer / planner.
2. Verification of that map (``yieldkit.verify``): target < 60 ms, min and
   median of repeated runs; the part spent in the one compiled pass over the
   logical edges (reach and routes) is printed, the rest is the per-core
   gathers (range, injectivity, existence, dead sites) and the link planes.
3. Maximal logical array of a 256 x 256 array at 10 % dead (row-col, d = 1,
   GCR + row exclusion): median of 5 arrays, target < 1 s.
4. Monte-Carlo throughput with the real row-shift planner (``simulate``,
   wse, 1 worker): target >= 20,000 wafers/s.
5. The same with dead links (``link_fraction`` = 0.02) at D0 = 0.1 cm^-2,
   target >= 10,000 wafers/s, and at D0 = 1.0 cm^-2, target >= 10x the peer.
   Peer: the batch assessor for dead sites plus the exact one-wafer path
   (``band_failures`` in a Python loop) for every wafer with a dead link near
   the logical band, timed on sampling + assessment of fewer wafers; the ratio
   is figure / peer, and the two assessors must agree on those wafers. A dead
   link takes one of its end sites out of service (``yieldkit.fabric``).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from yieldkit.defects import DefectBatch, DefectModel, sample_batch
from yieldkit.design import load_design
from yieldkit.fabric import decode_links
from yieldkit.montecarlo import BLOCK_WAFERS, simulate
from yieldkit.redundancy import BatchOutcome, assessor_for, plan_repair
from yieldkit.redundancy.row_col import maximal_array
from yieldkit.redundancy.row_shift import band_failures, longest_run_batch
from yieldkit.verify import _edge_flags, verify_repair_map


def naive_row_shift(design, defects) -> np.ndarray:  # noqa: ANN001
    """Peer: per-site Python loop, shift past dead sites from the centred anchor (no reach check)."""
    dead = set(defects.dead_sites.tolist())
    exists = design.site_exists
    c0 = (design.cols - design.logical_cols) // 2
    out = np.empty((design.logical_rows, design.logical_cols), np.int64)
    for r in range(design.logical_rows):
        row = design.logical_row_offset + r
        c = c0
        for k in range(design.logical_cols):
            while (not exists[row, c]) or (row * design.cols + c) in dead:
                c += 1
            out[r, k] = row * design.cols + c
            c += 1
    return out


def per_wafer_link_assessor(design):  # noqa: ANN001, ANN201
    """Peer: the batch assessor for dead sites, and the exact one-wafer path for every wafer with a
    dead link near the band (what the row-shift assessor did before links were vectorised)."""
    sparse = assessor_for(design)
    off, lr, n = design.logical_row_offset, design.logical_rows, design.logical_cols

    def assess(batch: DefectBatch) -> BatchOutcome:
        no_links = DefectBatch(batch.n_wafers, batch.rows, batch.cols, batch.site_wafer, batch.site,
                               np.zeros(0, np.int64), np.zeros(0, np.int64), batch.n_defects)
        out = sparse(no_links)
        full, cores = out.full.copy(), out.logical_cores.copy()
        lrow = decode_links(batch.link, design.cols)[0]
        for w in np.unique(batch.link_wafer[(lrow >= off - 1) & (lrow < off + lr)]):
            rows, pairs, _ = band_failures(design, batch.wafer(int(w)))
            full[w] = rows.size == 0 and pairs.size == 0
            run = longest_run_batch(1, lr, np.zeros(rows.size, np.int64), rows, np.zeros(pairs.size, np.int64), pairs)
            cores[w] = run[0] * n
        return BatchOutcome(full=full, logical_cores=cores)

    return assess


def sample_and_assess(design, model, n_wafers: int, seed: int, assess) -> tuple[float, list]:  # noqa: ANN001
    """Wafers/s of sampling + assessing ``n_wafers`` in Monte-Carlo blocks, and the outcomes."""
    outcomes = []
    start = time.perf_counter()
    for block in range(-(-n_wafers // BLOCK_WAFERS)):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
        batch = sample_batch(design, model, min(BLOCK_WAFERS, n_wafers - block * BLOCK_WAFERS), rng)
        outcomes.append(assess(batch))
    return n_wafers / (time.perf_counter() - start), outcomes


def timed(fn, *args, repeat: int = 1):  # noqa: ANN001, ANN201
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def time_repairs(design, batch, keep: int = 5) -> tuple[list[float], list]:  # noqa: ANN001
    """Wall time [ms] of ``plan_repair`` of each complete wafer of ``batch``, and the first ``keep`` maps.

    Only a few maps are kept (for the verification): keeping all of them
    (~7 MB each on ``wse``) made every later repair fault fresh pages in,
    four times its own time, which a repair run does not pay per wafer.
    """
    times, maps = [], []
    for i in range(batch.n_wafers):
        t, m = timed(plan_repair, design, batch.wafer(i, design.name))
        if m.complete:
            times.append(t * 1e3)
            if len(maps) < keep:
                maps.append(m)
    return times, maps


def edge_pass_args(repair_map, design) -> tuple:  # noqa: ANN001
    """The arguments of the verifier's pass over the logical edges (``yieldkit.verify._edge_flags``) for a map."""
    from yieldkit.fabric import active_dead_links
    from yieldkit.redundancy.specs import scheme_reach
    from yieldkit.verify import _edge_planes

    p = repair_map.physical_of_logical
    serving = np.bincount(p.ravel(), minlength=design.rows * design.cols) > 0
    planes = _edge_planes(design).with_dead_links(active_dead_links(repair_map.defects.dead_links, design.cols, serving))
    return p, design.cols, repair_map.scheme, scheme_reach(repair_map.scheme, repair_map.scheme_params), planes


TARGET_REPAIR_MS = 25.0
TARGET_VERIFY_MS = 60.0


def rows(quick: bool = False) -> list[dict]:
    """The runner's rows (``python -m benchmarks``): repair and verify of wse wafers (min, median), MLA, links MC."""
    from benchmarks.common import row

    wse = load_design("wse")
    batch = sample_batch(wse, DefectModel(0.1, alpha=2.0), 8 if quick else 20, np.random.default_rng(0))
    plan_repair(wse, batch.wafer(0, "wse"))  # warm caches
    times, maps = time_repairs(wse, batch)
    full_ms = statistics.median(times)
    peer_s, _ = timed(naive_row_shift, wse, maps[0].defects)
    verify = []
    for m in maps[:5]:
        for _ in range(1 if quick else 2):
            t, violations = timed(verify_repair_map, m, wse)
            assert violations == []
            verify.append(t * 1e3)
    v_med = statistics.median(verify)
    out = [
        row("full repair of a wse wafer (row-shift, map materialised)", full_ms, "ms", f"< {TARGET_REPAIR_MS:.0f}",
            full_ms < TARGET_REPAIR_MS, peer=peer_s * 1e3, ratio=peer_s * 1e3 / full_ms,
            note=f"min {min(times):.1f} ms, median of {len(times)}; peer: per-site Python loop"),
        row("verify a wse repair map (yieldkit.verify)", v_med, "ms", f"< {TARGET_VERIFY_MS:.0f}",
            v_med < TARGET_VERIFY_MS, note=f"min {min(verify):.1f} ms, median of {len(verify)}"),
    ]
    if not quick:
        rng = np.random.default_rng(0)
        maximal_array(rng.random((256, 256)) < 0.1, 1)  # compile
        mla = [timed(maximal_array, rng.random((256, 256)) < 0.1, 1)[0] for _ in range(5)]
        out.append(row("maximal logical array 256x256 at 10 % dead (row-col d=1)", statistics.median(mla) * 1e3,
                       "ms", "< 1000", statistics.median(mla) < 1, note=f"min {min(mla) * 1e3:.0f} ms"))
        model = DefectModel(0.1, alpha=2.0, link_fraction=0.02)
        n = 20 * BLOCK_WAFERS
        t, _ = timed(simulate, wse, model, n, 7)
        peer_rate, _ = sample_and_assess(wse, model, 2048, 7, per_wafer_link_assessor(wse))
        out.append(row("MC wse row-shift with dead links (link_fraction 0.02)", n / t, "wafers/s", ">= 10,000",
                       n / t >= 10_000, peer=peer_rate, ratio=n / t / peer_rate,
                       note="peer: per-wafer exact link path"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wafers", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    wse = load_design("wse")
    batch = sample_batch(wse, DefectModel(0.1, alpha=2.0), args.wafers, np.random.default_rng(args.seed))
    plan_repair(wse, batch.wafer(0, "wse"))  # warm caches
    times, maps = time_repairs(wse, batch)
    times = [t / 1000 for t in times]
    full_ms = statistics.median(times) * 1000
    peer_s, _ = timed(naive_row_shift, wse, maps[0].defects)
    print(f"full repair, wse wafer, map materialised: {full_ms:.1f} ms (median of {len(times)}, min {min(times) * 1000:.1f}), target < {TARGET_REPAIR_MS:g} ms, "
          f"{'PASS' if full_ms < TARGET_REPAIR_MS else 'FAIL'}; peer per-site loop {peer_s * 1000:.0f} ms, ratio {peer_s * 1000 / full_ms:.0f}x")
    verify, edges = [], []
    for m in maps[:5]:
        verify_repair_map(m, wse)  # warm caches
        for _ in range(3):
            t, violations = timed(verify_repair_map, m, wse)
            assert violations == []
            verify.append(t * 1000)
            edges.append(timed(_edge_flags, *edge_pass_args(m, wse))[0] * 1000)
    v_med = statistics.median(verify)
    print(f"verify wse map: {v_med:.1f} ms (median of {len(verify)}, min {min(verify):.1f}), target < {TARGET_VERIFY_MS:g} ms, "
          f"{'PASS' if v_med < TARGET_VERIFY_MS else 'FAIL'}; of which the edge pass (reach, routes) "
          f"{statistics.median(edges):.1f} ms, the rest per-core gathers and link planes")

    rng = np.random.default_rng(args.seed)
    mla = []
    maximal_array(rng.random((256, 256)) < 0.1, 1)  # compile
    for _ in range(5):
        unusable = rng.random((256, 256)) < 0.1
        t, result = timed(maximal_array, unusable, 1)
        mla.append(t)
    t_mla = statistics.median(mla)
    print(f"maximal logical array 256x256 at 10% dead (row-col d=1): {t_mla * 1000:.1f} ms, target < 1 s, "
          f"{'PASS' if t_mla < 1 else 'FAIL'} (last: {result[1]}x{result[2]} = {result[0]} cores)")

    model = DefectModel(0.1, alpha=2.0)
    simulate(wse, model, 2048, 1)
    n = 40_960
    t, res = timed(simulate, wse, model, n, 7)
    rate = n / t
    print(f"Monte Carlo, wse row-shift (reach 2) real planner: {rate:,.0f} wafers/s, target >= 20,000, "
          f"{'PASS' if rate >= 20_000 else 'FAIL'} (yield {res.full_fabric_yield:.4f})")

    peer_assess = per_wafer_link_assessor(wse)
    for d0, n, n_peer in ((0.1, 40_960, 2048), (1.0, 8192, 256)):
        model = DefectModel(d0, alpha=2.0, link_fraction=0.02)
        t, res = timed(simulate, wse, model, n, 7)
        rate = n / t
        peer_rate, peer_out = sample_and_assess(wse, model, n_peer, 7, peer_assess)
        _, new_out = sample_and_assess(wse, model, n_peer, 7, assessor_for(wse))
        for a, b in zip(peer_out, new_out):
            assert (a.full == b.full).all() and (a.logical_cores == b.logical_cores).all()
        ratio = rate / peer_rate
        target, ok = ("10,000 wafers/s", rate >= 10_000) if d0 < 0.5 else ("10x peer", ratio >= 10)
        print(f"Monte Carlo, wse row-shift with dead links (D0={d0:g}, link_fraction=0.02): {rate:,.0f} wafers/s, "
              f"target >= {target}, {'PASS' if ok else 'FAIL'} (yield {res.full_fabric_yield:.4f}); peer per-wafer "
              f"link path {peer_rate:,.0f} wafers/s ({n_peer} wafers, same outcomes), ratio {ratio:.0f}x")


if __name__ == "__main__":
    main()
