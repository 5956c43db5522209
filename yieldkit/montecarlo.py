"""The Monte-Carlo yield engine: sample wafers, repair them, aggregate.

Reproducibility (NumPy SPEC 7): the wafers are cut into fixed logical blocks
of :data:`BLOCK_WAFERS`; block ``i`` draws from
``SeedSequence(seed, spawn_key=(i,))``, the i-th child of ``SeedSequence(seed)``.
Blocks are grouped into tasks for workers, and every aggregate is an integer
sum, so a run is bit-identical whatever the number of workers, the number of
blocks per task or the scheduler. Memory is constant in the number of
wafers: tasks return aggregates, never per-wafer arrays, and at most
``2 * workers`` tasks are in flight.

Local processes by default; a Dask ``distributed`` scheduler when an address
is given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from yieldkit.defects import DefectModel, sample_batch
from yieldkit.design import Design
from yieldkit.errors import InputError
from yieldkit.redundancy import assessor_for
from yieldkit.stats import CI_METHOD, clopper_pearson

__all__ = ["BLOCK_WAFERS", "HARVEST_BINS", "YieldAggregate", "SimulationResult", "simulate", "simulate_blocks"]

#: Wafers per logical block, each block one random stream. Part of the
#: reproducibility contract: changing it changes every result.
BLOCK_WAFERS = 2048
#: Bins of the harvested-fraction histogram of degraded wafers.
HARVEST_BINS = 20


@dataclass(eq=False)
class YieldAggregate:
    """Integer sums over wafers: exact, so the merge order cannot matter.

    ``harvest_hist[k]`` counts degraded wafers whose presented logical cores
    are a fraction in ``[k/HARVEST_BINS, (k+1)/HARVEST_BINS)`` of the full
    grid (the last bin closed).
    """

    wafers: int = 0
    full: int = 0
    defects: int = 0
    dead_cores: int = 0
    dead_cores_sq: int = 0
    dead_links: int = 0
    logical_cores: int = 0
    harvest_hist: np.ndarray = field(default_factory=lambda: np.zeros(HARVEST_BINS, np.int64))

    def merge(self, other: "YieldAggregate") -> "YieldAggregate":
        self.wafers += other.wafers
        self.full += other.full
        self.defects += other.defects
        self.dead_cores += other.dead_cores
        self.dead_cores_sq += other.dead_cores_sq
        self.dead_links += other.dead_links
        self.logical_cores += other.logical_cores
        self.harvest_hist = self.harvest_hist + other.harvest_hist
        return self


def simulate_blocks(design: Design, model: DefectModel, seed: int, blocks: range, n_wafers: int) -> YieldAggregate:
    """Simulate the given logical blocks of a run of ``n_wafers`` (a pure task function)."""
    assess = assessor_for(design)
    total = YieldAggregate()
    for block in blocks:
        first = block * BLOCK_WAFERS
        n = min(BLOCK_WAFERS, n_wafers - first)
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
        batch = sample_batch(design, model, n, rng)
        outcome = assess(batch)
        dead = batch.dead_per_wafer()
        degraded = outcome.logical_cores[~outcome.full]
        bins = np.minimum(degraded * HARVEST_BINS // max(design.logical_cores, 1), HARVEST_BINS - 1)
        total.merge(YieldAggregate(
            wafers=n,
            full=int(outcome.full.sum()),
            defects=int(batch.n_defects.sum()),
            dead_cores=int(dead.sum()),
            dead_cores_sq=int((dead * dead).sum()),
            dead_links=int(batch.link.size),
            logical_cores=int(outcome.logical_cores.sum()),
            harvest_hist=np.bincount(bins, minlength=HARVEST_BINS).astype(np.int64),
        ))
    return total


@dataclass(frozen=True)
class SimulationResult:
    """Outcome of a Monte-Carlo run, with what is needed to reproduce it."""

    design: str
    model: DefectModel
    seed: int
    aggregate: YieldAggregate
    confidence: float
    block_wafers: int = BLOCK_WAFERS

    @property
    def wafers(self) -> int:
        return self.aggregate.wafers

    @property
    def full_fabric_yield(self) -> float:
        return self.aggregate.full / self.aggregate.wafers

    @property
    def ci(self) -> tuple[float, float]:
        low, high = clopper_pearson(self.aggregate.full, self.aggregate.wafers, self.confidence)
        return float(low), float(high)

    @property
    def ci_low(self) -> float:
        return self.ci[0]

    @property
    def ci_high(self) -> float:
        return self.ci[1]

    @property
    def mean_dead_cores(self) -> float:
        return self.aggregate.dead_cores / self.aggregate.wafers

    @property
    def std_dead_cores(self) -> float:
        n = self.aggregate.wafers
        mean = self.mean_dead_cores
        return math.sqrt(max(self.aggregate.dead_cores_sq / n - mean * mean, 0.0) * n / max(n - 1, 1))

    @property
    def mean_defects(self) -> float:
        return self.aggregate.defects / self.aggregate.wafers

    @property
    def mean_logical_cores(self) -> float:
        return self.aggregate.logical_cores / self.aggregate.wafers

    def to_dict(self) -> dict[str, Any]:
        """The flat record printed by ``yieldkit simulate`` and stored by ``sweep``."""
        return {
            "design": self.design,
            "d0_per_cm2": self.model.d0_per_cm2,
            "alpha": self.model.alpha,
            "spatial": self.model.spatial,
            "wafers": self.wafers,
            "full_fabric_yield": self.full_fabric_yield,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "ci_method": CI_METHOD,
            "confidence": self.confidence,
            "mean_dead_cores": self.mean_dead_cores,
            "std_dead_cores": self.std_dead_cores,
            "mean_defects": self.mean_defects,
            "mean_dead_links": self.aggregate.dead_links / self.wafers,
            "mean_logical_cores": self.mean_logical_cores,
            "degraded_wafers": self.wafers - self.aggregate.full,
            "harvest_histogram": self.aggregate.harvest_hist.tolist(),
            "seed": self.seed,
            "block_wafers": self.block_wafers,
            "numpy_version": np.__version__,
        }


def _tasks(n_wafers: int, blocks_per_task: int) -> Iterator[range]:
    n_blocks = -(-n_wafers // BLOCK_WAFERS)
    for start in range(0, n_blocks, blocks_per_task):
        yield range(start, min(start + blocks_per_task, n_blocks))


def _wafers_in(blocks: range, n_wafers: int) -> int:
    return min(blocks.stop * BLOCK_WAFERS, n_wafers) - blocks.start * BLOCK_WAFERS


def simulate(
    design: Design,
    model: DefectModel,
    n_wafers: int,
    seed: int,
    *,
    workers: int = 1,
    blocks_per_task: int = 4,
    scheduler: str | None = None,
    confidence: float = 0.95,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Estimate the full-fabric yield of ``design`` under ``model``.

    Parameters
    ----------
    design : Design
    model : DefectModel
    n_wafers : int
        Wafers to simulate [-], > 0.
    seed : int
        Root of every random stream [-], >= 0.
    workers : int
        Local worker processes; 1 runs in this process.
    blocks_per_task : int
        Blocks of :data:`BLOCK_WAFERS` wafers per task (does not change results).
    scheduler : str, optional
        Address of a Dask distributed scheduler; overrides ``workers``.
    confidence : float
        Level of the Clopper-Pearson interval [-].
    progress : callable, optional
        Called with the number of wafers finished by each completed task.
    """
    if not isinstance(n_wafers, int) or n_wafers <= 0:
        raise InputError(f"wafers must be a positive integer, got {n_wafers!r}")
    if not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    if workers < 1 or blocks_per_task < 1:
        raise InputError("workers and blocks per task must be >= 1")
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be in (0, 1), got {confidence!r}")
    tasks = _tasks(n_wafers, blocks_per_task)
    total = YieldAggregate()

    def done(blocks: range, part: YieldAggregate) -> None:
        total.merge(part)
        if progress is not None:
            progress(_wafers_in(blocks, n_wafers))

    if scheduler is not None:
        _run_dask(scheduler, design, model, seed, n_wafers, tasks, done)
    elif workers == 1:
        for blocks in tasks:
            done(blocks, simulate_blocks(design, model, seed, blocks, n_wafers))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            pending: dict[Future[YieldAggregate], range] = {}
            for blocks in tasks:
                pending[pool.submit(simulate_blocks, design, model, seed, blocks, n_wafers)] = blocks
                if len(pending) >= 2 * workers:
                    _drain(pending, done, FIRST_COMPLETED)
            _drain(pending, done, None)
    return SimulationResult(design.name, model, seed, total, confidence)


