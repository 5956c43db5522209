"""Yield over a grid of defect densities, clustering and spares per row.

A sweep row holds the fields of ``SimulationResult.to_dict`` with the same
types (``alpha`` None for Poisson, ``harvest_histogram`` a list of
:data:`~yieldkit.montecarlo.HARVEST_BINS` integers) plus ``spares_per_row``.
Parquet keeps these types (a nullable double, a list of int64); CSV cells are
scalars, so :func:`write_table` writes a list as its JSON text
(``[0, 3, 1, ...]``), as the CLI's CSV output of one record does, and None
as an empty cell.
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
        The fields of ``SimulationResult.to_dict`` with their types, plus
        ``spares_per_row`` (int); one row per (spares, alpha, D0), in that
        nesting order.

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> table = sweep(load_design("small"), DefectModel(0.0), [0.5, 2.0], 100, seed=1, alphas=[None, 2.0])
    >>> table[["d0_per_cm2", "alpha", "wafers"]].to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'d0_per_cm2': 0.5, 'alpha': None, 'wafers': 100}, {'d0_per_cm2': 2.0, 'alpha': None, 'wafers': 100},
     {'d0_per_cm2': 0.5, 'alpha': 2.0, 'wafers': 100}, {'d0_per_cm2': 2.0, 'alpha': 2.0, 'wafers': 100}]
    >>> type(table["harvest_histogram"][0]).__name__  # a list, as in SimulationResult.to_dict
    'list'
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
                rows.append(record)
    table = pd.DataFrame(rows)
    if "alpha" in table:
        table["alpha"] = pd.Series([r["alpha"] for r in rows], dtype=object)  # None stays None, not NaN
    return table


def write_table(table: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a sweep table to ``path`` (.csv or .parquet), atomically.

    Parquet keeps list and nullable columns as they are; CSV writes a list
    as its JSON text and None as an empty cell (module docstring).

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
    >>> table = pd.DataFrame({"alpha": [None, 2.0], "harvest_histogram": [[0, 1], [2, 3]]})
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
            encoded = table.copy()
            for column in encoded.columns:
                if encoded[column].map(lambda v: isinstance(v, list)).any():
                    encoded[column] = encoded[column].map(lambda v: json.dumps(v) if isinstance(v, list) else v)
            encoded.to_csv(tmp, index=False)
    return target
