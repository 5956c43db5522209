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
(``redundancy.reach``; absent, ``"inf"`` or negative = unlimited). Dead links
count: every logical edge needs an L route over live links (see
``yieldkit.verify``), otherwise the repair fails.

Shift function: with the row's dead columns ``x_0 < x_1 < ...`` and
``s = first + a - c0`` (``first`` the row's first existing column), logical
column ``c`` (nominal column ``t = c0 + c``) lands at ``t + delta(t)`` with
``delta(t) = s + #{i : x_i - i - s <= t}``. Two rows violate the reach where
their deltas differ by more than ``reach``; the deltas are step functions,
so only their breakpoints need checking. The batch assessor evaluates them
sparsely (only rows with dead sites), which is what makes the Monte Carlo
fast. Dead links are tested the same way, per link over the whole batch: a
link can only break the logical edges whose routes use it (the row's chain
for an E link inside the row's span; the vertical edges whose L routes cross
it), and the few such edges are found by inverting the shift functions
(logical cores up to a column) and checked exactly, both L routes.

A wafer that cannot be fully repaired gets the **maximal logical array** of
the scheme: a run of consecutive physical rows (any rows of the wafer, not
only the band) and a number of logical columns ``n' <= n`` (centred anchor)
for which every row and every adjacent pair is repairable, maximising
``rows x n'``; candidate ``n'`` values are ``n`` and a descending ladder.
The Monte-Carlo harvest of a degraded wafer uses ``n' = n`` only (the longest
run of repairable band rows), a lower bound on the planner's part.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from yieldkit.defect_map import DefectMap
from yieldkit.defects import DefectBatch
from yieldkit.design import Design
from yieldkit.repair_map import RepairMap
from yieldkit.redundancy.common import column_anchor, first_existing, longest_runs, make_map

__all__ = ["NAME", "reach_of", "plan", "assessor", "row_positions", "check_rows"]

NAME = "row-shift"
ALGORITHM = "row-shift/rank"


def reach_of(design: Design) -> float:
    from yieldkit.verify import scheme_reach

    return scheme_reach(NAME, design.scheme_params)


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


