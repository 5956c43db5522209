"""``row-shift(reach)``: logical cores take the live sites of their row in order.

Model
-----
Logical row ``r`` lives on physical row ``logical_row_offset + r`` (the band).
Its ``n = logical_cols`` logical cores take the row's live sites (existing
and not dead) in column order, starting at live rank ``a``: with no defects
``a`` puts logical column ``c`` at the centred physical column ``c0 + c``
(``c0 = (cols - n) // 2``, so spares sit at both ends of the row); every dead
site shifts the cores right of it one site further right, and when the row
runs out of sites on the right the whole row slides left (``a`` is clamped
to ``[0, L - n]`` with ``L`` the row's live sites). A row is repairable when
``L >= n``, i.e. its dead sites do not exceed its spares.

Horizontal logical edges bypass dead sites along the row; vertical edges join
rows ``r`` and ``r + 1`` at columns that may differ by up to ``reach``
(``redundancy.reach``; absent or ``"inf"`` = unlimited). A dead link takes
one of its end sites out of service (``yieldkit.fabric``: the end in the
row with more spares, or outside the band; the W end of an E link), so it
costs at most one spare; every logical edge then needs an L route that
avoids the wafer edge (see ``yieldkit.verify``).

Shift function: with the row's dead columns ``x_0 < x_1 < ...`` and
``s = first + a - c0`` (``first`` the row's first existing column), logical
column ``c`` (nominal column ``t = c0 + c``) lands at ``t + delta(t)`` with
``delta(t) = s + #{i : x_i - i - s <= t}``. Two rows violate the reach where
their deltas differ by more than ``reach``; the deltas are step functions,
so only their breakpoints need checking. The batch assessor evaluates them
sparsely (only rows with dead sites), which is what makes the Monte Carlo
fast.

A wafer that cannot be fully repaired gets the **maximal logical array** of
the scheme: a run of consecutive physical rows (any rows of the wafer, not
only the band) and a number of logical columns ``n' <= n`` (centred anchor)
for which every row and every adjacent pair is repairable, maximising
``rows x n'``; candidate ``n'`` values are ``n`` and a descending ladder.
The Monte-Carlo harvest of a degraded wafer uses ``n' = n`` only (the longest
run of repairable band rows), a lower bound on the planner's part.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numba
import numpy as np

from yieldkit.defect_map import DefectMap
from yieldkit.defects import DefectBatch, sorted_unique
from yieldkit.design import Design
from yieldkit.fabric import LinkPlanes, map_out_links, map_out_links_batch
from yieldkit.repair_map import RepairMap
from yieldkit.redundancy.common import column_anchor, first_existing, longest_runs, make_map
from yieldkit.redundancy.specs import SCHEMES, scheme_reach

__all__ = ["NAME", "reach_of", "plan", "assessor", "row_positions", "check_rows"]

NAME = "row-shift"
SPEC = SCHEMES[NAME]
ALGORITHM = "row-shift/rank"


def reach_of(design: Design) -> float:
    """The design's routing reach [columns] (``inf`` = unlimited)."""
    return scheme_reach(NAME, design.scheme_params)


@lru_cache(maxsize=32)
def link_cost(design: Design) -> np.ndarray:
    """Static cost of mapping out each site for a dead link (see ``yieldkit.fabric``).

    Sites outside the logical band cost nothing; a band site costs less the
    more spares its row has, so a dead S link takes the end in the row with
    more spares (or outside the band). The two ends of an E link tie: the W
    end is mapped out.
    """
    cost = np.full((design.rows, design.cols), -1e9)
    off, lr = design.logical_row_offset, design.logical_rows
    cost[off:off + lr] = -design.spares_per_row[:, None].astype(np.float64)
    cost = cost.ravel()
    cost.setflags(write=False)
    return cost


def effective_defects(design: Design, defects: DefectMap) -> DefectMap:
    """The dead sites the planner plans on: ``defects`` with one end of every live dead link mapped out."""
    return map_out_links(defects, design.site_exists.ravel(), link_cost(design))


