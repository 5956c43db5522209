"""Monte-Carlo throughput on the wse preset, clustered defects, one core.

1. The engine (``simulate``, the design's own row-shift planner, reach 2,
   default defect model, D0 0.1, alpha 2): target >= 200,000 wafers/s and at
   least 1/3 of the *bare sampling limit* measured in the same process: the
   same defect counts and positions drawn (same streams) and binned into
   rows with plain numpy, nothing else. Where the engine's time goes is
   printed too, per stage of its blocks of 2048 wafers (the sampler's
   counts and positions, which the limit draws as well, sizes, the landing
   kernel, large defects, the sort; the assessor's two kernels).
2. The row-spare check (row-shift with unlimited reach): target >= 20,000
   wafers/s. Peer: the dense simulation an engineer would first write, a
   Bernoulli draw per core per wafer, then the same row check.

    python benchmarks/bench_yield.py [--wafers 102400]
    python -m benchmarks          # every benchmark, one table
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

import numpy as np

from yieldkit import defects
from yieldkit.defects import DefectModel, sample_batch
from yieldkit.design import load_design
from yieldkit.models import site_failure_probability
from yieldkit.montecarlo import BLOCK_WAFERS, simulate
from yieldkit.redundancy import assessor_for, row_shift

TARGET_WAFERS_PER_S = 20_000
TARGET_ENGINE_WAFERS_PER_S = 200_000
TARGET_LIMIT_RATIO = 1 / 3


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


def sampling_limit(design, model, n_wafers: int, seed: int) -> float:  # noqa: ANN001
    """Peer: the bare sampling limit, wafers/s: counts and positions of the engine's streams, binned into rows.

    Per block of :data:`BLOCK_WAFERS` wafers (the engine's streams): the
    gamma-mixed mean, the Poisson count, its binomial thinning to the
    sampling window, the positions in the window, and a bincount of
    (wafer, row); no sizes, kills, links, sites or repair.
    """
    from yieldkit.window import window_for, window_points

    window = window_for(design, model.max_size_um / 2000.0)
    mean = model.mean_defects(design)
    start = time.perf_counter()
    for block in range(-(-n_wafers // BLOCK_WAFERS)):
        n = min(BLOCK_WAFERS, n_wafers - block * BLOCK_WAFERS)
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
        lam = rng.gamma(model.alpha, mean / model.alpha, size=n) if model.alpha else np.full(n, mean)
        near = rng.binomial(rng.poisson(lam), window.mass)
        wafer = np.repeat(np.arange(n, dtype=np.int64), near)
        _, y = window_points(rng, wafer.size, window)
        row = np.floor((design.y0_mm - y) / design.pitch_y_mm).astype(np.int64)
        np.bincount(wafer * (design.rows + 2) + np.clip(row + 1, 0, design.rows + 1), minlength=n * (design.rows + 2))
    return n_wafers / (time.perf_counter() - start)


#: The engine's stages, timed by wrapping these module functions: (label, module, function name).
STAGES = (
    ("counts and positions (the limit draws these too)", defects, "_positions"),
    ("sizes", defects, "sample_sizes_um"),
    ("kill / link coins", defects, "_coins"),
    ("landing kernel (site and link keys)", defects, "_landing"),
    ("large defects", defects, "_large_defect_sites"),
    ("radix sort, distinct pairs", defects, "_distinct_pairs"),
    ("assessor: shift groups kernel", row_shift, "_group_kernel"),
    ("assessor: reach pairs kernel", row_shift, "_pair_kernel"),
)


@contextmanager
def _timing(totals: dict[str, float]) -> Iterator[None]:
    """Within the block, every stage of :data:`STAGES` adds its seconds to ``totals[label]``."""
    def wrap(label: str, fn: Callable) -> Callable:
        def timed_call(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                totals[label] += time.perf_counter() - start
        return timed_call

    originals = [(module, name, getattr(module, name)) for _, module, name in STAGES]
    try:
        for (label, module, name), (_, _, fn) in zip(STAGES, originals):
            totals[label] = 0.0
            setattr(module, name, wrap(label, fn))
        yield
    finally:
        for module, name, fn in originals:
            setattr(module, name, fn)


def engine_split(design, model, n_wafers: int, seed: int) -> tuple[float, float, dict[str, float]]:  # noqa: ANN001
    """Seconds per wafer in ``sample_batch``, in the assessor, and in each of :data:`STAGES`, over the engine's blocks.

    The stages are timed on a second pass over the same blocks (the wrappers
    cost a few microseconds per call), so the two totals are unaffected.
    """
    assess = assessor_for(design)

    def blocks() -> Iterator[tuple[int, np.random.Generator]]:
        for block in range(-(-n_wafers // BLOCK_WAFERS)):
            n = min(BLOCK_WAFERS, n_wafers - block * BLOCK_WAFERS)
            yield n, np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))

    t_sample = t_assess = 0.0
    for n, rng in blocks():
        t0 = time.perf_counter()
        batch = sample_batch(design, model, n, rng)
        t1 = time.perf_counter()
        assess(batch)
        t_sample += t1 - t0
        t_assess += time.perf_counter() - t1
    stages: dict[str, float] = {}
    with _timing(stages):
        for n, rng in blocks():
            assess(sample_batch(design, model, n, rng))
    return t_sample / n_wafers, t_assess / n_wafers, {k: v / n_wafers for k, v in stages.items()}


def engine_vs_limit(design, model, n_wafers: int, repeats: int) -> tuple[list[float], list[float]]:  # noqa: ANN001
    """Wafers/s of ``simulate`` and of the bare sampling limit, ``repeats`` times each, interleaved."""
    simulate(design, model, BLOCK_WAFERS, 0)  # warm-up: numba, caches
    sampling_limit(design, model, BLOCK_WAFERS, 0)
    engine, limit = [], []
    for rep in range(repeats):  # interleaved, so both see the same load
        start = time.perf_counter()
        simulate(design, model, n_wafers, seed=3 + rep)
        engine.append(n_wafers / (time.perf_counter() - start))
        limit.append(sampling_limit(design, model, n_wafers, 3 + rep))
    return engine, limit


def rows(quick: bool = False) -> list[dict]:
    """The runner's rows (``python -m benchmarks``): engine vs sampling limit, split, row-spare check."""
    from benchmarks.common import row

    design = load_design("wse")
    model = DefectModel(0.1, alpha=2.0)
    n = 8 * BLOCK_WAFERS if quick else 40 * BLOCK_WAFERS
    engine, limit = engine_vs_limit(design, model, n, 2 if quick else 3)
    best, best_limit = max(engine), max(limit)
    ratio = best / best_limit
    t_sample, t_assess, stages = engine_split(design, model, n // 2, 5)
    per = t_sample + t_assess
    out = [
        row("MC engine, wse D0 0.1 alpha 2, row-shift reach 2, 1 core", best, "wafers/s",
            f">= {TARGET_ENGINE_WAFERS_PER_S:,}", best >= TARGET_ENGINE_WAFERS_PER_S, peer=best_limit,
            ratio=ratio, note=f"peer: bare sampling limit; ratio engine/limit, target >= 1/3: "
                              f"{'PASS' if ratio >= TARGET_LIMIT_RATIO else 'FAIL'}; best of {len(engine)}, "
                              f"median {sorted(engine)[len(engine) // 2]:,.0f}"),
        row("MC engine / sampling limit", ratio, "x", ">= 0.333", ratio >= TARGET_LIMIT_RATIO),
        row("MC engine time: sampling (sample_batch)", t_sample * 1e6, "us/wafer", "", None,
            note=f"{100 * t_sample / per:.0f} % of the engine"),
        row("MC engine time: row-shift assessor", t_assess * 1e6, "us/wafer", "", None,
            note=f"{100 * t_assess / per:.0f} % of the engine"),
    ]
    out += [row(f"MC engine time: {label}", t * 1e6, "us/wafer", "", None,
                note=f"{100 * t / per:.0f} % of the engine (timed on a second pass)")
            for label, t in stages.items()]
    spare_model = DefectModel(0.1, alpha=2.0, x0_um=0.0)
    rate, _ = sparse_row_spare(design, spare_model, n, 1)
    peer_rate, _ = dense_bernoulli(design, spare_model, 10 if quick else 50, 2)
    out.append(row("MC row-spare check (unlimited reach), wse", rate, "wafers/s", f">= {TARGET_WAFERS_PER_S:,}",
                   rate >= TARGET_WAFERS_PER_S, peer=peer_rate, ratio=rate / peer_rate,
                   note="peer: dense Bernoulli per core"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wafers", type=int, default=100_000)
    parser.add_argument("--peer-wafers", type=int, default=100)
    parser.add_argument("--d0", type=float, default=0.1)
    parser.add_argument("--alpha", type=float, default=2.0)
    args = parser.parse_args()
    design = load_design("wse")
    engine_model = DefectModel(args.d0, alpha=args.alpha)
    print(f"wse, D0={args.d0} cm^-2, alpha={args.alpha}, 1 core")
    engine, limit = engine_vs_limit(design, engine_model, args.wafers, 3)
    best, ratio = max(engine), max(engine) / max(limit)
    print(f"  engine (simulate, {design.scheme} {design.scheme_params}, default defect model): {best:,.0f} wafers/s "
          f"(target >= {TARGET_ENGINE_WAFERS_PER_S:,}: {'PASS' if best >= TARGET_ENGINE_WAFERS_PER_S else 'FAIL'}); "
          f"best of 3, median {sorted(engine)[1]:,.0f}")
    print(f"  bare sampling limit (peer): {max(limit):,.0f} wafers/s; ratio engine/limit {ratio:.3f} "
          f"(target >= 1/3: {'PASS' if ratio >= TARGET_LIMIT_RATIO else 'FAIL'})")
    t_sample, t_assess, stages = engine_split(design, engine_model, args.wafers // 2, 5)
    per = t_sample + t_assess
    print(f"  where the engine's time goes [us/wafer]: sampling {t_sample * 1e6:.2f}, assessor {t_assess * 1e6:.2f}")
    for label, t in stages.items():
        print(f"    {label:50s} {t * 1e6:6.2f}  ({100 * t / per:.0f} %)")
    model = DefectModel(args.d0, alpha=args.alpha, x0_um=0.0)
    sparse_row_spare(design, model, BLOCK_WAFERS, 0)  # warm-up (caches, imports)
    rate, y = sparse_row_spare(design, model, args.wafers, 1)
    peer_rate, peer_y = dense_bernoulli(design, model, args.peer_wafers, 2)
    print("row-spare check (unlimited reach), point defects")
    print(f"  sparse positions : {rate:12,.0f} wafers/s  (target >= {TARGET_WAFERS_PER_S:,}: "
          f"{'PASS' if rate >= TARGET_WAFERS_PER_S else 'FAIL'})  yield {y:.4f} over {args.wafers:,} wafers")
    print(f"  dense Bernoulli  : {peer_rate:12,.1f} wafers/s  (peer)                 yield {peer_y:.4f} over {args.peer_wafers:,} wafers")
    print(f"  speed-up         : {rate / peer_rate:12,.0f} x")


if __name__ == "__main__":
    main()
