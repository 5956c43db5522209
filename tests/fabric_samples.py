"""Repair maps for the firmware and database tests, planned by the real planner.

Every map here comes from :func:`yieldkit.repair.repair_wafer` (the planner
``yieldkit repair`` uses, checked by the independent verifier), on the shipped
designs or on :func:`tiny_design`, so that the tests exercise the maps the
tool really produces.
"""

from __future__ import annotations

import numpy as np

from yieldkit.defect_map import DefectMap
from yieldkit.design import Design
from yieldkit.repair import repair_wafer
from yieldkit.repair_map import RepairMap

__all__ = ["tiny_design", "planned_map", "random_dead_sites", "random_dead_links", "assert_same_repair_map"]


def tiny_design(rows: int = 8, cols: int = 10, logical_rows: int = 6, logical_cols: int = 8, reach: int = 1) -> Design:
    """A small row-shift design (every site exists) for fuzzing and hand-made examples."""
    return Design(name="tiny", rows=rows, cols=cols, pitch_x_mm=1.0, pitch_y_mm=1.0,
                  logical_rows=logical_rows, logical_cols=logical_cols, scheme="row-shift",
                  scheme_params={"reach": reach}, description="tiny test design")


def planned_map(design: Design, dead_sites=(), dead_links=()) -> RepairMap:
    """The planner's full repair of ``design`` with these dead sites and links (flat indices, link ids).

    Fails the test (AssertionError) when the planner cannot present the full
    logical grid or the verifier objects: pick other defects.
    """
    defects = DefectMap(design.rows, design.cols, dead_sites, dead_links, design=design.name)
    report = repair_wafer(design, defects)
    assert report.repairable, f"sample defects are not repairable on {design.name}: {report.repair_map.reason}"
    return report.repair_map


def random_dead_sites(design: Design, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct existing sites, uniformly at random (sorted flat indices)."""
    existing = np.flatnonzero(design.site_exists.ravel())
    return np.sort(rng.choice(existing, size=int(n), replace=False))


def random_dead_links(design: Design, n: int, rng: np.random.Generator, rows: range | None = None) -> np.ndarray:
    """``n`` distinct links between existing sites, uniformly at random (sorted link ids).

    With ``rows``, only links whose both ends lie in those physical rows
    (e.g. the spare rows above the logical band, where they cost no repair).
    """
    exists = design.site_exists.copy()
    if rows is not None:
        exists[np.setdiff1d(np.arange(design.rows), np.asarray(rows))] = False
    east = exists[:, :-1] & exists[:, 1:]
    south = exists[:-1, :] & exists[1:, :]
    er, ec = np.nonzero(east)
    sr, sc = np.nonzero(south)
    links = np.concatenate([2 * (er * design.cols + ec), 2 * (sr * design.cols + sc) + 1])
    return np.sort(rng.choice(links, size=int(n), replace=False)).astype(np.int64)


def assert_same_repair_map(a: RepairMap, b: RepairMap) -> None:
    """Every field of two repair maps is equal, including the defect map they were planned against."""
    assert a.physical_of_logical.dtype == b.physical_of_logical.dtype == np.int64
    assert np.array_equal(a.physical_of_logical, b.physical_of_logical)
    assert np.array_equal(a.defects.dead_sites, b.defects.dead_sites)
    assert np.array_equal(a.defects.dead_links, b.defects.dead_links)
    assert (a.defects.rows, a.defects.cols, a.defects.design) == (b.defects.rows, b.defects.cols, b.defects.design)
    fields = ("scheme", "scheme_params", "design", "design_fingerprint", "complete", "reason", "algorithm")
    assert {f: getattr(a, f) for f in fields} == {f: getattr(b, f) for f in fields}
