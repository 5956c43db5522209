"""Pieces shared by the scheme planners: masks, footprints, runs, map assembly."""

from __future__ import annotations

from typing import Any

import numpy as np

from yieldkit.defect_map import DefectMap
from yieldkit.design import Design
from yieldkit.errors import InputError
from yieldkit.repair_map import RepairMap

__all__ = ["SchemeError", "column_anchor", "unusable_mask", "link_planes", "longest_runs", "make_map",
           "int_param", "first_existing"]


class SchemeError(InputError):
    """An unknown redundancy scheme or a bad scheme parameter."""


def int_param(params: dict[str, Any], key: str, default: int, scheme: str, minimum: int = 0) -> int:
    """An integer scheme parameter, checked; the message names the key."""
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value or value < minimum:
        raise SchemeError(f"redundancy.{key} of scheme '{scheme}' must be an integer >= {minimum}, got {value!r}")
    return int(value)


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


def unusable_mask(design: Design, defects: DefectMap) -> np.ndarray:
    """Dense (rows, cols) bool: the site is dead or does not exist."""
    mask = ~design.site_exists.copy()
    flat = mask.ravel()
    flat[defects.dead_sites] = True
    return mask


def link_planes(design: Design, defects: DefectMap) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The verifier's unusable-link planes (flat E/S flags and prefix sums)."""
    from yieldkit.verify import _dead_link_planes

    return _dead_link_planes(design.rows, design.cols, defects.dead_links, design.site_exists)


def longest_runs(n_items: int, bad_item: np.ndarray, bad_gap: np.ndarray) -> tuple[int, int]:
    """Longest run of consecutive good items: ``(start, length)``.

    ``bad_item[i]``: item i is unusable; ``bad_gap[i]``: items i and i + 1
    cannot be neighbours (``n_items - 1`` entries).
    """
    best_len, best_start, start = 0, 0, 0
    cut_after = np.zeros(n_items, dtype=bool)
    if n_items > 1:
        cut_after[:-1] = bad_gap
    run = 0
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
    best_len = int(lengths[k])
    best_start = int(np.flatnonzero((seg == k) & good)[0])
    del run, start
    return best_start, best_len


def make_map(design: Design, defects: DefectMap, grid: np.ndarray, *, complete: bool, reason: str,
             algorithm: str, params: dict[str, Any] | None = None) -> RepairMap:
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
