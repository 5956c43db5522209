"""Yield over a grid of defect densities, clustering and spares per row."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from yieldkit.defects import DefectModel
from yieldkit.design import Design
from yieldkit.montecarlo import simulate

__all__ = ["sweep"]


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
    sampling noise. ``spares`` None keeps the design as it is; an integer
    gives every row ``logical_cols + spares`` physical sites
    (``Design.with_spares_per_row``).

    Returns
    -------
    pandas.DataFrame
        The fields of ``SimulationResult.to_dict`` plus ``spares_per_row``.
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
                record["harvest_histogram"] = " ".join(map(str, record["harvest_histogram"]))
                rows.append(record)
    return pd.DataFrame(rows)
