"""Pieces shared by the scheme planners: footprints, runs, map assembly."""

from __future__ import annotations

from typing import Any

import numpy as np

from yieldkit.defect_map import DefectMap
from yieldkit.design import Design
from yieldkit.redundancy.specs import SchemeError
from yieldkit.repair_map import RepairMap

__all__ = ["SchemeError", "column_anchor", "longest_runs", "make_map", "first_existing"]


def column_anchor(design: Design, n_cols: int | None = None) -> int:
    """First physical column of the nominal (defect-free) footprint: centred [site]."""
    n = design.logical_cols if n_cols is None else n_cols
    return (design.cols - n) // 2


def first_existing(design: Design) -> np.ndarray:
    """First existing column of every physical row (``cols`` for an empty row)."""
    exists = design.site_exists
    first = np.argmax(exists, axis=1)
    first[~exists.any(axis=1)] = design.cols
    return first.astype(np.int64)


def longest_runs(n_items: int, bad_item: np.ndarray, bad_gap: np.ndarray) -> tuple[int, int]:
    """Longest run of consecutive good items: ``(start, length)``.

    ``bad_item[i]``: item i is unusable; ``bad_gap[i]``: items i and i + 1
    cannot be neighbours (``n_items - 1`` entries).
    """
    cut_after = np.zeros(n_items, dtype=bool)
    if n_items > 1:
        cut_after[:-1] = bad_gap
    # vectorised: segment ids increase at every bad item or cut
    seg_break = np.asarray(bad_item, bool).copy()
    boundary = np.zeros(n_items, dtype=bool)
    boundary[1:] = cut_after[:-1] | seg_break[:-1] | seg_break[1:]
    boundary[0] = True
    seg = np.cumsum(boundary) - 1
    good = ~seg_break
    if not good.any():
        return 0, 0
    lengths = np.bincount(seg[good], minlength=seg[-1] + 1)
    k = int(np.argmax(lengths))
    return int(np.flatnonzero((seg == k) & good)[0]), int(lengths[k])


def make_map(design: Design, defects: DefectMap, grid: np.ndarray, *, complete: bool, reason: str,
             algorithm: str, params: dict[str, Any] | None = None) -> RepairMap:
    """The repair map of ``design`` for ``grid`` (flat physical site per logical core), recording ``defects``."""
    return RepairMap(
        physical_of_logical=np.ascontiguousarray(grid, dtype=np.int64),
        defects=defects,
        scheme=design.scheme,
        scheme_params=dict(design.scheme_params if params is None else params),
        design=design.name,
        design_fingerprint=design.fingerprint,
        complete=complete,
        reason=reason,
        algorithm=algorithm,
    )
