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

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from yieldkit.defects import DefectModel
from yieldkit.design import Design
from yieldkit.errors import InputError
from yieldkit.montecarlo import simulate
from yieldkit.outputs import atomic_path

__all__ = ["TABLE_FORMATS", "sweep", "write_table"]

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
    **simulate_options: Any,
) -> pd.DataFrame:
    """Simulate every grid point; one tidy row per point.

    Every point uses the same ``seed`` (common random numbers), so the
    differences between neighbouring points are not blurred by independent
    sampling noise.

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
        Passed to :func:`~yieldkit.montecarlo.simulate`.
    **simulate_options
        ``workers``, ``scheduler``, ``confidence``, ... for
        :func:`~yieldkit.montecarlo.simulate`.

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
    rows = []
    for n_spares in spares:
        point_design = design if n_spares is None else design.with_spares_per_row(n_spares)
        for alpha in alphas:
            for d0 in d0_per_cm2:
                model = replace(base_model, d0_per_cm2=d0, alpha=alpha)
                result = simulate(point_design, model, n_wafers, seed, progress=progress, **simulate_options)
                record = result.to_dict()
                record["spares_per_row"] = n_spares if n_spares is not None else int(point_design.spares_per_row.min())
                record["harvest_histogram"] = json.dumps(record["harvest_histogram"])
                rows.append(record)
    table = pd.DataFrame(rows)
    if "alpha" in table:
        table["alpha"] = pd.Series([r["alpha"] for r in rows], dtype=object)  # None stays None, not NaN
    return table


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
