"""The Monte-Carlo yield engine: sample wafers, repair them, aggregate.

Reproducibility (NumPy SPEC 7): the wafers are cut into fixed logical blocks
of :data:`BLOCK_WAFERS`; block ``i`` draws from
``SeedSequence(seed, spawn_key=(i,))``, the i-th child of ``SeedSequence(seed)``.
Blocks are grouped into tasks for workers, and every aggregate is an integer
sum, so a run is bit-identical whatever the number of workers, the number of
blocks per task or the scheduler. Memory is constant in the number of
wafers: tasks return aggregates, never per-wafer arrays, and at most
``2 * workers`` tasks are in flight.

Local processes by default, never more than there are tasks or usable CPUs
(:func:`worker_count`); a Dask ``distributed`` scheduler when an address is
given (:func:`check_scheduler_address`). A scheduler that cannot be reached or
is lost mid-run is a :class:`~yieldkit.errors.Failure` naming its address;
running out of memory is a ``Failure`` saying what was being built.
"""

from __future__ import annotations

import hashlib
import math
import os
import pickle
import re
from numbers import Integral, Real
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from yieldkit.defects import STREAM_VERSION, DefectModel, sample_batch
from yieldkit.design import Design
from yieldkit.errors import Failure, InputError
from yieldkit.redundancy import assessor_for
from yieldkit.stats import CI_METHOD, clopper_pearson

__all__ = [
    "BLOCK_WAFERS",
    "DASK_CONNECT_TIMEOUT_S",
    "HARVEST_BINS",
    "SimulationResult",
    "Task",
    "YieldAggregate",
    "block_tasks",
    "check_run_options",
    "check_scheduler_address",
    "run_tasks",
    "simulate",
    "simulate_blocks",
    "usable_cpus",
    "worker_count",
]

#: Wafers per logical block, each block one random stream. Part of the
#: reproducibility contract: changing it changes every result.
BLOCK_WAFERS = 2048
#: Bins of the harvested-fraction histogram of degraded wafers.
HARVEST_BINS = 20
#: How long to wait for a Dask scheduler to answer [s].
DASK_CONNECT_TIMEOUT_S = 10.0


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

    def to_dict(self) -> dict[str, Any]:
        """The integer sums, flat and JSON-safe."""
        return {"wafers": self.wafers, "full": self.full, "defects": self.defects, "dead_cores": self.dead_cores,
                "dead_cores_sq": self.dead_cores_sq, "dead_links": self.dead_links,
                "logical_cores": self.logical_cores, "harvest_hist": self.harvest_hist.tolist()}

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> "YieldAggregate":
        """The aggregate :meth:`to_dict` gave."""
        fields_ = {k: int(v) for k, v in record.items() if k != "harvest_hist"}
        return cls(**fields_, harvest_hist=np.asarray(record["harvest_hist"], dtype=np.int64))

    def __repr__(self) -> str:
        return (f"YieldAggregate({self.full}/{self.wafers} full wafers, {self.defects} defects, "
                f"{self.dead_cores} dead cores)")


#: Per process: the designs seen (by content) with their assessors; see :func:`_prepared`.
_PREPARED: dict[str, tuple[Design, Callable[..., Any]]] = {}
_PREPARED_BY_ID: dict[int, tuple[Design, str]] = {}


def clear_prepared() -> None:
    """Forget the designs and assessors prepared in this process (tests that patch a scheme do this)."""
    _PREPARED.clear()
    _PREPARED_BY_ID.clear()