def _drain(pending: dict[Future[YieldAggregate], range], done: Callable[[range, YieldAggregate], None],
           when: str | None) -> None:
    finished, _ = wait(pending, return_when=when or "ALL_COMPLETED")
    for future in finished:
        done(pending.pop(future), future.result())


def _run_dask(address: str, design: Design, model: DefectModel, seed: int, n_wafers: int,
              tasks: Iterator[range], done: Callable[[range, YieldAggregate], None]) -> None:
    """Run the tasks on a Dask distributed cluster, ``2 * workers`` in flight."""
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise InputError("a Dask scheduler needs the 'distributed' extra: pip install 'yieldkit[distributed]'") from None
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {address} ({exc})") from None
    with client:
        width = 2 * max(sum(client.nthreads().values()), 1)
        design_f, model_f = client.scatter([design, model], broadcast=True)
        queue = as_completed()
        owner: dict[str, range] = {}

        def submit(blocks: range) -> None:
            future = client.submit(simulate_blocks, design_f, model_f, seed, blocks, n_wafers, pure=False)
            owner[future.key] = blocks
            queue.add(future)

        for blocks in tasks:
            submit(blocks)
            if queue.count() >= width:
                break
        for future in queue:
            done(owner.pop(future.key), future.result())
            nxt = next(tasks, None)
            if nxt is not None:
                submit(nxt)