def row_positions(unusable_rows: np.ndarray, c0: int, n: int, exists_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Physical columns of the ``n`` logical cores of each row.

    The start rank is balanced: ``a = clip(live_left - k // 2, 0, L - n)``
    with ``live_left`` the live sites left of ``c0`` and ``k`` the dead
    (existing) sites at or right of ``c0``, so a row's shifts run from about
    ``-k/2`` to ``+k/2`` around the nominal columns instead of ``0..k``.

    Parameters
    ----------
    unusable_rows : bool array (k, cols)
        Dead or missing sites of k physical rows.
    exists_rows : bool array (k, cols)
        Existing sites of the same rows.
    c0 : int
        Nominal first column [site].
    n : int
        Logical cores per row [-].

    Returns
    -------
    ok : bool array (k,)
        The row has at least n live sites.
    cols : int64 array (k, n)
        Column of each logical core (-1 in rows that are not ok).
    """
    live = ~unusable_rows
    k, width = live.shape
    count = live.sum(axis=1)
    left = live[:, :max(c0, 0)].sum(axis=1)
    dead_right = (unusable_rows[:, max(c0, 0):] & exists_rows[:, max(c0, 0):]).sum(axis=1)
    ok = count >= n
    a = np.clip(left - dead_right // 2, 0, np.maximum(count - n, 0))
    flat = np.flatnonzero(live)
    starts = np.cumsum(count) - count
    out = np.full((k, n), -1, dtype=np.int64)
    if n == 0 or not ok.any():
        return ok, out
    rows_ok = np.flatnonzero(ok)
    idx = (starts[rows_ok] + a[rows_ok])[:, None] + np.arange(n)[None, :]
    out[rows_ok] = flat[idx] % width
    return ok, out


def check_rows(unusable: np.ndarray, exists: np.ndarray, planes: LinkPlanes, rows: np.ndarray, n: int, c0: int,
               reach: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Which of ``rows`` (sorted physical rows) and adjacent pairs cannot be repaired.

    ``unusable`` (k, cols) and ``planes`` (the links that touch a site
    outside the wafer, see :func:`local_grid`) describe exactly these k rows,
    in order: row ``j`` of them is physical row ``rows[j]``, and the S links
    of row ``j`` lead to physical row ``rows[j] + 1``.
    Returns ``(row_bad, pair_bad, cols, reasons)``: ``pair_bad[j]`` concerns
    ``rows[j]`` and ``rows[j + 1]`` and is only set when they are adjacent
    physical rows; ``cols`` are the rows' positions (see :func:`row_positions`).
    """
    ok, pos = row_positions(unusable, c0, n, exists)
    reasons: list[str] = []
    row_bad = ~ok
    for j in np.flatnonzero(row_bad)[:1]:
        reasons.append(f"physical row {int(rows[j])} has {int((~unusable[j]).sum())} live sites, fewer than {n}")
    if ok.any() and n > 1:
        j = np.flatnonzero(ok)
        span_dead = planes.row_blocked(j, pos[j, 0], pos[j, -1])
        if span_dead.any():
            row_bad[j[span_dead]] = True
            reasons.append(f"physical row {int(rows[j[span_dead][0]])}: the row's logical chain crosses the wafer edge")
    pair_bad = np.zeros(max(rows.size - 1, 0), dtype=bool)
    if rows.size > 1:
        adj = np.flatnonzero((rows[1:] == rows[:-1] + 1) & ok[:-1] & ok[1:])
        if adj.size:
            j1 = np.repeat(adj, n)
            c1 = pos[adj].ravel()
            c2 = pos[adj + 1].ravel()
            bad = np.abs(c2 - c1) > reach
            if bad.any():
                first = int(np.flatnonzero(bad)[0])
                reasons.append(f"physical rows {int(rows[j1[first]])}/{int(rows[j1[first]]) + 1}: logical column "
                               f"{first % n} bends {abs(int(c2[first] - c1[first]))} > reach {reach:g}")
            routed = planes.routes_ok(j1, c1, j1 + 1, c2)
            if not routed.all():
                first = int(np.flatnonzero(~routed)[0])
                reasons.append(f"physical rows {int(rows[j1[first]])}/{int(rows[j1[first]]) + 1}: logical column "
                               f"{first % n} has no live L route")
            bad |= ~routed
            pair_bad[adj] = bad.reshape(adj.size, n).any(axis=1)
    return row_bad, pair_bad, pos, reasons


def local_grid(design: Design, defects: DefectMap, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, LinkPlanes]:
    """``(unusable, exists, planes)`` of the physical ``rows`` only (see :func:`check_rows`).

    ``defects`` has no dead links (see :func:`effective_defects`); the planes
    hold the links that touch a site outside the wafer, the S links of row
    ``j`` leading to physical row ``rows[j] + 1``.
    """
    cols = design.cols
    unusable = ~design.site_exists[rows]
    site_row = defects.dead_sites // cols
    j = np.searchsorted(rows, site_row)
    hit = (j < rows.size) & (rows[np.minimum(j, rows.size - 1)] == site_row)
    unusable[j[hit], defects.dead_sites[hit] % cols] = True
    exists = design.site_exists[rows]
    below = np.minimum(rows + 1, design.rows - 1)
    next_exists = design.site_exists[below] & (rows + 1 < design.rows)[:, None]
    east = np.zeros(exists.shape, dtype=bool)
    east[:, :-1] = ~exists[:, :-1] | ~exists[:, 1:]
    south = ~exists | ~next_exists
    return unusable, exists, LinkPlanes.of(east, south)


@lru_cache(maxsize=32)
def _nominal_positions(design: Design) -> np.ndarray:
    """Columns (logical_rows, logical_cols) of the band's cores on a defect-free wafer (cached, read-only)."""
    off, lr = design.logical_row_offset, design.logical_rows
    exists = design.site_exists[off:off + lr]
    pos = row_positions(~exists, column_anchor(design), design.logical_cols, exists)[1]
    pos.setflags(write=False)
    return pos


@lru_cache(maxsize=32)
def _static_ok(design: Design) -> bool:
    """The defect-free design presents its full grid (cached per design object)."""
    band = np.arange(design.logical_rows) + design.logical_row_offset
    unusable, exists, planes = local_grid(design, DefectMap.empty(design), band)
    row_bad, pair_bad, _, _ = check_rows(unusable, exists, planes, band, design.logical_cols, column_anchor(design),
                                         reach_of(design))
    return not (row_bad.any() or pair_bad.any())


def _affected_rows(design: Design, defects: DefectMap) -> np.ndarray:
    """Rows with a dead site and their neighbours (``defects`` without links)."""
    hit = np.unique(defects.dead_sites // design.cols)
    near = np.unique(np.concatenate([hit - 1, hit, hit + 1]))
    return near[(near >= 0) & (near < design.rows)]


def band_failures(design: Design, defects: DefectMap) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Band rows (0-based logical) that fail and adjacent band pairs that fail, with reasons."""
    defects = effective_defects(design, defects)
    lr, off = design.logical_rows, design.logical_row_offset
    if _static_ok(design):
        rows = _affected_rows(design, defects)
        rows = rows[(rows >= off) & (rows < off + lr)]
    else:
        rows = np.arange(lr) + off
    if rows.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), []
    unusable, exists, planes = local_grid(design, defects, rows)
    row_bad, pair_bad, _, reasons = check_rows(unusable, exists, planes, rows, design.logical_cols, column_anchor(design),
                                               reach_of(design))
    return rows[row_bad] - off, rows[:-1][pair_bad] - off, reasons


def plan(design: Design, defects: DefectMap, allow_degraded: bool = True) -> RepairMap:
    """Repair one wafer: the full map, else the maximal logical array (an empty map without ``allow_degraded``).

    Examples
    --------
    >>> from yieldkit.design import Design
    >>> d = Design("t", rows=8, cols=10, pitch_x_mm=1.0, pitch_y_mm=1.0, logical_rows=8, logical_cols=8,
    ...            scheme="row-shift", scheme_params={"reach": 1})
    >>> m = plan(d, DefectMap(d.rows, d.cols, [3 * 10 + 4]))
    >>> m.complete, m.physical_of_logical.shape
    (True, (8, 8))
    """
    bad_rows, bad_pairs, reasons = band_failures(design, defects)
    n, lr, off, cols = design.logical_cols, design.logical_rows, design.logical_row_offset, design.cols
    if bad_rows.size == 0 and bad_pairs.size == 0:
        # rows without dead sites keep their defect-free positions; only the others are placed again
        pos = _nominal_positions(design).copy()
        dead = effective_defects(design, defects).dead_sites
        dead = dead[(dead >= off * cols) & (dead < (off + lr) * cols)]
        hit = np.unique(dead // cols)
        if hit.size:
            unusable = ~design.site_exists[hit]
            unusable[np.searchsorted(hit, dead // cols), dead % cols] = True
            pos[hit - off] = row_positions(unusable, column_anchor(design), n, design.site_exists[hit])[1]
        rows = np.arange(lr) + off
        return make_map(design, defects, rows[:, None] * cols + pos, complete=True, reason="", algorithm=ALGORITHM)
    reason = (f"{bad_rows.size} band rows and {bad_pairs.size} adjacent row pairs cannot be repaired"
              + (f" ({'; '.join(reasons[:2])})" if reasons else ""))
    if not allow_degraded:
        return make_map(design, defects, np.zeros((0, 0), np.int64), complete=False, reason=reason,
                        algorithm=ALGORITHM)
    grid = maximal_array(design, defects)
    return make_map(design, defects, grid, complete=False, reason=reason, algorithm=ALGORITHM + "+maximal")


def _ladder(n: int) -> list[int]:
    values = {n}
    step = 1
    while step < n:
        values.add(n - step)
        step *= 2
    values.update(int(round(n * f)) for f in np.linspace(0.95, 0.05, 19))
    return sorted((v for v in values if v >= 1), reverse=True)


def maximal_array(design: Design, defects: DefectMap) -> np.ndarray:
    """The largest (rows x n') logical grid over consecutive physical rows."""
    reach = reach_of(design)
    all_rows = np.arange(design.rows)
    unusable, exists, planes = local_grid(design, effective_defects(design, defects), all_rows)
    best = (0, 0, 0, None)  # cores, n', start, pos
    for n_cols in _ladder(design.logical_cols):
        if n_cols * design.logical_rows <= best[0]:
            break
        row_bad, pair_bad, pos, _ = check_rows(unusable, exists, planes, all_rows, n_cols, column_anchor(design, n_cols), reach)
        start, length = longest_runs(design.rows, row_bad, pair_bad)
        height = min(length, design.logical_rows)
        if height * n_cols > best[0]:
            best = (height * n_cols, n_cols, start, pos)
    cores, n_cols, start, pos = best
    if cores == 0:
        return np.zeros((0, 0), np.int64)
    height = cores // n_cols
    rows = np.arange(start, start + height)
    return rows[:, None] * design.cols + pos[rows]


# -- the Monte-Carlo batch assessor -------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class _Band:
    """What the batch assessor needs of a design's logical band (static, per design).

    ``spr``, ``first``: existing sites and first existing column of each band
    row; ``nominal_left``: existing sites left of ``c0``; ``s0``: the shift of
    a row without dead sites (its start rank is ``a0``).
    """

    lr: int
    off: int
    n: int
    cols: int
    c0: int
    reach: float
    spr: np.ndarray
    first: np.ndarray
    nominal_left: np.ndarray
    s0: np.ndarray

    @classmethod
    def of(cls, design: Design) -> "_Band":
        lr, off, n = design.logical_rows, design.logical_row_offset, design.logical_cols
        c0 = column_anchor(design)
        spr = design.sites_per_row[off:off + lr].astype(np.int64)
        first = first_existing(design)[off:off + lr]
        nominal_left = np.maximum(c0 - first, 0)
        s0 = first + np.clip(nominal_left, 0, np.maximum(spr - n, 0)) - c0
        return cls(lr, off, n, design.cols, c0, reach_of(design), spr, first, nominal_left, s0)


@numba.njit(cache=True, nogil=True)
def _group_kernel(site_wafer: np.ndarray, site: np.ndarray, lr: int, off: int, cols: int, c0: int, n: int,
                  spr: np.ndarray, first: np.ndarray, nominal_left: np.ndarray):  # noqa: ANN202
    """The fields of :class:`_ShiftGroups` from a batch's dead sites (sorted by wafer, site), in three flat passes.

    Returns ``(keys, wafer, row, start, shift, breakpoints, member, short)``,
    equal to :meth:`_ShiftGroups.of_numpy`: per (wafer, band row) group the
    start rank ``a = clip(nominal_left - dead_left - (k - dead_left) // 2, 0,
    max(L - n, 0))`` and shift ``s = first + a - c0``; per dead site its
    breakpoint ``x_i - i - s``.
    """
    m = site.size
    # Pass 1 over the sites: the groups (wafer, row, first site, size, dead sites left of c0), at most m.
    keys = np.empty(m, dtype=np.int64)
    wafer = np.empty(m, dtype=np.int64)
    r = np.empty(m, dtype=np.int64)
    start = np.empty(m, dtype=np.int64)
    count = np.zeros(m, dtype=np.int64)
    dead_left = np.zeros(m, dtype=np.int64)
    member = np.empty(m, dtype=np.int64)
    x = np.empty(m, dtype=np.int64)
    k = 0
    q = -1
    for j in range(m):
        row = site[j] // cols
        if off <= row < off + lr:
            key = site_wafer[j] * lr + (row - off)
            if q < 0 or key != keys[q]:
                q += 1
                keys[q] = key
                wafer[q] = site_wafer[j]
                r[q] = row - off
                start[q] = k
            x[k] = site[j] - row * cols
            member[k] = q
            count[q] += 1
            dead_left[q] += x[k] < c0
            k += 1
    groups = q + 1
    # Pass 2 over the groups: start rank and shift.
    shift = np.empty(groups, dtype=np.int64)
    short = np.empty(groups, dtype=np.bool_)
    for q in range(groups):
        row = r[q]
        live = spr[row] - count[q]
        a = nominal_left[row] - dead_left[q] - (count[q] - dead_left[q]) // 2
        top = live - n if live - n > 0 else 0
        if a < 0:
            a = 0
        if a > top:
            a = top
        shift[q] = first[row] + a - c0
        short[q] = live < n
    # Pass 3 over the kept sites: breakpoints.
    b = np.empty(k, dtype=np.int64)
    for i in range(k):
        q = member[i]
        b[i] = x[i] - (i - start[q]) - shift[q]
    return keys[:groups], wafer[:groups], r[:groups], start[:groups], shift, b, member[:k], short


@dataclass(frozen=True, eq=False)
class _ShiftGroups:
    """The band rows with dead sites in a batch, one *group* per (wafer, row), and their shift functions.

    ``keys`` (sorted) = ``wafer * lr + row``; ``wafer``, ``row`` per group;
    ``start`` the first of the group's dead sites in the flat arrays;
    ``shift`` the group's ``s`` (see the module docstring); ``kb`` the sorted
    keys of the breakpoints ``b_i = x_i - i - s`` (``group * big + b + offset``);
    ``short`` the groups whose row has fewer live sites than ``n``.
    """

    keys: np.ndarray
    wafer: np.ndarray
    row: np.ndarray
    start: np.ndarray
    shift: np.ndarray
    breakpoints: np.ndarray
    member: np.ndarray
    short: np.ndarray
    big: int
    offset: int

    @classmethod
    def of(cls, band: _Band, batch: DefectBatch) -> "_ShiftGroups":
        keys, wafer, r, start, shift, b, member, short = _group_kernel(
            batch.site_wafer, batch.site, band.lr, band.off, band.cols, band.c0, band.n, band.spr, band.first,
            band.nominal_left)
        big, offset = 4 * band.cols + 8, 2 * band.cols + 2
        return cls(keys, wafer, r, start, shift, b, member, short, big, offset)

    @classmethod
    def of_numpy(cls, band: _Band, batch: DefectBatch) -> "_ShiftGroups":
        """:meth:`of` in whole-array numpy (the reference of :func:`_group_kernel`, for the tests)."""
        lr, cols, c0, n = band.lr, band.cols, band.c0, band.n
        row = batch.site // cols
        in_band = (row >= band.off) & (row < band.off + lr)
        g = batch.site_wafer[in_band] * lr + (row[in_band] - band.off)  # sorted: sites sorted by wafer, index
        x = batch.site[in_band] - row[in_band] * cols
        head = np.ones(g.size, dtype=bool)
        head[1:] = g[1:] != g[:-1]
        start = np.flatnonzero(head)
        keys = g[start]
        count = np.diff(np.append(start, g.size))
        wafer, r = np.divmod(keys, lr)
        member = np.cumsum(head) - 1
        i = np.arange(g.size) - start[member]
        dead_left = np.bincount(member[x < c0], minlength=keys.size)
        live = band.spr[r] - count
        a = np.clip(band.nominal_left[r] - dead_left - (count - dead_left) // 2, 0, np.maximum(live - n, 0))
        shift = band.first[r] + a - c0
        b = x - i - shift[member]
        big, offset = 4 * cols + 8, 2 * cols + 2
        return cls(keys, wafer, r, start, shift, b, member, live < n, big, offset)

    @cached_property
    def kb(self) -> np.ndarray:
        """Sorted keys of the breakpoints, ``member * big + b + offset`` (b is non-decreasing within a group)."""
        return self.member * self.big + (self.breakpoints + self.offset)

    def delta(self, k: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Shift of nominal column ``t`` in group ``k`` [columns]."""
        return self.shift[k] + np.searchsorted(self.kb, k * self.big + (t + self.offset), side="right") - self.start[k]


@numba.njit(cache=True, nogil=True)
def _delta_at(kb_b: np.ndarray, lo: int, hi: int, shift: int, t: int) -> int:
    """Shift of nominal column ``t`` of a group whose sorted breakpoints are ``kb_b[lo:hi]``."""
    k = 0
    for j in range(lo, hi):
        if kb_b[j] <= t:
            k += 1
        else:
            break
    return shift + k


@numba.njit(cache=True, nogil=True)
def _pair_kernel(keys: np.ndarray, row: np.ndarray, start: np.ndarray, shift: np.ndarray, b: np.ndarray,
                 s0: np.ndarray, lr: int, c0: int, n: int, reach: float) -> tuple[np.ndarray, np.ndarray]:
    """Per group: its row fails the reach with the row above (``up``) / below (``down``).

    Loop form of :func:`_pair_failures_numpy`: the same query columns (the
    group's breakpoints clipped to the logical span, and ``c0``) and the same
    comparisons, one group and one neighbour row at a time (a group has a
    handful of breakpoints). A row's shift lies in ``[s, s + breakpoints]``,
    so a pair whose two ranges are within the reach of each other cannot fail
    and is not queried: most pairs of a Monte-Carlo block.
    """
    g_count = keys.size
    total = b.size
    up = np.zeros(g_count, dtype=np.bool_)
    down = np.zeros(g_count, dtype=np.bool_)
    hi_t = c0 + n - 1
    for g in range(g_count):
        lo = start[g]
        hi = start[g + 1] if g + 1 < g_count else total
        own = shift[g]
        for step in (-1, 1):
            r_nb = row[g] + step
            if r_nb < 0 or r_nb >= lr:
                continue
            nb = g + step
            if 0 <= nb < g_count and keys[nb] == keys[g] + step:
                nlo = start[nb]
                nhi = start[nb + 1] if nb + 1 < g_count else total
                other = shift[nb]
            else:
                nlo = nhi = 0  # a row without dead sites: its shift is s0 everywhere
                other = s0[r_nb]
            if max(own + hi - lo - other, other + nhi - nlo - own) <= reach:
                continue
            for q in range(lo, hi + 1):
                t = b[q] if q < hi else c0
                if t < c0:
                    t = c0
                if t > hi_t:
                    t = hi_t
                if abs(_delta_at(b, lo, hi, own, t) - _delta_at(b, nlo, nhi, other, t)) > reach:
                    if step < 0:
                        up[g] = True
                    else:
                        down[g] = True
                    break
    return up, down


def _pair_failures(band: _Band, groups: _ShiftGroups) -> tuple[np.ndarray, np.ndarray]:
    """``(wafer, top row)`` of the adjacent band pairs whose shifts differ by more than the reach.

    The shifts are step functions: comparing a group with each neighbouring
    row at the group's breakpoints and at ``c0`` finds every violation
    (:func:`_pair_kernel`; :func:`_pair_failures_numpy` is the vectorised
    reference it replaced, 5-10x slower for its temporaries).
    """
    if groups.keys.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    up, down = _pair_kernel(groups.keys, groups.row, groups.start, groups.shift, groups.breakpoints,
                            band.s0, band.lr, band.c0, band.n, float(band.reach))
    return (np.concatenate([groups.wafer[up], groups.wafer[down]]),
            np.concatenate([groups.row[up] - 1, groups.row[down]]))


def _pair_failures_numpy(band: _Band, groups: _ShiftGroups) -> tuple[np.ndarray, np.ndarray]:
    """``(wafer, top row)`` of the adjacent band pairs whose shifts differ by more than the reach (numpy).

    The vectorised reference of :func:`_pair_failures` (same pairs, possibly
    in another order and with repeats, which the outcome does not see); kept
    for the tests.

    The shifts are step functions: comparing a group with each neighbouring
    row at the group's breakpoints and at ``c0`` finds every violation.
    """
    lr, keys = band.lr, groups.keys
    qg = np.concatenate([groups.member, np.arange(keys.size)])
    qt = np.clip(np.concatenate([groups.breakpoints, np.full(keys.size, band.c0)]), band.c0, band.c0 + band.n - 1)
    own = groups.delta(qg, qt)
    wafers, tops = [], []
    for step in (-1, 1):
        nb = qg + step
        nb_c = np.clip(nb, 0, max(keys.size - 1, 0))
        r_nb = groups.row[qg] + step
        valid = (r_nb >= 0) & (r_nb < lr)
        has = valid & (nb >= 0) & (nb < keys.size) & (keys[nb_c] == keys[qg] + step)
        other = band.s0[np.clip(r_nb, 0, lr - 1)].copy()
        if has.any():
            other[has] = groups.delta(nb_c[has], qt[has])
        bad = valid & (np.abs(own - other) > band.reach)
        wafers.append(groups.wafer[qg][bad])
        tops.append(np.minimum(groups.row[qg], r_nb)[bad])
    return np.concatenate(wafers), np.concatenate(tops)


def _exact_failures(design: Design, batch: DefectBatch, wafers: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(row wafer, row, pair wafer, pair top)`` of the listed wafers by :func:`band_failures`."""
    rw, rr, pw, pr = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for wafer in wafers:
        rows, pairs, _ = band_failures(design, batch.wafer(int(wafer)))
        rw.append(np.full(rows.size, wafer, np.int64))
        rr.append(rows)
        pw.append(np.full(pairs.size, wafer, np.int64))
        pr.append(pairs)
    return tuple(np.concatenate(part) for part in (rw, rr, pw, pr))  # type: ignore[return-value]


def assessor(design: Design):  # noqa: ANN201 - returns an Assessor
    """Batch assessor: which wafers present the full grid, and each wafer's harvest.

    Dead links first take one end site out of service
    (``yieldkit.fabric.map_out_links_batch``, the planner's rule). Then,
    sparse over wafers, only band rows with dead sites are evaluated (their
    shift functions at their breakpoints). Gives the same outcome as
    :func:`band_failures` wafer by wafer. A design whose nominal map fails or
    whose band is not :func:`_regular_band` (where the wafer edge could block
    a route) takes the exact per-wafer path for every wafer;
    ``assess.stats`` counts the wafers assessed and those that took it.
    """
    from yieldkit.redundancy import BatchOutcome

    band = _Band.of(design)
    exists, cost = design.site_exists.ravel(), link_cost(design)
    regular = _static_ok(design) and _regular_band(design)
    stats = {"wafers": 0, "exact": 0}

    def assess(batch: DefectBatch) -> BatchOutcome:
        nw = batch.n_wafers
        stats["wafers"] += nw
        if regular:
            groups = _ShiftGroups.of(band, map_out_links_batch(batch, exists, cost))
            pair_w, pair_top = _pair_failures(band, groups)
            row_w, row = groups.wafer[groups.short], groups.row[groups.short]
        else:
            stats["exact"] += nw
            row_w, row, pair_w, pair_top = _exact_failures(design, batch, np.arange(nw))
        full = np.ones(nw, dtype=bool)
        full[row_w] = False
        full[pair_w] = False
        run = longest_run_batch(nw, band.lr, row_w, row, pair_w, pair_top)
        return BatchOutcome(full=full, logical_cores=run.astype(np.int64) * band.n)

    assess.stats = stats  # wafers assessed, and how many took the exact per-wafer path
    return assess


def _regular_band(design: Design) -> bool:
    """Every band row's sites are contiguous and adjacent band rows' spans are nested.

    Then a vertical edge always has one L route over existing sites (the
    narrower row's span lies inside the wider one's), which the batch
    assessor's dead-link test relies on. Designs clipped by the wafer circle
    are regular.
    """
    lr, off = design.logical_rows, design.logical_row_offset
    exists = design.site_exists[off:off + lr]
    count = exists.sum(axis=1)
    lo = np.argmax(exists, axis=1)
    hi = exists.shape[1] - np.argmax(exists[:, ::-1], axis=1)
    if not ((hi - lo == count) | (count == 0)).all():
        return False
    inner = ((lo[1:] >= lo[:-1]) & (hi[1:] <= hi[:-1])) | ((lo[1:] <= lo[:-1]) & (hi[1:] >= hi[:-1]))
    return bool(inner.all())


def longest_run_batch(n_wafers: int, n_rows: int, bad_row_wafer: np.ndarray, bad_row: np.ndarray,
                      bad_pair_wafer: np.ndarray, bad_pair_top: np.ndarray) -> np.ndarray:
    """Per wafer, the longest run of consecutive rows free of bad rows and bad pairs."""
    w = np.concatenate([bad_row_wafer, bad_pair_wafer]).astype(np.int64)
    lo = np.concatenate([bad_row, bad_pair_top + 1]).astype(np.int64)
    hi = np.concatenate([bad_row + 1, bad_pair_top + 1]).astype(np.int64)
    run = np.full(n_wafers, n_rows, dtype=np.int64)
    if w.size == 0:
        return run
    order = np.lexsort((hi, lo, w))
    w, lo, hi = w[order], lo[order], hi[order]
    new = np.ones(w.size, dtype=bool)
    new[1:] = w[1:] != w[:-1]
    stride = n_rows + 2
    prev_hi = np.zeros(w.size, dtype=np.int64)
    prev_hi[1:] = np.maximum.accumulate(hi + w * stride)[:-1] - w[1:] * stride
    prev_hi[new] = 0
    gaps = lo - prev_hi
    last = np.ones(w.size, dtype=bool)
    last[:-1] = w[1:] != w[:-1]
    run[w] = 0
    np.maximum.at(run, w, gaps)
    np.maximum.at(run, w[last], n_rows - hi[last])
    untouched = np.ones(n_wafers, dtype=bool)
    untouched[w] = False
    run[untouched] = n_rows
    return run
