"""Redundancy schemes: how a wafer's dead sites are mapped out.

``assessor_for(design)`` returns the function the Monte-Carlo engine calls
on every batch of sampled wafers; it says which wafers present the full
logical grid and how many logical cores each one presents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from yieldkit.defects import DefectBatch
from yieldkit.design import Design

__all__ = ["BatchOutcome", "Assessor", "assessor_for"]


@dataclass(frozen=True, eq=False)
class BatchOutcome:
    """What a batch of wafers presents after repair.

    Attributes
    ----------
    full : ndarray of bool, shape (n_wafers,)
        The wafer presents the design's full logical grid.
    logical_cores : ndarray of int64, shape (n_wafers,)
        Logical cores the wafer presents (``design.logical_cores`` when full,
        the degraded part's grid otherwise).
    """

    full: np.ndarray
    logical_cores: np.ndarray


Assessor = Callable[[DefectBatch], BatchOutcome]


def assessor_for(design: Design) -> Assessor:
    """The batch assessor of the design's redundancy scheme."""
    from yieldkit.redundancy.row_spares import row_spare_assessor

    return row_spare_assessor(design)
