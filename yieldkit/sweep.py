"""Yield over a grid of defect densities, clustering and spares per row.

A sweep row holds the fields of ``SimulationResult.to_dict`` with the same
names and values, plus ``spares_per_row``. Every cell is a scalar, so that
CSV and Parquet store the table alike and read it back equal: ``alpha`` is
None for Poisson (an empty CSV cell, a Parquet null), as in ``simulate``; the
one list of a record, ``harvest_histogram``, is held as its JSON text
(``"[0, 3, 1, ...]"``, what the CLI prints for a list in a CSV cell), and
``json.loads`` of it is the list ``simulate`` reports.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from yieldkit.defects import STREAM_VERSION, DefectModel
from yieldkit.design import Design
from yieldkit.errors import InputError
from yieldkit.montecarlo import (
    BLOCK_WAFERS,
    SimulationResult,
    Task,
    YieldAggregate,
    block_tasks,
    check_run_options,
    run_tasks,
    usable_cpus,
)
from yieldkit.outputs import atomic_path

__all__ = ["TABLE_FORMATS", "Checkpoint", "checkpoint_path", "run_parameters", "sweep", "write_table"]

#: File suffixes :func:`write_table` writes.
TABLE_FORMATS = (".csv", ".parquet")


def sweep(
    design: Design,
    base_model: DefectModel,
    d0_per_cm2: Sequence[float],
    n_wafers: int,
    seed: int,
    *,
    alphas: Sequence[float | None] = (None,),
    spares: Sequence[int | None] = (None,),
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    confidence: float = 0.95,
    blocks_per_task: int = 4,
    checkpoint: str | os.PathLike[str] | None = None,
    resume: bool = False,
) -> pd.DataFrame:
    """Simulate every grid point; one tidy row per point.

    Every point uses the same ``seed`` (common random numbers), so the
    differences between neighbouring points are not blurred by independent
    sampling noise. The tasks of all points (blocks of
    ``yieldkit.montecarlo``) go to one pool of workers or one Dask
    scheduler, so a grid keeps every worker busy; each point's row is the
    same as a ``simulate`` of it alone, whatever the workers or scheduler.

    Parameters
    ----------
    design : Design
        The wafer and its redundancy scheme.
    base_model : DefectModel
        The defect process; each point replaces its D0 and alpha.
    d0_per_cm2 : sequence of float
        Defect densities [cm^-2].
    n_wafers : int
        Wafers per point [-].
    seed : int
        Root random seed, the same for every point [-].
    alphas : sequence of float or None
        Negative-binomial clustering parameters [-]; None is Poisson.
    spares : sequence of int or None
        Spare sites per row [-]; None keeps the design as it is, an integer
        gives every row ``logical_cols + spares`` physical sites
        (``Design.with_spares_per_row``).
    progress : callable, optional
        Called with the wafers of every finished task (and of every task
        taken from the checkpoint).
    workers, scheduler, confidence, blocks_per_task
        As for :func:`~yieldkit.montecarlo.simulate`.
    checkpoint : path, optional
        Folder where every finished task's aggregate is stored (one small
        file each, written atomically) together with the run's parameters
        (:class:`Checkpoint`); a killed sweep run again with ``resume``
        computes only the missing tasks. Not removed here (the caller removes
        it once the table is safely written).
    resume : bool
        Continue from ``checkpoint``; a checkpoint of other parameters is an
        :class:`InputError`. Without it an existing checkpoint is replaced.

    Returns
    -------
    pandas.DataFrame
        The fields of ``SimulationResult.to_dict`` (lists as JSON text, see
        the module docstring), plus ``spares_per_row`` (int); one row per
        (spares, alpha, D0), in that nesting order.

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> table = sweep(load_design("small"), DefectModel(0.0), [0.5, 2.0], 100, seed=1, alphas=[None, 2.0])
    >>> table[["d0_per_cm2", "alpha", "wafers"]].to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'d0_per_cm2': 0.5, 'alpha': None, 'wafers': 100}, {'d0_per_cm2': 2.0, 'alpha': None, 'wafers': 100},
     {'d0_per_cm2': 0.5, 'alpha': 2.0, 'wafers': 100}, {'d0_per_cm2': 2.0, 'alpha': 2.0, 'wafers': 100}]
    >>> len(json.loads(table["harvest_histogram"][0]))  # the list of SimulationResult.to_dict
    20
    """
    check_run_options(n_wafers, seed, workers, blocks_per_task, confidence, scheduler)
    points: list[tuple[int | None, Design, DefectModel]] = []
    for n_spares in spares:
        point_design = design if n_spares is None else design.with_spares_per_row(n_spares)
        for alpha in alphas:
            for d0 in d0_per_cm2:
                model = replace(base_model, d0_per_cm2=d0, alpha=alpha)
                model.checked_mean_defects(point_design)  # fail here, before any worker starts
                points.append((n_spares, point_design, model))
    totals = [YieldAggregate() for _ in points]
    store = None
    if checkpoint is not None:
        store = Checkpoint.open(checkpoint, run_parameters(points, n_wafers, seed, blocks_per_task), resume=resume)

    def done(task: Task, part: YieldAggregate) -> None:
        if store is not None:
            store.save(task.point, task.blocks, part)
        totals[task.point].merge(part)
        if progress is not None:
            progress(task.wafers)

    def pending() -> Iterator[Task]:
        for index, (_, point_design, model) in enumerate(points):
            for blocks in block_tasks(n_wafers, blocks_per_task):
                task = Task(index, point_design, model, seed, blocks, n_wafers)
                stored = store.load(index, blocks) if store is not None else None
                if stored is None:
                    yield task
                else:
                    totals[index].merge(stored)
                    if progress is not None:
                        progress(task.wafers)

    n_tasks = len(points) * len(block_tasks(n_wafers, blocks_per_task))
    run_tasks(pending(), max(1, min(workers, n_tasks, usable_cpus())), scheduler, done)
    rows = []
    for (n_spares, point_design, model), total in zip(points, totals):
        record = SimulationResult(point_design.name, model, int(seed), total, float(confidence)).to_dict()
        record["spares_per_row"] = n_spares if n_spares is not None else int(point_design.spares_per_row.min())
        record["harvest_histogram"] = json.dumps(record["harvest_histogram"])
        rows.append(record)
    table = pd.DataFrame(rows)
    if "alpha" in table:
        table["alpha"] = pd.Series([r["alpha"] for r in rows], dtype=object)  # None stays None, not NaN
    return table


def run_parameters(points: Sequence[tuple[int | None, Design, DefectModel]], n_wafers: int, seed: int,
                   blocks_per_task: int) -> dict[str, Any]:
    """Everything a sweep's aggregates depend on (what a checkpoint must match to be resumed)."""
    return {
        "points": [{"design": d.name, "fingerprint": d.fingerprint, "model": m.to_dict()} for _, d, m in points],
        "wafers": int(n_wafers),
        "seed": int(seed),
        "block_wafers": BLOCK_WAFERS,
        "blocks_per_task": int(blocks_per_task),
        "stream_version": STREAM_VERSION,
        "numpy_version": np.__version__,
    }


