"""``row-col(sr, sc, d)``: spare rows and columns, row bypass and column rerouting.

The classic degradable-array model (Low & Leong [1]_; Wu & Srikanthan [2]_):
the physical array has ``sr`` more rows and ``sc`` more columns than the
logical grid (``redundancy.sr``/``sc`` document the design; the planner uses
whatever rows and columns exist). A logical row is a chain of sites of one
physical row, left to right, bypassing dead and unused sites; a physical row
may be excluded altogether (its routers forward vertical traffic). A logical
column takes one site in each selected row, and consecutive sites of a
logical column differ by at most ``d`` columns (the compensation distance,
``redundancy.d``, default 1).

Algorithms
----------
* **GCR** (greedy column rerouting, [1]_): for a fixed set of rows, build the
  logical columns left to right; each is the *leftmost* path from the first
  selected row to the last through free live sites, consecutive sites within
  ``d`` columns and right of the previous logical column in every row. The
  path is found depth-first, left to right, with backtracking; a site from
  which the bottom row cannot be reached is marked blocked for good (later
  columns only face tighter bounds), so one pass is O(rows x cols x (2d+1))
  amortised (numba). Leftmost paths leave the most room to the right, which
  makes GCR optimal for a fixed row set [1]_.
* **Row exclusion** ([1]_, [2]_): start from all rows and aim at ``LC``
  columns; when GCR cannot route the next column, exclude the row where its
  deepest attempt got stuck and run GCR again. Each round's ``min(k, LR) x
  cols`` array is a candidate; the maximal logical array is the best one,
  the full repair the first with ``k >= LR`` rows and ``LC`` columns. Rows
  are only excluded because GCR fails on them, never ranked by dead sites
  (that earlier heuristic harvested 0.32 of the live cores of a 256 x 256
  array at 1 % faults; this one about 0.97, see ``benchmarks/bench_harvest.py``).
* **Quick full repair** (:func:`_quick_full`): rows without dead sites keep
  the positions of the defect-free array; a row with dead sites shifts its
  logical columns right past them. When every vertical edge stays within
  ``d`` (always, when each row's shift is at most d) the wafer is repaired
  without running GCR.
* **Local bands** (:func:`_reroute_locally`): otherwise the rows around each
  violated edge (2, then 8, then 32 rows either side) are routed afresh,
  leftmost columns pinned to the fixed rows just outside the band (GCR's
  argument with pinned ends); the rest of the array keeps its positions.
  Two dead sites in one row of a ``d = 1`` array are the common case
  (about half of the ``wse`` wafers at D0 0.1 with two spare columns); a
  band costs microseconds where GCR over the whole array costs ~4 ms.
  When the widest bands fail, GCR with row exclusion plans the wafer.
* **Exact** (``yieldkit.redundancy.row_col_ilp``): an integer linear
  programme over row selection and column routing, for small arrays only, to
  measure the gap of the heuristic.

Dead links: each takes one end site out of service (``yieldkit.fabric``, the
W or N end), so the planner plans on dead sites alone. Links that touch a
site outside the wafer can still block a route: the planner checks the
map's routes against them; a row whose chain crosses the wafer edge is
excluded, a vertical edge with no L route inside the wafer marks its lower
site unusable, and the plan is redone (a few rounds), else the wafer fails.

References
----------
.. [1] C. P. Low, H. W. Leong, "On the reconfiguration of degradable VLSI/WSI
   arrays", IEEE Trans. CAD 16(10), 1997, pp. 1213-1221.
.. [2] J. Wu, T. Srikanthan, "An improved reconfiguration algorithm for
   degradable VLSI/WSI arrays", J. Systems Architecture 49, 2003, pp. 23-31.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numba
import numpy as np

from yieldkit.defect_map import DefectMap
from yieldkit.defects import DefectBatch
from yieldkit.design import Design
from yieldkit.fabric import LinkPlanes, map_out_links, map_out_links_batch
from yieldkit.repair_map import RepairMap
from yieldkit.redundancy.common import make_map
from yieldkit.redundancy.specs import SCHEMES, resolve_scheme_params

__all__ = ["NAME", "SPEC", "gcr", "plan", "assessor", "maximal_array", "distance_of", "link_cost"]

NAME = "row-col"
SPEC = SCHEMES[NAME]
#: Rounds of re-planning around routes that the wafer edge blocks.
MAX_ROUTE_ROUNDS = 8


def distance_of(design: Design) -> int:
    """The compensation distance d [columns]; unlimited (``inf``) as the grid width, which no shift exceeds."""
    d = resolve_scheme_params(NAME, design.scheme_params)["d"]
    return design.cols if math.isinf(d) else int(d)


@lru_cache(maxsize=16)
def link_cost(design: Design) -> np.ndarray:
    """Static cost of mapping out each site for a dead link: uniform, so the W (E link) or N (S link) end goes."""
    cost = np.zeros(design.n_sites)
    cost.setflags(write=False)
    return cost


def effective_defects(design: Design, defects: DefectMap) -> DefectMap:
    """The dead sites the planner plans on: one end of every live dead link mapped out (``yieldkit.fabric``)."""
    return map_out_links(defects, design.site_exists.ravel(), link_cost(design))


@numba.njit(cache=True)
def _gcr(unusable: np.ndarray, rows: np.ndarray, d: int, max_cols: int) -> tuple[int, np.ndarray, int]:
    k = rows.size
    n = unusable.shape[1]
    pos = np.full((k, max(max_cols, 1)), -1, np.int64)
    blocked = np.zeros((k, n), np.bool_)  # unusable, or no path to the bottom row from here
    for t in range(k):
        for u in range(n):
            blocked[t, u] = unusable[rows[t], u]
    next_free = np.zeros(k, np.int64)
    path = np.zeros(k, np.int64)
    made = 0
    deepest = -1
    while made < max_cols:
        deepest = 0
        u = next_free[0]
        while u < n and blocked[0, u]:
            u += 1
        if u >= n:
            break
        path[0] = u
        t = 1
        while 0 < t < k:
            cur = path[t - 1]
            hi = min(cur + d, n - 1)
            u = max(cur - d, next_free[t])
            while u <= hi and blocked[t, u]:
                u += 1
            if u <= hi:
                path[t] = u
                t += 1
                continue
            if t > deepest:
                deepest = t
            # no site of row t joins path[t - 1]: it is a dead end; move the path right, backtracking
            while True:
                t -= 1
                blocked[t, path[t]] = True
                if t == 0:
                    u = path[0] + 1
                    while u < n and blocked[0, u]:
                        u += 1
                    if u >= n:
                        t = -1
                    else:
                        path[0] = u
                        t = 1
                    break
                hi = min(path[t - 1] + d, n - 1)
                u = path[t] + 1
                while u <= hi and blocked[t, u]:
                    u += 1
                if u <= hi:
                    path[t] = u
                    t += 1
                    break
        if t < 0:
            break
        for r in range(k):
            pos[r, made] = path[r]
            next_free[r] = path[r] + 1
        made += 1
    return made, pos, (-1 if made >= max_cols else deepest)


def gcr(unusable: np.ndarray, rows: np.ndarray, d: int, max_cols: int) -> tuple[int, np.ndarray]:
    """Greedy column rerouting over the selected physical ``rows``.

    Returns ``(n_columns, cols)`` with ``cols`` (len(rows), max_cols): the
    physical column of each logical column in each selected row (first
    ``n_columns`` valid).
    """
    made, pos, _ = _gcr_blocking(unusable, rows, d, max_cols)
    return made, pos


def _gcr_blocking(unusable: np.ndarray, rows: np.ndarray, d: int, max_cols: int) -> tuple[int, np.ndarray, int]:
    """:func:`gcr` plus the index (into ``rows``) of the row that stopped the next column (-1: none)."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    if rows.size == 0:
        return 0, np.zeros((0, max_cols), np.int64), -1
    return _gcr(np.ascontiguousarray(unusable, dtype=np.bool_), rows, int(d), int(max_cols))