def _prepared(design: Design) -> tuple[Design, Callable[..., Any]]:
    """The first design of this process equal in content to ``design``, and its batch assessor.

    A task sent to a worker process or a Dask worker arrives with a fresh
    unpickled copy of its design; the per-design caches (sampling window,
    assessor tables, ``lru_cache`` keyed by the design object) would then be
    rebuilt for every task, which cost more than the task itself on ``wse``
    (a 5x slow-down with 2 processes, see ``benchmarks/bench_scaling.py``).
    Copies are recognised by the digest of their pickle, so results cannot change.
    """
    known = _PREPARED_BY_ID.get(id(design))
    if known is not None and known[0] is design and known[1] in _PREPARED:
        return _PREPARED[known[1]]
    key = hashlib.sha256(pickle.dumps(design, protocol=pickle.HIGHEST_PROTOCOL)).hexdigest()
    if key not in _PREPARED:
        if len(_PREPARED) >= 16:
            _PREPARED.clear()
            _PREPARED_BY_ID.clear()
        _PREPARED[key] = (design, assessor_for(design))
    if len(_PREPARED_BY_ID) >= 64:
        _PREPARED_BY_ID.clear()
    _PREPARED_BY_ID[id(design)] = (design, key)
    return _PREPARED[key]


_ASSESSOR_FOR = assessor_for


def simulate_blocks(design: Design, model: DefectModel, seed: int, blocks: range, n_wafers: int) -> YieldAggregate:
    """Simulate the given logical blocks of a run of ``n_wafers`` (a pure task function)."""
    design, assess = _prepared(design)
    if assessor_for is not _ASSESSOR_FOR:  # patched (tests): no cached assessor
        assess = assessor_for(design)
    total = YieldAggregate()
    for block in blocks:
        first = block * BLOCK_WAFERS
        n = min(BLOCK_WAFERS, n_wafers - first)
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
        batch = sample_batch(design, model, n, rng)
        try:
            outcome = assess(batch)
        except MemoryError as exc:
            raise Failure(f"out of memory assessing the {design.scheme} repair of {n} wafers x "
                          f"{batch.site.size / max(n, 1):.3g} dead sites on design {design.name}: "
                          f"{exc or 'no detail'}") from None
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
    """Outcome of a Monte-Carlo run, with what is needed to reproduce it.

    Attributes
    ----------
    design : str
        Design name.
    model : DefectModel
        The defect process.
    seed : int
        Root of every random stream [-].
    aggregate : YieldAggregate
        The integer sums over all wafers.
    confidence : float
        Level of the Clopper-Pearson interval [-].
    block_wafers : int
        Wafers per random stream (:data:`BLOCK_WAFERS`).
    """

    design: str
    model: DefectModel
    seed: int
    aggregate: YieldAggregate
    confidence: float
    block_wafers: int = BLOCK_WAFERS

    @property
    def wafers(self) -> int:
        """Wafers simulated [-]."""
        return self.aggregate.wafers

    @property
    def full_fabric_yield(self) -> float:
        """Fraction of wafers repaired to the full logical grid [-]."""
        return self.aggregate.full / self.aggregate.wafers

    @property
    def ci(self) -> tuple[float, float]:
        """Exact Clopper-Pearson interval of the full-fabric yield at ``confidence`` [-]."""
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
        """Mean dead core sites per wafer [-]."""
        return self.aggregate.dead_cores / self.aggregate.wafers

    @property
    def std_dead_cores(self) -> float:
        """Sample standard deviation of the dead core sites per wafer [-]."""
        n = self.aggregate.wafers
        mean = self.mean_dead_cores
        return math.sqrt(max(self.aggregate.dead_cores_sq / n - mean * mean, 0.0) * n / max(n - 1, 1))

    @property
    def mean_defects(self) -> float:
        """Mean defects placed on the usable circle per wafer [-] (D0 x usable area in expectation)."""
        return self.aggregate.defects / self.aggregate.wafers

    @property
    def mean_logical_cores(self) -> float:
        """Mean logical cores presented per wafer [-]."""
        return self.aggregate.logical_cores / self.aggregate.wafers

    def to_dict(self) -> dict[str, Any]:
        """The flat record printed by ``yieldkit simulate`` and stored by ``sweep``.

        Holds every defect-model parameter, the seed, :data:`BLOCK_WAFERS`,
        the defect stream version and the numpy version: all that is needed
        to reproduce the run bit for bit.
        """
        model = self.model.to_dict()
        return {
            "design": self.design,
            "d0_per_cm2": model.pop("d0_per_cm2"),
            "alpha": model.pop("alpha"),
            "spatial": model.pop("spatial"),
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
            **model,
            "seed": self.seed,
            "block_wafers": self.block_wafers,
            "stream_version": STREAM_VERSION,
            "numpy_version": np.__version__,
        }

    def __repr__(self) -> str:
        low, high = self.ci
        return (f"SimulationResult({self.design}, {self.model!r}: yield {self.full_fabric_yield:.4g} "
                f"[{low:.4g}, {high:.4g}] over {self.wafers} wafers, seed {self.seed})")