class Checkpoint:
    """The finished tasks of a sweep, one small JSON file each, in a folder beside the output.

    ``run.json`` holds the run's parameters (:func:`run_parameters`) and
    their SHA-256; each task's aggregate is ``p<point>-b<first>-<stop>.json``.
    Every file is written to a temporary name in the folder, flushed to disk
    and renamed, so a process killed at any moment leaves either the whole
    file or none (stray temporaries are ignored and removed on resume).
    """

    RUN_FILE = "run.json"

    def __init__(self, folder: Path, digest: str) -> None:
        self.folder = folder
        self.digest = digest

    @classmethod
    def open(cls, folder: str | os.PathLike[str], parameters: dict[str, Any], *, resume: bool) -> "Checkpoint":
        """The checkpoint at ``folder`` for a run of ``parameters``: resumed, or started afresh.

        Raises
        ------
        InputError
            ``resume`` and the folder holds a checkpoint of other parameters
            (or one that cannot be read).
        """
        path = Path(folder)
        text = json.dumps(parameters, sort_keys=True, default=str)
        digest = hashlib.sha256(text.encode()).hexdigest()
        run_file = path / cls.RUN_FILE
        if resume and path.is_dir() and run_file.exists():
            try:
                stored = json.loads(run_file.read_text())["sha256"]
            except (OSError, ValueError, KeyError, TypeError):
                stored = None
            if stored != digest:
                raise InputError(f"the checkpoint {str(path)!r} is of a run with other parameters (design, grid, "
                                 f"wafers, seed or stream version); delete it or run without --resume",
                                 parameter="resume")
            for stray in path.glob(".*.tmp"):
                stray.unlink(missing_ok=True)
            return cls(path, digest)
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        store = cls(path, digest)
        store._write(cls.RUN_FILE, {"sha256": digest, "parameters": parameters})
        return store

    def _name(self, point: int, blocks: range) -> str:
        return f"p{point}-b{blocks.start}-{blocks.stop}.json"

    def _write(self, name: str, record: dict[str, Any]) -> None:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(record, handle, default=str)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.folder / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def save(self, point: int, blocks: range, aggregate: YieldAggregate) -> None:
        """Store the aggregate of one finished task (atomically)."""
        self._write(self._name(point, blocks), {"sha256": self.digest, "aggregate": aggregate.to_dict()})

    def load(self, point: int, blocks: range) -> YieldAggregate | None:
        """The stored aggregate of a task, or None when it has not finished."""
        try:
            record = json.loads((self.folder / self._name(point, blocks)).read_text())
        except FileNotFoundError:
            return None
        if record.get("sha256") != self.digest:
            return None
        return YieldAggregate.from_dict(record["aggregate"])

    def remove(self) -> None:
        """Delete the checkpoint (once the final table is in place)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def checkpoint_path(output: str | os.PathLike[str]) -> Path:
    """The checkpoint folder of a sweep writing ``output``: ``<output>.partial`` beside it."""
    target = Path(output)
    return target.with_name(target.name + ".partial")


def write_table(table: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a sweep table to ``path`` (.csv or .parquet), atomically.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`sweep` table.
    path : str or path-like
        The file; its suffix picks the format.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InputError
        The suffix is neither .csv nor .parquet (``parameter="path"``).
    yieldkit.outputs.OutputError
        The file could not be written; an existing file is unchanged.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> table = pd.DataFrame({"alpha": [None, 2.0], "harvest_histogram": ["[0, 1]", "[2, 3]"]})
    >>> path = write_table(table, pathlib.Path(tempfile.mkdtemp()) / "t.csv")
    >>> print(path.read_text().strip())
    alpha,harvest_histogram
    ,"[0, 1]"
    2.0,"[2, 3]"
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise InputError(f"must end in {' or '.join(TABLE_FORMATS)}, got {str(target)!r}", parameter="path")
    with atomic_path(target) as tmp:
        if suffix == ".parquet":
            table.to_parquet(tmp, index=False)
        else:
            table.to_csv(tmp, index=False)
    return target