def _best_array(unusable: np.ndarray, forced_out: np.ndarray, d: int, lr: int, lc: int,
                want_full: bool) -> tuple[int, np.ndarray, np.ndarray]:
    """(cores, rows, cols) of the array found by GCR with row exclusion.

    Start from every row that is not forced out; GCR aims at ``lc`` logical
    columns; when column ``m < lc`` cannot be routed, the row where its
    deepest attempt got stuck is excluded and GCR runs again. Every round's
    array ``min(k, lr) x m`` is a candidate; the search stops once ``lc``
    columns are routed or fewer rows could not beat the best candidate
    (``want_full``: once fewer than ``lr`` rows remain). With ``k > lr`` rows
    a window of ``lr`` consecutive kept rows is presented (consecutive kept
    rows keep their compensation distance).
    """
    keep = ~forced_out.copy()
    best = (0, np.zeros(0, np.int64), np.zeros((0, 0), np.int64))
    while True:
        rows = np.flatnonzero(keep)
        k = rows.size
        if k == 0 or (want_full and k < lr):
            break
        made, pos, blocking = _gcr_blocking(unusable, rows, d, lc)
        h = min(k, lr)
        if (not want_full or made >= lc) and h * made > best[0]:
            w0 = (k - h) // 2
            best = (h * made, rows[w0:w0 + h], pos[w0:w0 + h, :made])
        if made >= lc or blocking < 0:
            break
        if not want_full and min(k - 1, lr) * lc <= best[0]:
            break
        keep[rows[blocking]] = False
    return best