def block_tasks(n_wafers: int, blocks_per_task: int) -> list[range]:
    """The block ranges of the tasks of a run of ``n_wafers``, in order."""
    n_blocks = -(-n_wafers // BLOCK_WAFERS)
    return [range(start, min(start + blocks_per_task, n_blocks)) for start in range(0, n_blocks, blocks_per_task)]


_tasks = block_tasks


def _task_count(n_wafers: int, blocks_per_task: int) -> int:
    return -(-(-(-n_wafers // BLOCK_WAFERS)) // blocks_per_task)


def _wafers_in(blocks: range, n_wafers: int) -> int:
    return min(blocks.stop * BLOCK_WAFERS, n_wafers) - blocks.start * BLOCK_WAFERS


def usable_cpus() -> int:
    """CPUs this process may run on."""
    return _usable_cpus()


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(workers: int, n_wafers: int, blocks_per_task: int) -> int:
    """Local processes a run really starts: ``workers`` capped at the tasks and the usable CPUs.

    A process beyond the number of tasks would have nothing to do, and one
    beyond the CPUs this process may run on only adds start-up time and memory
    to CPU-bound work; the cap never changes a result.

    Examples
    --------
    >>> worker_count(1000, 100, 4)  # 100 wafers are one task
    1
    """
    return max(1, min(workers, _task_count(n_wafers, blocks_per_task), _usable_cpus()))


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?"
_HOST = rf"(?:\[[0-9A-Fa-f:.]+\]|{_LABEL}(?:\.{_LABEL})*)"
_NETWORK_ADDRESS = re.compile(rf"(?:(?P<scheme>tcp|tls|ws|wss|ucx)://)?{_HOST}:(?P<port>[0-9]{{1,5}})")
_INPROC_ADDRESS = re.compile(r"inproc://[^/\s]+/[0-9]+/[0-9]+")


def check_scheduler_address(address: object) -> str:
    """``address`` if it has the form of a Dask scheduler address, else :class:`InputError`.

    Accepted: ``[tcp|tls|ws|wss|ucx://]host:port`` (host a name, an IPv4
    address or a bracketed IPv6 address; port 1-65535, required: a bare word
    such as ``garbage`` is a typo far more often than a scheduler on port 8786) and the in-process
    ``inproc://host/pid/n`` of a ``LocalCluster(processes=False)``. Nothing is
    contacted.

    Examples
    --------
    >>> check_scheduler_address("tcp://10.0.0.5:8786")
    'tcp://10.0.0.5:8786'
    >>> check_scheduler_address("garbage")
    Traceback (most recent call last):
    ...
    yieldkit.errors.InputError: scheduler: must be an address like tcp://host:8786, got 'garbage'
    """
    if isinstance(address, str):
        network = _NETWORK_ADDRESS.fullmatch(address)
        if network and 1 <= int(network["port"]) <= 65535 or _INPROC_ADDRESS.fullmatch(address):
            return address
    raise InputError(f"must be an address like tcp://host:8786, got {address!r}", parameter="scheduler")


def check_run_options(n_wafers: object, seed: object, workers: object, blocks_per_task: object,
                      confidence: object, scheduler: object) -> None:
    """:class:`InputError` naming the first bad run option of :func:`simulate` (nothing is started)."""
    checks = [
        ("n_wafers", n_wafers, 1, "a positive integer"),
        ("seed", seed, 0, "a non-negative integer"),
        ("workers", workers, 1, "a positive integer"),
        ("blocks_per_task", blocks_per_task, 1, "a positive integer"),
    ]
    for name, value, least, what in checks:
        if not isinstance(value, Integral) or isinstance(value, bool) or value < least:
            raise InputError(f"must be {what}, got {value!r}", parameter=name)
    if not isinstance(confidence, Real) or not 0 < confidence < 1:
        raise InputError(f"must be in (0, 1), got {confidence!r}", parameter="confidence")
    if scheduler is not None:
        check_scheduler_address(scheduler)


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
        The wafer and its redundancy scheme.
    model : DefectModel
        The defect process.
    n_wafers : int
        Wafers to simulate [-], > 0.
    seed : int
        Root of every random stream [-], >= 0.
    workers : int
        Local worker processes [-], >= 1; 1 runs in this process. Capped at
        the number of tasks and of usable CPUs (:func:`worker_count`).
    blocks_per_task : int
        Blocks of :data:`BLOCK_WAFERS` wafers per task [-] (does not change results).
    scheduler : str, optional
        Address of a Dask distributed scheduler (:func:`check_scheduler_address`);
        overrides ``workers``.
    confidence : float
        Level of the Clopper-Pearson interval [-], in (0, 1).
    progress : callable, optional
        Called with the number of wafers finished by each completed task.

    Returns
    -------
    SimulationResult
        The same for a given seed whatever ``workers``, ``blocks_per_task``
        and ``scheduler``.

    Raises
    ------
    InputError
        A bad argument, with ``parameter`` naming it.
    Failure
        The scheduler cannot be reached or was lost, or memory ran out.

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> result = simulate(load_design("small"), DefectModel(0.5), 200, seed=1)
    >>> result.wafers, 0.0 <= result.ci_low <= result.full_fabric_yield <= result.ci_high <= 1.0
    (200, True)
    >>> simulate(load_design("small"), DefectModel(0.5), 200, seed=1, workers=8).to_dict() == result.to_dict()
    True
    """
    check_run_options(n_wafers, seed, workers, blocks_per_task, confidence, scheduler)
    model.checked_mean_defects(design)  # fail here, before any worker starts
    total = YieldAggregate()

    def done(task: Task, part: YieldAggregate) -> None:
        total.merge(part)
        if progress is not None:
            progress(_wafers_in(task.blocks, n_wafers))

    jobs = (Task(0, design, model, seed, blocks, n_wafers) for blocks in _tasks(n_wafers, blocks_per_task))
    run_tasks(jobs, worker_count(workers, n_wafers, blocks_per_task), scheduler, done)
    return SimulationResult(design.name, model, int(seed), total, float(confidence))


@dataclass(frozen=True, eq=False)
class Task:
    """One unit of work: the logical ``blocks`` of a run of ``n_wafers`` of ``design`` under ``model``.

    ``point`` tells the caller which run (grid point) it belongs to; the
    result of a task depends on nothing else, so any executor may run it,
    and run it again (a lost Dask worker), with the same aggregate.
    """

    point: int
    design: Design
    model: DefectModel
    seed: int
    blocks: range
    n_wafers: int

    @property
    def wafers(self) -> int:
        return _wafers_in(self.blocks, self.n_wafers)


def run_tasks(tasks: Iterable[Task], processes: int, scheduler: str | None,
              done: Callable[[Task, YieldAggregate], None]) -> None:
    """Run every task (:func:`simulate_blocks`) and hand each aggregate to ``done``, in completion order.

    In this process when ``processes`` is 1, else on that many local
    processes, or on the Dask scheduler at ``scheduler``; at most two tasks
    per worker are in flight, so memory does not grow with the task count.
    Aggregates are integer sums, so the completion order changes nothing.
    """
    tasks = iter(tasks)
    if scheduler is not None:
        _run_dask(scheduler, tasks, done)
    elif processes == 1:
        for task in tasks:
            done(task, _run_task(task))
    else:
        with ProcessPoolExecutor(max_workers=processes) as pool:
            pending: dict[Future[YieldAggregate], Task] = {}
            for task in tasks:
                pending[pool.submit(simulate_blocks, task.design, task.model, task.seed, task.blocks,
                                    task.n_wafers)] = task
                if len(pending) >= 2 * processes:
                    _drain(pending, done, FIRST_COMPLETED)
            _drain(pending, done, None)


def _run_task(task: Task) -> YieldAggregate:
    return simulate_blocks(task.design, task.model, task.seed, task.blocks, task.n_wafers)


def _drain(pending: dict[Future[YieldAggregate], Task], done: Callable[[Task, YieldAggregate], None],
           when: str | None) -> None:
    finished, _ = wait(pending, return_when=when or "ALL_COMPLETED")
    for future in finished:
        done(pending.pop(future), future.result())


def _run_dask(address: str, tasks: Iterator[Task], done: Callable[[Task, YieldAggregate], None]) -> None:
    """Run the tasks on a Dask distributed cluster, ``2 * threads`` in flight.

    Designs and models are sent once each (as tasks that return them). A worker
    lost mid-run costs only its unfinished tasks: the scheduler runs them
    again elsewhere (a task is a pure function of its arguments), so the
    result is the same; only a cluster that is gone, or a task that kills
    worker after worker, is a :class:`Failure`. Workers started with Dask's
    default ``MALLOC_TRIM_THRESHOLD_`` run the engine about 3x slower (every
    array above 128 KiB is a fresh mmap); the README's "Scaling" section
    gives the worker environment that avoids it.
    """
    try:
        from dask.distributed import Client, KilledWorker, as_completed
    except ImportError:
        raise InputError("a Dask scheduler needs the 'distributed' extra: pip install 'yieldkit[distributed]'",
                         parameter="scheduler") from None
    try:
        client = Client(address, timeout=f"{DASK_CONNECT_TIMEOUT_S}s")
    except (OSError, TimeoutError) as exc:
        raise Failure(f"cannot reach the Dask scheduler at {address}: {_first_line(exc)}") from None
    finished = 0
    try:
        with client:
            width = 2 * max(sum(client.nthreads().values()), 1)
            scattered: dict[int, Any] = {}
            queue = as_completed()
            owner: dict[str, Task] = {}

            def remote(obj: object) -> Any:
                # A task that returns the object, not client.scatter: a scattered value lost with its
                # worker is gone (and a broadcast to a dead worker blocks), a task's result is recomputed.
                if id(obj) not in scattered:
                    scattered[id(obj)] = (obj, client.submit(_identity, obj, pure=False))
                return scattered[id(obj)][1]

            def submit(task: Task) -> None:
                future = client.submit(simulate_blocks, remote(task.design), remote(task.model), task.seed,
                                       task.blocks, task.n_wafers, pure=False)
                owner[future.key] = task
                queue.add(future)

            for task in tasks:
                submit(task)
                if queue.count() >= width:
                    break
            for future in queue:
                task = owner.pop(future.key)
                done(task, future.result())
                finished += task.wafers
                nxt = next(tasks, None)
                if nxt is not None:
                    submit(nxt)
    except (OSError, TimeoutError, CancelledError, KilledWorker) as exc:
        raise Failure(f"lost the Dask cluster at {address} after {finished} wafers: "
                      f"{_first_line(exc)}") from None


def _identity(obj: object) -> object:
    return obj


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
