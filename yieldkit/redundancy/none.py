"""``none``: no redundancy; any dead site or dead link in the footprint kills the fabric.

The logical grid sits on the nominal footprint: physical rows
``logical_row_offset ...`` and columns ``c0 = (cols - logical_cols) // 2 ...``.
The wafer presents the full grid when no footprint site is dead and no link
between two footprint neighbours is dead (the monolithic-die baseline).

Degraded part: the largest all-good rectangle of the whole wafer (every site
alive, every internal link alive), capped at the logical grid, found row by
row with the maximal-rectangle-in-a-histogram stack algorithm, O(rows x cols).
The Monte-Carlo engine counts no harvest for ``none`` (a monolithic die with
a killer defect is scrap): ``logical_cores`` is 0 on every failing wafer.
"""

from __future__ import annotations

import numpy as np

from yieldkit.defect_map import DefectMap
from yieldkit.defects import DefectBatch
from yieldkit.design import Design
from yieldkit.repair_map import RepairMap
from yieldkit.redundancy.common import column_anchor, make_map

__all__ = ["NAME", "plan", "assessor", "footprint"]

NAME = "none"
ALGORITHM = "none/identity"


def footprint(design: Design, n_rows: int | None = None, n_cols: int | None = None,
              row0: int | None = None, col0: int | None = None) -> np.ndarray:
    """Flat physical sites of the nominal footprint, shaped like the logical grid."""
    lr = design.logical_rows if n_rows is None else n_rows
    lc = design.logical_cols if n_cols is None else n_cols
    r0 = design.logical_row_offset if row0 is None else row0
    c0 = column_anchor(design) if col0 is None else col0
    return (np.arange(lr)[:, None] + r0) * design.cols + (np.arange(lc)[None, :] + c0)


def _bad_links_in_footprint(design: Design, links: np.ndarray) -> np.ndarray:
    """Which dead links join two footprint sites."""
    r0, c0 = design.logical_row_offset, column_anchor(design)
    site, direction = np.divmod(links, 2)
    r, c = np.divmod(site, design.cols)
    inside = (r >= r0) & (r < r0 + design.logical_rows) & (c >= c0) & (c < c0 + design.logical_cols)
    east_ok = c + 1 < c0 + design.logical_cols
    south_ok = r + 1 < r0 + design.logical_rows
    return inside & np.where(direction == 0, east_ok, south_ok)


def _bad_sites_in_footprint(design: Design, sites: np.ndarray) -> np.ndarray:
    r0, c0 = design.logical_row_offset, column_anchor(design)
    r, c = np.divmod(sites, design.cols)
    return (r >= r0) & (r < r0 + design.logical_rows) & (c >= c0) & (c < c0 + design.logical_cols)


def plan(design: Design, defects: DefectMap, allow_degraded: bool = True) -> RepairMap:
    grid = footprint(design)
    missing = ~design.site_exists.ravel()[grid]
    dead_sites = int(_bad_sites_in_footprint(design, defects.dead_sites).sum())
    dead_links = int(_bad_links_in_footprint(design, defects.dead_links).sum())
    if not missing.any() and dead_sites == 0 and dead_links == 0:
        return make_map(design, defects, grid, complete=True, reason="", algorithm=ALGORITHM)
    reason = (f"no redundancy: {dead_sites} dead sites, {dead_links} dead links"
              + (f", {int(missing.sum())} missing sites" if missing.any() else "") + " in the footprint")
    if not allow_degraded:
        return make_map(design, defects, np.zeros((0, 0), np.int64), complete=False, reason=reason, algorithm=ALGORITHM)
    return make_map(design, defects, largest_good_rectangle(design, defects), complete=False, reason=reason,
                    algorithm="none/max-rectangle")


def largest_good_rectangle(design: Design, defects: DefectMap) -> np.ndarray:
    """The largest rectangle of live sites with live internal links, capped at the logical grid.

    A dead link excludes its W/N end site (conservative: the link can then not
    be internal). Maximal rectangle in a histogram, one stack pass per row.
    """
    rows, cols = design.rows, design.cols
    good = design.site_exists.copy()
    good.ravel()[defects.dead_sites] = False
    good.ravel()[defects.dead_links // 2] = False
    cap_h, cap_w = design.logical_rows, design.logical_cols
    best = (0, 0, 0, 0, 0)  # area, top, left, height, width
    height = np.zeros(cols, dtype=np.int64)
    for r in range(rows):
        height = np.where(good[r], height + 1, 0)
        h = np.minimum(height, cap_h).tolist() + [0]
        stack: list[int] = []
        for c in range(cols + 1):
            while stack and h[c] < h[stack[-1]]:
                top = stack.pop()
                left = stack[-1] + 1 if stack else 0
                width = min(c - left, cap_w)
                if h[top] * width > best[0]:
                    best = (h[top] * width, r - h[top] + 1, left, h[top], width)
            stack.append(c)
    area, top, left, hgt, wid = best
    if area == 0:
        return np.zeros((0, 0), np.int64)
    return (np.arange(hgt)[:, None] + top) * cols + (np.arange(wid)[None, :] + left)


def assessor(design: Design):  # noqa: ANN201
    from yieldkit.redundancy import BatchOutcome

    grid = footprint(design)
    static_ok = bool(design.site_exists.ravel()[grid].all())

    def assess(batch: DefectBatch) -> BatchOutcome:
        bad = np.zeros(batch.n_wafers, dtype=bool)
        bad[batch.site_wafer[_bad_sites_in_footprint(design, batch.site)]] = True
        bad[batch.link_wafer[_bad_links_in_footprint(design, batch.link)]] = True
        full = ~bad & static_ok
        return BatchOutcome(full=full, logical_cores=np.where(full, design.logical_cores, 0).astype(np.int64))

    return assess