def _grid(cols: int, rows: np.ndarray, pos: np.ndarray) -> np.ndarray:
    return rows[:, None] * cols + pos


@lru_cache(maxsize=16)
def _static_planes(design: Design) -> LinkPlanes | None:
    """Links of the design that touch a site outside the wafer (unusable on every wafer); None when none do."""
    if design.site_exists.all():
        return None
    return LinkPlanes.build(design.rows, design.cols, exists=design.site_exists)


def _failing_edges(design: Design, rows: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logical edges of the array ``(rows, pos)`` with no L route inside the wafer (the verifier's ``dead_link``).

    Dead links have been mapped out (an end serves no core), so only the
    links of missing sites can fail. Returns ``(row_bad, bend_bad)``:
    ``row_bad`` indices i (into ``rows``) whose row chain crosses an unusable
    link; ``bend_bad`` pairs ``(i, m)``: the vertical edge of logical column m
    from selected row i to i + 1.
    """
    planes = _static_planes(design)
    empty = np.zeros(0, np.int64), np.zeros((0, 2), np.int64)
    if planes is None or pos.size == 0:
        return empty
    row_bad = np.flatnonzero(planes.row_blocked(rows, pos[:, 0], pos[:, -1]))
    if rows.size < 2:
        return row_bad, empty[1]
    r1 = np.repeat(rows[:-1], pos.shape[1])
    r2 = np.repeat(rows[1:], pos.shape[1])
    ok = planes.routes_ok(r1, pos[:-1].ravel(), r2, pos[1:].ravel())
    bad = np.flatnonzero(~ok)
    return row_bad, np.stack(np.divmod(bad, pos.shape[1]), axis=1)


@lru_cache(maxsize=16)
def _static_array(design: Design) -> tuple[np.ndarray, np.ndarray] | None:
    """``(rows, pos)`` of the defect-free full array (GCR, routes checked), or None when there is none."""
    lr, lc = design.logical_rows, design.logical_cols
    cores, rows, pos = _best_array(~design.site_exists, np.zeros(design.rows, bool), distance_of(design), lr, lc,
                                   want_full=True)
    if cores < lr * lc:
        return None
    row_bad, bend_bad = _failing_edges(design, rows, pos)
    if row_bad.size or bend_bad.size:
        return None
    rows.setflags(write=False)
    pos.setflags(write=False)
    return rows, pos


@numba.njit(cache=True)
def _shift_rows(unusable: np.ndarray, rows: np.ndarray, pos: np.ndarray, which: np.ndarray) -> np.ndarray:
    """Row-shift the static positions of the selected rows ``which`` past their unusable sites.

    Logical column m of row i goes to the first usable site at or right of
    both its static column and the previous column's new site + 1; -1 when
    the row runs out of sites.
    """
    n_cols = unusable.shape[1]
    lc = pos.shape[1]
    out = np.full((which.size, lc), -1, np.int64)
    for a in range(which.size):
        i = which[a]
        r = rows[i]
        nxt = 0
        for m in range(lc):
            u = max(pos[i, m], nxt)
            while u < n_cols and unusable[r, u]:
                u += 1
            if u >= n_cols:
                break
            out[a, m] = u
            nxt = u + 1
    return out


@numba.njit(cache=True)
def _reroute_window(unusable: np.ndarray, top: np.ndarray, bottom: np.ndarray, d: int, lc: int
                    ) -> tuple[bool, np.ndarray]:
    """Leftmost logical columns through a band of rows pinned to fixed rows above and below.

    ``unusable`` (k, n) holds the band's rows; ``top`` / ``bottom`` the
    columns of the fixed rows just above / below the band (empty: the band
    touches the array's edge there). Column m takes one usable site per row,
    right of column m - 1 in every row, consecutive sites within ``d``, the
    first within ``d`` of ``top[m]`` and the last within ``d`` of
    ``bottom[m]``. Feasible columns are closed under the pointwise minimum,
    so the depth-first, left-to-right search finds the leftmost one, which
    leaves the most room to the next column (the GCR argument of [1]_, with
    pinned ends). A site from which the band cannot be completed is marked
    for the current column only: the pins of the next column differ.

    Returns ``(ok, pos)`` with ``pos`` (k, lc) the physical column of each
    logical column in each band row (valid when ``ok``).
    """
    k, n = unusable.shape
    pos = np.full((k, lc), -1, np.int64)
    stamp = np.zeros((k, n), np.int64)  # == m + 1: no completion from here for column m
    lower = np.zeros(k, np.int64)  # leftmost allowed column in each row (right of the previous column)
    path = np.zeros(k, np.int64)
    cursor = np.zeros(k, np.int64)
    has_top = top.size > 0
    has_bottom = bottom.size > 0
    for m in range(lc):
        t = 0
        cursor[0] = 0
        while True:
            if t < 0:
                return False, pos
            lo = lower[t]
            hi = n - 1
            if t == 0:
                if has_top:
                    lo = max(lo, top[m] - d)
                    hi = min(hi, top[m] + d)
            else:
                lo = max(lo, path[t - 1] - d)
                hi = min(hi, path[t - 1] + d)
            if t == k - 1 and has_bottom:
                lo = max(lo, bottom[m] - d)
                hi = min(hi, bottom[m] + d)
            u = max(lo, cursor[t])
            while u <= hi and (unusable[t, u] or stamp[t, u] == m + 1):
                u += 1
            if u > hi:  # no site of row t continues the path: path[t - 1] is a dead end for this column
                t -= 1
                if t >= 0:
                    stamp[t, path[t]] = m + 1
                    cursor[t] = path[t] + 1
                continue
            path[t] = u
            if t == k - 1:
                break
            t += 1
            cursor[t] = 0
        for r in range(k):
            pos[r, m] = path[r]
            lower[r] = path[r] + 1
    return True, pos


#: Half-heights [rows] of the bands re-routed around a violated vertical edge, tried in turn.
LOCAL_BANDS = (2, 8, 32)


def _bands(edges: np.ndarray, half: int, n_rows: int) -> list[tuple[int, int]]:
    """Disjoint row bands ``[a, b]`` (inclusive) covering ``half`` rows around each violated edge (i, i + 1).

    Bands that overlap or touch are merged, so each band is pinned to rows
    outside every band.
    """
    bands: list[tuple[int, int]] = []
    for i in np.sort(edges).tolist():
        a, b = max(i - half + 1, 0), min(i + half, n_rows - 1)
        if bands and a <= bands[-1][1] + 1:
            bands[-1] = (bands[-1][0], max(bands[-1][1], b))
        else:
            bands.append((a, b))
    return bands


def _rows_at(pos: np.ndarray, idx: np.ndarray, new: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Positions of the array rows ``at``: ``new`` where the sorted ``idx`` changed them, else the static ``pos``."""
    out = pos[at]
    if idx.size:
        k = np.minimum(np.searchsorted(idx, at), idx.size - 1)
        mine = idx[k] == at
        out[mine] = new[k[mine]]
    return out


@numba.njit(cache=True)
def _violated_edges(pos: np.ndarray, idx: np.ndarray, new: np.ndarray, d: int) -> np.ndarray:
    """Vertical edges ``(i, i + 1)`` longer than ``d``, as sorted ``i``, among those touching a changed row.

    The array is the static ``pos`` with the sorted rows ``idx`` changed to
    ``new``; static edges are never too long. One pass over the changed
    rows and their neighbours, nothing materialised.
    """
    n_rows, lc = pos.shape
    out = np.empty(2 * idx.size, np.int64)
    k = 0
    for j in range(idx.size):
        i = idx[j]
        if i > 0 and not (j > 0 and idx[j - 1] == i - 1):  # edge (i - 1, i) with a static upper row
            for m in range(lc):
                if abs(new[j, m] - pos[i - 1, m]) > d:
                    out[k] = i - 1
                    k += 1
                    break
        if i < n_rows - 1:  # edge (i, i + 1)
            below_changed = j + 1 < idx.size and idx[j + 1] == i + 1
            for m in range(lc):
                other = new[j + 1, m] if below_changed else pos[i + 1, m]
                if abs(other - new[j, m]) > d:
                    out[k] = i
                    k += 1
                    break
    return out[:k].copy()


def _reroute_locally(design: Design, rows: np.ndarray, pos: np.ndarray, idx: np.ndarray, new: np.ndarray,
                     dead_i: np.ndarray, dead_c: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Repair the shifted array by re-routing bands of rows around its violated vertical edges.

    The array is the static ``pos`` with rows ``idx`` changed to ``new``;
    the dead sites are at array row ``dead_i`` (-1: not a static row) and
    physical column ``dead_c``.
    Each band (:data:`LOCAL_BANDS` rows above and below the violations) is
    routed afresh by :func:`_reroute_window`, pinned to the rows just outside
    it; bands grow when one fails. Returns the changed rows and their
    positions, or None when the widest bands fail (GCR with row exclusion
    plans the wafer).
    """
    lr = rows.size
    for half in LOCAL_BANDS:
        edges = _violated_edges(pos, idx, new, d)
        if edges.size == 0:
            return idx, new
        routed_idx, routed = [idx], [new]
        for a, b in _bands(edges, half, lr):  # pinned to rows outside every band: unchanged this round
            unusable = ~design.site_exists[rows[a:b + 1]]
            hit = (dead_i >= a) & (dead_i <= b)
            unusable[dead_i[hit] - a, dead_c[hit]] = True
            pins = _rows_at(pos, idx, new, np.array([a - 1, b + 1]).clip(0, lr - 1))
            ok, band = _reroute_window(unusable, pins[0] if a > 0 else pins[0, :0], pins[1] if b < lr - 1 else
                                       pins[1, :0], d, pos.shape[1])
            if ok:
                routed_idx.append(np.arange(a, b + 1))
                routed.append(band)
        # later bands override earlier rows: keep the last position given to each row
        all_idx, all_new = np.concatenate(routed_idx), np.concatenate(routed)
        idx, last = np.unique(all_idx[::-1], return_index=True)
        new = all_new[::-1][last]
    return (idx, new) if _violated_edges(pos, idx, new, d).size == 0 else None


def _quick_full(design: Design, defects: DefectMap) -> tuple[np.ndarray, np.ndarray, str] | None:
    """The quick full repair, when it exists: ``(idx, new, algorithm)``, else None.

    The repair keeps the static (defect-free) rows and positions but for the
    static-row indices ``idx``, whose positions become ``new``. Rows without
    dead sites keep their static positions; a row with dead sites shifts its
    logical columns right past them (see :func:`_shift_rows`). When every
    vertical edge stays within ``d`` (always, when each row's shift is at
    most d) that is the repair (``row-col/shift``); otherwise bands of rows
    around the violated edges are re-routed, pinned to the rows outside
    them (:func:`_reroute_locally`, ``row-col/local``). Either way every
    changed edge must keep a live L route. ``defects`` has its dead links
    mapped out already.
    """
    static = _static_array(design)
    if static is None:
        return None
    rows, pos = static
    d = distance_of(design)
    dead_r, dead_c = np.divmod(defects.dead_sites, design.cols)
    sel = np.full(design.rows, -1, np.int64)
    sel[rows] = np.arange(rows.size)
    idx = np.unique(sel[dead_r])
    idx = idx[idx >= 0]
    if idx.size == 0:
        return idx, pos[:0], "row-col/shift"
    unusable = np.zeros((idx.size, design.cols), dtype=bool)
    unusable[:] = ~design.site_exists[rows[idx]]
    local = np.searchsorted(rows[idx], dead_r)
    hit = (local < idx.size) & (rows[idx][np.minimum(local, idx.size - 1)] == dead_r)
    unusable[local[hit], dead_c[hit]] = True
    new = _shift_rows(unusable, np.arange(idx.size), pos[idx], np.arange(idx.size))
    if (new < 0).any():
        return None
    algorithm = "row-col/shift"
    if _violated_edges(pos, idx, new, d).size:
        rerouted = _reroute_locally(design, rows, pos, idx, new, sel[dead_r], dead_c, d)
        if rerouted is None:
            return None
        (idx, new), algorithm = rerouted, "row-col/local"
    planes = _static_planes(design)
    if planes is not None:
        # vertical edges touching a changed row: (i - 1, i) and (i, i + 1); the changed rows' chains
        tops = np.unique(np.concatenate([idx - 1, idx]))
        tops = tops[(tops >= 0) & (tops < rows.size - 1)]
        upper, lower = _rows_at(pos, idx, new, tops), _rows_at(pos, idx, new, tops + 1)
        n = pos.shape[1]
        if not planes.routes_ok(np.repeat(rows[tops], n), upper.ravel(), np.repeat(rows[tops + 1], n),
                                lower.ravel()).all():
            return None
        if planes.row_blocked(rows[idx], new[:, 0], new[:, -1]).any():
            return None
    return idx, new, algorithm


def _plan_arrays(design: Design, defects: DefectMap, allow_degraded: bool
                 ) -> tuple[bool, np.ndarray | None, np.ndarray | None, str, str]:
    """``(complete, rows, pos, reason, algorithm)`` of one wafer's repair, no map materialised."""
    n_links = defects.n_dead_links
    defects = effective_defects(design, defects)
    quick = _quick_full(design, defects)
    if quick is None:
        return _searched_arrays(design, defects, n_links, allow_degraded)
    rows, pos = _static_array(design)
    idx, new, algorithm = quick
    pos = pos.copy()
    pos[idx] = new
    return True, rows, pos, "", algorithm


def _searched_arrays(design: Design, defects: DefectMap, n_links: int, allow_degraded: bool
                     ) -> tuple[bool, np.ndarray | None, np.ndarray | None, str, str]:
    """:func:`_plan_arrays` when the quick repair failed: GCR with row exclusion (``defects`` has its links
    mapped out; ``n_links`` counts them for the reason)."""
    d = distance_of(design)
    lr, lc = design.logical_rows, design.logical_cols
    unusable = ~design.site_exists
    unusable.ravel()[defects.dead_sites] = True
    reason = (f"row-col(d={d}): no {lr} rows x {lc} columns array "
              f"({defects.n_dead_sites} dead or mapped-out sites, {n_links} dead links)")
    # Without routes to fix, the degraded search excludes the same rows as the full one and stops at
    # the full array when there is one: one search answers both questions.
    one_search = allow_degraded and _static_planes(design) is None
    for full_pass in (False,) if one_search else (True, False)[:1 + allow_degraded]:
        work = unusable.copy() if full_pass and allow_degraded else unusable
        out = np.zeros(design.rows, dtype=bool)
        for _ in range(MAX_ROUTE_ROUNDS):
            cores, rows, pos = _best_array(work, out, d, lr, lc, want_full=full_pass)
            if cores == 0 or (full_pass and cores < lr * lc):
                break
            row_bad, bend_bad = _failing_edges(design, rows, pos)
            if row_bad.size == 0 and bend_bad.size == 0:
                complete = cores == lr * lc
                return (complete, rows, pos, "" if complete else reason,
                        "row-col/gcr" if complete else "row-col/gcr+row-exclusion")
            out[rows[row_bad]] = True  # the row's chain crosses the wafer edge: exclude the row
            i, m = bend_bad[:, 0], bend_bad[:, 1]
            work[rows[i + 1], pos[i + 1, m]] = True  # no live L for the bend: drop its lower site
    return False, None, None, reason, "row-col/gcr"


def plan(design: Design, defects: DefectMap, allow_degraded: bool = True) -> RepairMap:
    """Repair one wafer: the full map, else the maximal logical array (an empty map without ``allow_degraded``).

    First the quick full repair (:func:`_quick_full`: rows without dead sites
    keep their defect-free positions), else GCR with row exclusion. Routes
    the wafer edge blocks: a selected row whose chain crosses it is excluded,
    a bent vertical edge without an L route inside the wafer makes its lower
    site unusable, and the array is planned again (at most
    :data:`MAX_ROUTE_ROUNDS` rounds).

    Examples
    --------
    >>> from yieldkit.design import Design
    >>> d = Design("t", rows=8, cols=9, pitch_x_mm=1.0, pitch_y_mm=1.0, logical_rows=8, logical_cols=8,
    ...            scheme="row-col", scheme_params={"d": 1})
    >>> m = plan(d, DefectMap(d.rows, d.cols, [3 * 9 + 4]))
    >>> m.complete, m.physical_of_logical.shape
    (True, (8, 8))
    """
    complete, rows, pos, reason, algorithm = _plan_arrays(design, defects, allow_degraded)
    grid = np.zeros((0, 0), np.int64) if rows is None else _grid(design.cols, rows, pos)
    return make_map(design, defects, grid, complete=complete, reason=reason, algorithm=algorithm)


def maximal_array(unusable: np.ndarray, d: int, lr: int | None = None, lc: int | None = None) -> tuple[int, int, int]:
    """Heuristic maximal logical array of a host array: ``(cores, rows, cols)``."""
    lr = unusable.shape[0] if lr is None else lr
    lc = unusable.shape[1] if lc is None else lc
    cores, rows, pos = _best_array(unusable, np.zeros(unusable.shape[0], bool), d, lr, lc, want_full=False)
    return cores, int(rows.size), int(pos.shape[1]) if cores else 0


def assessor(design: Design):  # noqa: ANN201
    """Per wafer: the planner's arrays (quick full repair, else GCR with row exclusion), no map built.

    Wafers without defects take the defect-free result without planning.
    """
    from yieldkit.redundancy import BatchOutcome

    static = plan(design, DefectMap.empty(design), allow_degraded=True)
    static_full = static.complete
    static_cores = static.logical_rows * static.logical_cols
    exists, cost = design.site_exists.ravel(), link_cost(design)

    def assess(batch: DefectBatch) -> BatchOutcome:
        nw = batch.n_wafers
        batch = map_out_links_batch(batch, exists, cost)
        full = np.full(nw, static_full)
        cores = np.full(nw, static_cores, dtype=np.int64)
        touched = np.unique(batch.site_wafer)
        for w in touched:
            wafer = batch.wafer(int(w))  # its dead links are mapped out already
            if _quick_full(design, wafer) is not None:
                continue  # the planner's first choice: a full repair, no map needed
            complete, rows, pos, _, _ = _searched_arrays(design, wafer, wafer.n_dead_links, allow_degraded=True)
            full[w] = complete
            cores[w] = 0 if rows is None else rows.size * pos.shape[1]
        return BatchOutcome(full=full, logical_cores=cores)

    return assess
