"""Row-spare check: a row is repairable when its dead sites do not exceed its spares.

This is row-shift repair with unlimited routing reach and no dead links:
each physical row of the logical band has ``sites_per_row - logical_cols``
spare sites, and the wafer presents the full grid when no row has more dead
sites than spares. With independent site failures its yield is the product
of binomial tails (``yieldkit.models.row_spare_yield``).
"""

from __future__ import annotations

import numpy as np

from yieldkit.defects import DefectBatch
from yieldkit.design import Design

__all__ = ["row_spare_assessor", "failing_rows"]


def failing_rows(design: Design, batch: DefectBatch) -> np.ndarray:
    """Number of logical-band rows of each wafer with more dead sites than spares."""
    band0 = design.logical_row_offset
    row = batch.site // design.cols
    in_band = (row >= band0) & (row < band0 + design.logical_rows)
    key = batch.site_wafer[in_band] * design.logical_rows + (row[in_band] - band0)
    rows_hit, dead = np.unique(key, return_counts=True)  # sparse: only rows with a dead site
    wafer, band_row = np.divmod(rows_hit, design.logical_rows)
    failing = dead > design.spares_per_row[band_row]
    return np.bincount(wafer[failing], minlength=batch.n_wafers)


def row_spare_assessor(design: Design):  # noqa: ANN201 - returns an Assessor
    """Assessor for the row-spare check; a failing row is dropped from a degraded part."""
    from yieldkit.redundancy import BatchOutcome

    def assess(batch: DefectBatch) -> BatchOutcome:
        failing = failing_rows(design, batch)
        cores = (design.logical_rows - failing).astype(np.int64) * design.logical_cols
        return BatchOutcome(full=failing == 0, logical_cores=cores)

    return assess