def check_rows(unusable: np.ndarray, exists: np.ndarray, planes, rows: np.ndarray, n: int, c0: int,  # noqa: ANN001
               reach: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Which of ``rows`` (sorted physical rows) and adjacent pairs cannot be repaired.

    ``unusable`` (k, cols) and ``planes`` (see ``yieldkit.verify``) describe
    exactly these k rows, in order: row ``j`` of them is physical row
    ``rows[j]``, and the S links of row ``j`` lead to physical row ``rows[j] + 1``.
    Returns ``(row_bad, pair_bad, cols, reasons)``: ``pair_bad[j]`` concerns
    ``rows[j]`` and ``rows[j + 1]`` and is only set when they are adjacent
    physical rows; ``cols`` are the rows' positions (see :func:`row_positions`).
    """
    from yieldkit.verify import _edges_ok

    width = unusable.shape[1]
    ok, pos = row_positions(unusable, c0, n, exists)
    reasons: list[str] = []
    row_bad = ~ok
    for j in np.flatnonzero(row_bad)[:1]:
        reasons.append(f"physical row {int(rows[j])} has {int((~unusable[j]).sum())} live sites, fewer than {n}")
    dead_e, dead_s, cum_e, cum_s = planes
    if ok.any() and n > 1:
        j = np.flatnonzero(ok)
        span_dead = cum_e[j, pos[j, -1]] != cum_e[j, pos[j, 0]]
        if span_dead.any():
            row_bad[j[span_dead]] = True
            reasons.append(f"physical row {int(rows[j[span_dead][0]])}: a dead link on the row's logical chain")
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
            routed = _edges_ok(planes, width, j1, c1, j1 + 1, c2)
            if not routed.all():
                first = int(np.flatnonzero(~routed)[0])
                reasons.append(f"physical rows {int(rows[j1[first]])}/{int(rows[j1[first]]) + 1}: logical column "
                               f"{first % n} has no live L route")
            bad |= ~routed
            pair_bad[adj] = bad.reshape(adj.size, n).any(axis=1)
    return row_bad, pair_bad, pos, reasons


def local_grid(design: Design, defects: DefectMap, rows: np.ndarray):  # noqa: ANN201
    """``(unusable, exists, planes)`` of the physical ``rows`` only (see :func:`check_rows`)."""
    from yieldkit.verify import _dead_link_planes

    cols = design.cols
    unusable = ~design.site_exists[rows]
    site_row = defects.dead_sites // cols
    j = np.searchsorted(rows, site_row)
    hit = (j < rows.size) & (rows[np.minimum(j, rows.size - 1)] == site_row)
    unusable[j[hit], defects.dead_sites[hit] % cols] = True
    links = defects.dead_links
    link_site = links // 2
    link_row = link_site // cols
    j = np.searchsorted(rows, link_row)
    hit = (j < rows.size) & (rows[np.minimum(j, rows.size - 1)] == link_row)
    mini = 2 * (j[hit] * cols + link_site[hit] % cols) + links[hit] % 2
    exists = design.site_exists[rows].copy()
    # the S links of mini row j lead to physical row rows[j] + 1, which may not be mini row j + 1
    below = np.minimum(rows + 1, design.rows - 1)
    nxt_exists = design.site_exists[below] & (rows + 1 < design.rows)[:, None]
    planes = _dead_link_planes(rows.size, cols, mini, exists)
    dead_e, dead_s, cum_e, cum_s = planes
    ds = dead_s.reshape(rows.size, cols)
    ds[:] = False
    s_links = mini[mini % 2 == 1] // 2
    ds.ravel()[s_links] = True
    ds |= ~exists | ~nxt_exists
    cum_s = np.zeros((rows.size + 1, cols), dtype=np.int32)
    np.cumsum(ds, axis=0, out=cum_s[1:, :])
    return unusable, exists, (dead_e, dead_s, cum_e, cum_s)


@lru_cache(maxsize=32)
def _static_ok(design: Design) -> bool:
    """The defect-free design presents its full grid (cached per design object)."""
    band = np.arange(design.logical_rows) + design.logical_row_offset
    unusable, exists, planes = local_grid(design, DefectMap.empty(design), band)
    row_bad, pair_bad, _, _ = check_rows(unusable, exists, planes, band, design.logical_cols, column_anchor(design),
                                         reach_of(design))
    return not (row_bad.any() or pair_bad.any())


def _affected_rows(design: Design, defects: DefectMap) -> np.ndarray:
    rows = [defects.dead_sites // design.cols]
    if defects.dead_links.size:
        a = (defects.dead_links // 2) // design.cols
        rows.append(a)
        rows.append(a + (defects.dead_links % 2))
    hit = np.unique(np.concatenate(rows))
    near = np.unique(np.concatenate([hit - 1, hit, hit + 1]))
    return near[(near >= 0) & (near < design.rows)]


def band_failures(design: Design, defects: DefectMap) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Band rows (0-based logical) that fail and adjacent band pairs that fail, with reasons."""
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
    """Repair one wafer: the full map, else the maximal logical array (an empty map without ``allow_degraded``)."""
    bad_rows, bad_pairs, reasons = band_failures(design, defects)
    n, lr, off = design.logical_cols, design.logical_rows, design.logical_row_offset
    if bad_rows.size == 0 and bad_pairs.size == 0:
        rows = np.arange(lr) + off
        unusable = ~design.site_exists[off:off + lr]
        dead = defects.dead_sites[(defects.dead_sites >= off * design.cols) & (defects.dead_sites < (off + lr) * design.cols)]
        unusable.ravel()[dead - off * design.cols] = True
        _, pos = row_positions(unusable, column_anchor(design), n, design.site_exists[off:off + lr])
        return make_map(design, defects, rows[:, None] * design.cols + pos, complete=True, reason="",
                        algorithm=ALGORITHM)
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
    unusable, exists, planes = local_grid(design, defects, all_rows)
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

def assessor(design: Design):  # noqa: ANN201 - returns an Assessor
    """Batch assessor: which wafers present the full grid, and each wafer's harvest.

    Sparse over wafers: only rows with dead sites are evaluated (their shift
    functions at their breakpoints), and only the logical edges whose routes
    use a dead link. Gives the same outcome as :func:`band_failures` wafer by
    wafer. A design whose nominal map fails or whose band is not
    :func:`_regular_band` takes the exact per-wafer path for every wafer;
    ``assess.stats`` counts the wafers assessed and those that took it.
    """
    from yieldkit.redundancy import BatchOutcome
    from yieldkit.verify import _dead_link_planes

    lr, off, n, cols = design.logical_rows, design.logical_row_offset, design.logical_cols, design.cols
    c0 = column_anchor(design)
    reach = reach_of(design)
    spr = design.sites_per_row[off:off + lr].astype(np.int64)
    first = first_existing(design)[off:off + lr]
    nominal_left = np.maximum(c0 - first, 0)
    s0 = first + np.clip(nominal_left, 0, np.maximum(spr - n, 0)) - c0  # rows without dead sites
    regular = _static_ok(design) and _regular_band(design)
    a0 = np.clip(nominal_left, 0, np.maximum(spr - n, 0))  # start rank of rows without dead sites
    big = 4 * cols + 8
    shift = 2 * cols + 2
    n_sites = design.rows * cols
    # links that are unusable because a site they touch does not exist (the same in every wafer)
    _, missing_s, missing_cum_e, _ = _dead_link_planes(design.rows, cols, np.zeros(0, np.int64), design.site_exists)
    stats = {"wafers": 0, "exact": 0}

    def assess(batch: DefectBatch) -> BatchOutcome:
        nw = batch.n_wafers
        row = batch.site // cols
        in_band = (row >= off) & (row < off + lr)
        w = batch.site_wafer[in_band]
        g = w * lr + (row[in_band] - off)  # sorted (sites are sorted by wafer, then index)
        x = batch.site[in_band] - row[in_band] * cols
        if g.size:
            head = np.ones(g.size, dtype=bool)
            head[1:] = g[1:] != g[:-1]
            gstart = np.flatnonzero(head)
        else:
            gstart = np.zeros(0, np.int64)
        keys = g[gstart]
        gcount = np.diff(np.append(gstart, g.size))
        gw, gr = np.divmod(keys, lr)
        gi = np.cumsum(head) - 1 if g.size else np.zeros(0, np.int64)
        i = np.arange(g.size) - gstart[gi]
        dead_left = np.bincount(gi[x < c0], minlength=keys.size)
        live = spr[gr] - gcount
        row_bad = live < n
        dead_right = gcount - dead_left
        a = np.clip(nominal_left[gr] - dead_left - dead_right // 2, 0, np.maximum(live - n, 0))
        s = first[gr] + a - c0
        b = x - i - s[gi]
        kb = gi * big + (b + shift)  # sorted: b is non-decreasing within a group
        kx = gi * cols + x  # sorted: dead columns of each group

        def delta_group(k: np.ndarray, t: np.ndarray) -> np.ndarray:
            return s[k] + np.searchsorted(kb, k * big + (t + shift), side="right") - gstart[k]

        # query points: every breakpoint of a row, and c0, against both neighbouring rows
        qg = np.concatenate([gi, np.arange(keys.size)])
        qt = np.clip(np.concatenate([b, np.full(keys.size, c0)]), c0, c0 + n - 1)
        own = delta_group(qg, qt)
        bad_pairs_w, bad_pairs_top = [], []
        for step in (-1, 1):
            nb = qg + step
            nb_c = np.clip(nb, 0, max(keys.size - 1, 0))
            key_nb = keys[qg] + step
            r_nb = gr[qg] + step
            valid = (r_nb >= 0) & (r_nb < lr)
            has = valid & (nb >= 0) & (nb < keys.size) & (keys[nb_c] == key_nb)
            other = s0[np.clip(r_nb, 0, lr - 1)].copy()
            if has.any():
                other[has] = delta_group(nb_c[has], qt[has])
            bad = valid & (np.abs(own - other) > reach)
            top = np.minimum(gr[qg], r_nb)
            bad_pairs_w.append(gw[qg][bad])
            bad_pairs_top.append(top[bad])
        bw_pairs = np.concatenate(bad_pairs_w)
        br_pairs = np.concatenate(bad_pairs_top)
        bw_rows, br_rows = gw[row_bad], gr[row_bad]

        def group_of(wafer: np.ndarray, r: np.ndarray) -> np.ndarray:
            """Group index of band row ``r`` (0-based) of ``wafer``, -1 when the row has no dead site."""
            if keys.size == 0:
                return np.full(wafer.shape, -1, np.int64)
            key = wafer * lr + r
            j = np.searchsorted(keys, key)
            jc = np.minimum(j, keys.size - 1)
            return np.where(keys[jc] == key, jc, -1)

        def cores_up_to(wafer: np.ndarray, r: np.ndarray, col: np.ndarray) -> np.ndarray:
            """Logical cores of band row ``r`` at physical columns ``<= col`` (in ``[0, n]``)."""
            g = group_of(wafer, r)
            rank = np.clip(col - first[r] + 1, 0, spr[r])  # live sites <= col, before dead ones
            start = a0[r]
            has = np.flatnonzero(g >= 0)
            if has.size:
                k = g[has]
                rank[has] -= np.searchsorted(kx, k * cols + col[has], side="right") - gstart[k]
                start = start.copy()
                start[has] = a[k]
            return np.clip(rank - start, 0, n)

        def position(wafer: np.ndarray, r: np.ndarray, c: np.ndarray) -> np.ndarray:
            """Physical column of logical column ``c`` of band row ``r``."""
            g = group_of(wafer, r)
            t = c0 + c
            out = t + s0[r]
            has = np.flatnonzero(g >= 0)
            if has.size:
                out[has] = t[has] + delta_group(g[has], t[has])
            return out

        def link_failures() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
            """Band rows and adjacent band pairs that dead links break: ``(row wafer, row, pair wafer, pair top)``.

            A horizontal edge uses the E links between its two sites; a vertical
            edge from column p1 (row R) to p2 (row R + 1) fails when both L routes
            are blocked (E links of R over [min, max) + S link (R, p2), or S link
            (R, p1) + E links of R + 1), a straight one when S (R, p1) is. On a
            regular design missing links alone never block both routes, so every
            failing edge has a dead link on a route: enumerate those edges from
            the dead links and test them exactly.
            """
            site, direction = np.divmod(batch.link, 2)
            lrow, lcol = np.divmod(site, cols)
            r = lrow - off
            lw = batch.link_wafer
            east = direction == 0
            in_band = (r >= 0) & (r < lr) & (east | (r + 1 < lr))
            e_key = lw[east] * n_sites + site[east]  # sorted
            s_key = lw[~east] * n_sites + site[~east]

            def e_blocked(wafer: np.ndarray, row: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
                base = wafer * n_sites + row * cols
                dead = np.searchsorted(e_key, base + hi) != np.searchsorted(e_key, base + lo)
                return dead | (missing_cum_e[row, hi] != missing_cum_e[row, lo])

            def s_blocked(wafer: np.ndarray, row: np.ndarray, col: np.ndarray) -> np.ndarray:
                key = wafer * n_sites + row * cols + col
                j = np.minimum(np.searchsorted(s_key, key), max(s_key.size - 1, 0))
                dead = (s_key[j] == key) if s_key.size else np.zeros(key.shape, bool)
                return dead | missing_s[row * cols + col]

            # E links: the row's chain, and the L routes of the pairs above and below
            sel = in_band & east
            ew, er, ec = lw[sel], r[sel], lcol[sel]
            here = cores_up_to(ew, er, ec)
            chain = (here >= 1) & (here <= n - 1)  # pos[0] <= col < pos[n - 1]
            cand_w, cand_top, cand_lo, cand_hi = [], [], [], []
            for step in (0, -1):
                other_r = er + (1 if step == 0 else -1)
                ok = (other_r >= 0) & (other_r < lr)
                there = cores_up_to(ew[ok], other_r[ok], ec[ok])
                cand_w.append(ew[ok])
                cand_top.append(er[ok] + step)
                cand_lo.append(np.minimum(here[ok], there))
                cand_hi.append(np.maximum(here[ok], there))
            # S links: the edges whose upper or lower end sits on the link's column
            sel = in_band & ~east
            sw, sr, sc = lw[sel], r[sel], lcol[sel]
            for step in (0, 1):
                k = cores_up_to(sw, sr + step, sc) - 1
                ok = k >= 0
                ok[ok] = position(sw[ok], sr[ok] + step, k[ok]) == sc[ok]
                cand_w.append(sw[ok])
                cand_top.append(sr[ok])
                cand_lo.append(k[ok])
                cand_hi.append(k[ok] + 1)
            lo, hi = np.concatenate(cand_lo), np.concatenate(cand_hi)
            size = hi - lo
            cw = np.repeat(np.concatenate(cand_w), size)
            top = np.repeat(np.concatenate(cand_top), size)
            k = np.arange(int(size.sum())) - np.repeat(np.cumsum(size) - size, size) + np.repeat(lo, size)
            # (positions leave the grid only in rows short of live sites, which fail anyway)
            p1 = np.clip(position(cw, top, k), 0, cols - 1)
            p2 = np.clip(position(cw, top + 1, k), 0, cols - 1)
            row1 = top + off
            mn, mx = np.minimum(p1, p2), np.maximum(p1, p2)
            s1 = s_blocked(cw, row1, p1)
            straight = p1 == p2
            fail = np.where(straight, s1, False)
            bent = np.flatnonzero(~straight)
            if bent.size:
                b = bent
                fail[b] = ((e_blocked(cw[b], row1[b], mn[b], mx[b]) | s_blocked(cw[b], row1[b], p2[b]))
                           & (s1[b] | e_blocked(cw[b], row1[b] + 1, mn[b], mx[b])))
            return ew[chain], er[chain], cw[fail], top[fail]

        # dead links: exact and vectorised on regular designs, else the exact per-wafer path
        if regular:
            slow = np.zeros(0, np.int64)
            if batch.link.size:
                rw, rr, pw, pr = link_failures()
                bw_rows, br_rows = np.concatenate([bw_rows, rw]), np.concatenate([br_rows, rr])
                bw_pairs, br_pairs = np.concatenate([bw_pairs, pw]), np.concatenate([br_pairs, pr])
        else:
            slow = np.arange(nw)
        stats["wafers"] += nw
        stats["exact"] += int(slow.size)
        if slow.size:
            drop = np.isin(bw_rows, slow)
            bw_rows, br_rows = bw_rows[~drop], br_rows[~drop]
            drop = np.isin(bw_pairs, slow)
            bw_pairs, br_pairs = bw_pairs[~drop], br_pairs[~drop]
            extra_w, extra_r, extra_pw, extra_pr = [bw_rows], [br_rows], [bw_pairs], [br_pairs]
            for wafer in slow:
                rb, pb, _ = band_failures(design, batch.wafer(int(wafer)))
                extra_w.append(np.full(rb.size, wafer, np.int64))
                extra_r.append(rb)
                extra_pw.append(np.full(pb.size, wafer, np.int64))
                extra_pr.append(pb)
            bw_rows, br_rows = np.concatenate(extra_w), np.concatenate(extra_r)
            bw_pairs, br_pairs = np.concatenate(extra_pw), np.concatenate(extra_pr)

        full = np.ones(nw, dtype=bool)
        full[bw_rows] = False
        full[bw_pairs] = False
        run = longest_run_batch(nw, lr, bw_rows, br_rows, bw_pairs, br_pairs)
        return BatchOutcome(full=full, logical_cores=run.astype(np.int64) * n)

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
    run[np.unique(w)] = 0
    np.maximum.at(run, w, gaps)
    np.maximum.at(run, w[last], n_rows - hi[last])
    untouched = np.ones(n_wafers, dtype=bool)
    untouched[w] = False
    run[untouched] = n_rows
    return run
