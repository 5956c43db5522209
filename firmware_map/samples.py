"""Example repair maps for tests, benchmarks and demos (not a planner).

:func:`row_shift_map` is the simplest valid repair of a row-shift design: the
logical rows sit on the central band of physical rows and, in each, the
logical cores take the live sites from left to right. It is built with numpy
only, fast enough for a ``wse``-sized wafer.
"""

from __future__ import annotations

import numpy as np

from yieldkit.defect_map import DefectMap
from yieldkit.design import Design
from yieldkit.errors import InputError
from yieldkit.repair_map import RepairMap

__all__ = ["row_shift_map", "random_dead_sites", "spare_links", "tiny_design"]


def row_shift_map(design: Design, defects: DefectMap | None = None, *, algorithm: str = "samples.row_shift") -> RepairMap:
    """Logical row ``i`` on physical row ``logical_row_offset + i``, cores on the live sites in order.

    Raises
    ------
    InputError
        A physical row of the band has fewer live sites than logical columns.
    """
    defects = defects if defects is not None else DefectMap.empty(design)
    lr, lc, off = design.logical_rows, design.logical_cols, design.logical_row_offset
    live = design.site_exists & ~defects.dead_mask()
    band = live[off : off + lr]
    rank = np.cumsum(band, axis=1)
    short = rank[:, -1] < lc
    if short.any():
        i = int(np.flatnonzero(short)[0])
        raise InputError(f"physical row {off + i} has {int(rank[i, -1])} live sites, fewer than {lc} logical columns")
    rows, cols = np.nonzero(band & (rank <= lc))
    grid = ((rows + off) * design.cols + cols).reshape(lr, lc).astype(np.int64)
    return RepairMap(
        physical_of_logical=grid,
        defects=defects,
        scheme=design.scheme,
        scheme_params=dict(design.scheme_params),
        design=design.name,
        design_fingerprint=design.fingerprint,
        complete=True,
        reason="",
        algorithm=algorithm,
    )


def random_dead_sites(design: Design, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct existing sites, uniformly at random (flat indices)."""
    existing = np.flatnonzero(design.site_exists.ravel())
    return np.sort(rng.choice(existing, size=int(n), replace=False))


def spare_links(design: Design, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` dead-link ids on links that no row-shift route of the band needs.

    S links between the spare rows above the logical band (or, without spare
    rows, E links of the last column's left neighbour in the top row are not
    safe, so this returns S links of the rows above the band only).
    """
    off = design.logical_row_offset
    if off < 2:
        return np.zeros(0, np.int64)
    exists = design.site_exists
    both = exists[: off - 1] & exists[1:off]
    r, c = np.nonzero(both)
    pick = rng.choice(r.size, size=min(int(n), r.size), replace=False)
    return np.sort(2 * (r[pick] * design.cols + c[pick]) + 1).astype(np.int64)


def tiny_design(rows: int = 8, cols: int = 10, logical_rows: int = 6, logical_cols: int = 8, reach: int = 1) -> Design:
    """A small row-shift design (all sites exist) for fuzzing and hand-made examples."""
    return Design(name="tiny", rows=rows, cols=cols, pitch_x_mm=1.0, pitch_y_mm=1.0,
                  logical_rows=logical_rows, logical_cols=logical_cols, scheme="row-shift",
                  scheme_params={"reach": reach}, description="tiny test design")
