"""``none``: no redundancy; any dead site or dead link in the footprint kills the fabric.

The logical grid sits on the nominal footprint: physical rows
``logical_row_offset ...`` and columns ``c0 = (cols - logical_cols) // 2 ...``.
The wafer presents the full grid when no footprint site is dead and no link
between two footprint neighbours is dead (the monolithic-die baseline). A
dead link is mapped out at one end like in every scheme (``yieldkit.fabric``),
the end outside the footprint when there is one, so a link with an end
outside the footprint costs nothing.

Degraded part: the largest all-good rectangle of the whole wafer (every site
alive, counting mapped-out link ends as dead), capped at the logical grid,
found row by row with the maximal-rectangle-in-a-histogram stack algorithm,
O(rows x cols).
The Monte-Carlo engine counts no harvest for ``none`` (a monolithic die with
a killer defect is scrap): ``logical_cores`` is 0 on every failing wafer.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from yieldkit.defect_map import EAST, DefectMap
from yieldkit.defects import DefectBatch
from yieldkit.design import Design
from yieldkit.fabric import decode_links, map_out_links, map_out_links_batch
from yieldkit.repair_map import RepairMap
from yieldkit.redundancy.common import column_anchor, make_map
from yieldkit.redundancy.specs import SCHEMES

__all__ = ["NAME", "SPEC", "plan", "assessor", "footprint", "link_cost"]

NAME = "none"
SPEC = SCHEMES[NAME]
ALGORITHM = "none/identity"


def footprint(design: Design, n_rows: int | None = None, n_cols: int | None = None,
              row0: int | None = None, col0: int | None = None) -> np.ndarray:
    """Flat physical sites of the nominal footprint, shaped like the logical grid."""
    lr = design.logical_rows if n_rows is None else n_rows
    lc = design.logical_cols if n_cols is None else n_cols
    r0 = design.logical_row_offset if row0 is None else row0
    c0 = column_anchor(design) if col0 is None else col0
    return (np.arange(lr)[:, None] + r0) * design.cols + (np.arange(lc)[None, :] + c0)


@lru_cache(maxsize=32)
def link_cost(design: Design) -> np.ndarray:
    """Static cost of mapping out each site for a dead link: 1 in the footprint, 0 outside."""
    cost = np.zeros(design.n_sites)
    cost[footprint(design).ravel()] = 1.0
    cost.setflags(write=False)
    return cost


def _bad_links_in_footprint(design: Design, links: np.ndarray) -> np.ndarray:
    """Which dead links join two footprint sites."""
    r0, c0 = design.logical_row_offset, column_anchor(design)
    r, c, direction = decode_links(links, design.cols)
    inside = (r >= r0) & (r < r0 + design.logical_rows) & (c >= c0) & (c < c0 + design.logical_cols)
    east_ok = c + 1 < c0 + design.logical_cols
    south_ok = r + 1 < r0 + design.logical_rows
    return inside & np.where(direction == EAST, east_ok, south_ok)


def _bad_sites_in_footprint(design: Design, sites: np.ndarray) -> np.ndarray:
    r0, c0 = design.logical_row_offset, column_anchor(design)
    r, c = np.divmod(sites, design.cols)
    return (r >= r0) & (r < r0 + design.logical_rows) & (c >= c0) & (c < c0 + design.logical_cols)


def plan(design: Design, defects: DefectMap, allow_degraded: bool = True) -> RepairMap:
    """Repair one wafer: the footprint when it is whole, else the largest good rectangle (empty without
    ``allow_degraded``).

    Examples
    --------
    >>> from yieldkit.design import Design
    >>> d = Design("t", rows=8, cols=8, pitch_x_mm=1.0, pitch_y_mm=1.0, logical_rows=8, logical_cols=8,
    ...            scheme="none", scheme_params={})
    >>> m = plan(d, DefectMap(d.rows, d.cols, [3 * 8 + 3]))
    >>> m.complete, m.physical_of_logical.shape
    (False, (8, 4))
    """
    grid = footprint(design)
    missing = ~design.site_exists.ravel()[grid]
    effective = map_out_links(defects, design.site_exists.ravel(), link_cost(design))
    dead_sites = int(_bad_sites_in_footprint(design, defects.dead_sites).sum())
    dead_links = int(_bad_links_in_footprint(design, defects.dead_links).sum())
    if not missing.any() and not _bad_sites_in_footprint(design, effective.dead_sites).any():
        return make_map(design, defects, grid, complete=True, reason="", algorithm=ALGORITHM)
    reason = (f"no redundancy: {dead_sites} dead sites, {dead_links} dead links"
              + (f", {int(missing.sum())} missing sites" if missing.any() else "") + " in the footprint")
    if not allow_degraded:
        return make_map(design, defects, np.zeros((0, 0), np.int64), complete=False, reason=reason, algorithm=ALGORITHM)
    return make_map(design, defects, largest_good_rectangle(design, effective), complete=False, reason=reason,
                    algorithm="none/max-rectangle")


def largest_good_rectangle(design: Design, defects: DefectMap) -> np.ndarray:
    """The largest rectangle of live sites, capped at the logical grid.

    ``defects`` has its dead links mapped out already (no links). Maximal
    rectangle in a histogram, one stack pass per row.
    """
    rows, cols = design.rows, design.cols
    good = design.site_exists.copy()
    good.ravel()[defects.dead_sites] = False
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


def assessor(design: Design):  # noqa: ANN201 - returns an Assessor
    """Batch assessor: a wafer is full when no footprint site is dead after mapping out dead links; no harvest."""
    from yieldkit.redundancy import BatchOutcome

    grid = footprint(design)
    static_ok = bool(design.site_exists.ravel()[grid].all())
    exists, cost = design.site_exists.ravel(), link_cost(design)

    def assess(batch: DefectBatch) -> BatchOutcome:
        batch = map_out_links_batch(batch, exists, cost)
        bad = np.zeros(batch.n_wafers, dtype=bool)
        bad[batch.site_wafer[_bad_sites_in_footprint(design, batch.site)]] = True
        full = ~bad & static_ok
        return BatchOutcome(full=full, logical_cores=np.where(full, design.logical_cores, 0).astype(np.int64))

    return assess
