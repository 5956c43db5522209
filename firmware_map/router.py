"""Per-router configuration derived from a repair map: bypass and port-enable planes.

See FORMAT.md, section ``ROUTER``. Three boolean planes over the physical
sites: ``bypass`` (the site serves no logical core), ``east`` and ``south``
(the link leaving the site E or S is enabled). A link is enabled when the
L-shaped route between the sites of two logical neighbours uses it: horizontal
first, unless that crosses an unusable link and the vertical-first route does
not. Which links are unusable is the fabric's rule (``yieldkit.fabric``, also
the verifier's): a link touching an absent site, or a dead link whose two end
sites both serve logical cores (a bypassed site's links carry no traffic).

Compiled: one pass over the logical edges counts unusable links on a route
segment with prefix sums and marks the links a segment covers in difference
arrays, one pass over the sites sums them: O(cores + sites).
:func:`router_planes_numpy` is the same in whole-array numpy, the reference
the tests compare with.
"""

from __future__ import annotations

from functools import lru_cache

import numba
import numpy as np

from yieldkit.fabric import LinkPlanes, active_dead_links

__all__ = ["PLANES", "router_planes", "pack_planes", "unpack_planes", "plane_bytes", "padding_clear"]

PLANES = ("bypass", "east", "south")
_SHORT = 16  # segments up to this many links are listed position by position
_FEW = 8192  # up to this many longer segments are sliced one by one, more use a difference array


def plane_bytes(n_sites: int) -> int:
    """Bytes of one packed plane of ``n_sites`` bits."""
    return (int(n_sites) + 7) // 8


def _cover(n_lines: int, line_len: int, line: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Boolean (n_lines, line_len): positions [lo, hi) of ``line`` covered by any segment.

    Unit segments (most of them: neighbours one hop apart) are scattered
    directly, short ones listed position by position, a few long ones sliced
    (a loop over segments, at most one per logical row in practice), many
    long ones go through a difference array (+1 at the start, -1 at the end,
    cumulated along the line). Empty segments cover nothing.
    """
    out = np.zeros(n_lines * line_len, dtype=bool)
    span = hi - lo
    unit = span == 1
    out[line[unit] * line_len + lo[unit]] = True
    short = np.flatnonzero((span > 1) & (span <= _SHORT))
    if short.size:
        # Skips over a few dead or spare sites: list their positions.
        spans = span[short].astype(np.int64)
        total = int(spans.sum())
        starts = line[short].astype(np.int64) * line_len + lo[short]
        steps = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(spans) - spans, spans)
        out[np.repeat(starts, spans) + steps] = True
    longer = np.flatnonzero(span > _SHORT)
    if 0 < longer.size <= _FEW:
        # A few long spans (one per logical row of a row-shift map): slice them.
        grid = out.reshape(n_lines, line_len)
        for k in longer.tolist():
            grid[line[k], lo[k] : hi[k]] = True
    elif longer.size:
        width = line_len + 1
        size = n_lines * width
        base = line[longer].astype(np.int64) * width
        diff = np.bincount(base + lo[longer], minlength=size).astype(np.int32)
        diff -= np.bincount(base + hi[longer], minlength=size).astype(np.int32)
        covered = np.cumsum(diff.reshape(n_lines, width), axis=1, dtype=np.int32)[:, :line_len] > 0
        out |= covered.ravel()
    return out.reshape(n_lines, line_len)


def router_planes(physical_of_logical: np.ndarray, physical_rows: int, physical_cols: int,
                  dead_links: np.ndarray | None = None, absent_sites: np.ndarray | None = None) -> np.ndarray:
    """Boolean planes (3, physical_rows, physical_cols): bypass, east, south.

    One compiled pass over the logical edges (:func:`_routes_kernel`) picks
    each edge's L route and marks its links in difference arrays;
    :func:`router_planes_numpy` is the whole-array reference.

    Parameters
    ----------
    physical_of_logical : ndarray of int, shape (logical_rows, logical_cols)
        Flat physical site of each logical core; every value in
        ``[0, physical_rows * physical_cols)``.
    physical_rows, physical_cols : int
        Physical grid [sites].
    dead_links : ndarray of int, optional
        Dead link ids (``2 * site + direction``, 0 = E, 1 = S); only those
        whose two end sites serve logical cores are unusable.
    absent_sites : ndarray of int, optional
        Sites outside the usable wafer area; their links are unusable.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[0, 1], [3, 4]])  # a 2 x 2 logical grid on a 2 x 3 physical grid
    >>> planes = router_planes(p, 2, 3)
    >>> planes[0].astype(int).tolist()  # bypassed: the unused column
    [[0, 0, 1], [0, 0, 1]]
    >>> int(planes[1].sum()), int(planes[2].sum())  # enabled E and S links
    (2, 2)
    """
    pr, pc = int(physical_rows), int(physical_cols)
    p = np.asarray(physical_of_logical)
    serving = np.zeros(pr * pc, dtype=bool)
    serving[p.ravel()] = True
    planes = np.empty((3, pr, pc), dtype=bool)
    planes[0] = ~serving.reshape(pr, pc)
    p = np.ascontiguousarray(p, dtype=np.int64)
    unusable = _unusable(pr, pc, dead_links, absent_sites, serving)
    if unusable is None:
        empty = np.zeros((0, 0), np.int32)
        _routes_kernel(p, False, empty, empty, planes)
    else:
        _routes_kernel(p, True, unusable.cum_east, unusable.cum_south, planes)
    return planes


def _unusable(pr: int, pc: int, dead_links: np.ndarray | None, absent_sites: np.ndarray | None,
              serving: np.ndarray) -> LinkPlanes | None:
    """The unusable links (``yieldkit.fabric``'s rule), or None when there are none to avoid.

    The links touching absent sites are the same on every wafer of a design:
    :func:`_absent_planes` keeps them; the active dead links are added per call.
    """
    links = np.asarray(dead_links if dead_links is not None else (), dtype=np.int64)
    absent = np.asarray(absent_sites if absent_sites is not None else (), dtype=np.int64)
    if not (links.size or absent.size):
        return None
    return _absent_planes(pr, pc, absent.tobytes()).with_dead_links(active_dead_links(links, pc, serving))


@lru_cache(maxsize=4)
def _absent_planes(pr: int, pc: int, absent: bytes) -> LinkPlanes:
    """The links touching the absent sites ``absent`` (int64 site ids as bytes) of a ``pr x pc`` grid (cached)."""
    exists = np.ones(pr * pc, dtype=bool)
    exists[np.frombuffer(absent, dtype=np.int64)] = False
    return LinkPlanes.build(pr, pc, exists=exists.reshape(pr, pc))


@numba.njit(cache=True, nogil=True)
def _routes_kernel(p: np.ndarray, check: bool, cum_east: np.ndarray, cum_south: np.ndarray,
                   planes: np.ndarray) -> None:
    """Fill ``planes[1]`` (east) and ``planes[2]`` (south) from the cores' physical sites ``p``.

    Sites are split into row and column one logical row ahead, into two rows
    of scratch (no whole-map temporaries: fresh pages cost more than the
    division).

    Each logical edge (E and S neighbours) takes the horizontal-first L
    unless, with ``check``, the edge is bent, that L crosses an unusable link
    (prefix sums ``cum_east``, ``cum_south`` of
    :class:`~yieldkit.fabric.LinkPlanes`) and the vertical-first one does
    not. Its E links ``[cmin, cmax)`` on the L's row and S links
    ``[rmin, rmax)`` on its column are marked +1/-1 in difference arrays,
    summed along rows (E) and down columns (S) at the end: O(edges + sites).
    """
    lr, lc = p.shape
    pr, pc = planes.shape[1], planes.shape[2]
    diff_e = np.zeros((pr, pc + 1), dtype=np.int32)
    diff_s = np.zeros((pr + 1, pc), dtype=np.int32)
    r, c = np.empty(lc, dtype=np.int64), np.empty(lc, dtype=np.int64)  # logical row i
    r_below, c_below = np.empty(lc, dtype=np.int64), np.empty(lc, dtype=np.int64)  # logical row i + 1
    for j in range(lc if lr else 0):
        r_below[j], c_below[j] = divmod(p[0, j], pc)
    for i in range(lr):
        r, c, r_below, c_below = r_below, c_below, r, c
        for j in range(lc if i + 1 < lr else 0):
            r_below[j], c_below[j] = divmod(p[i + 1, j], pc)
        for j in range(lc):
            r1, c1 = r[j], c[j]
            for d in range(2):
                if d == 0 and j + 1 < lc:
                    r2, c2 = r[j + 1], c[j + 1]
                elif d == 1 and i + 1 < lr:
                    r2, c2 = r_below[j], c_below[j]
                else:
                    continue
                cmin, cmax = min(c1, c2), max(c1, c2)
                rmin, rmax = min(r1, r2), max(r1, r2)
                h_row, v_col = r1, c2
                if (check and r1 != r2 and c1 != c2
                        and (cum_east[r1, cmax] != cum_east[r1, cmin] or cum_south[rmax, c2] != cum_south[rmin, c2])
                        and cum_south[rmax, c1] == cum_south[rmin, c1] and cum_east[r2, cmax] == cum_east[r2, cmin]):
                    h_row, v_col = r2, c1
                if cmin < cmax:
                    diff_e[h_row, cmin] += 1
                    diff_e[h_row, cmax] -= 1
                if rmin < rmax:
                    diff_s[rmin, v_col] += 1
                    diff_s[rmax, v_col] -= 1
    run_s = np.zeros(pc, dtype=np.int32)
    for row in range(pr):
        run = 0
        for col in range(pc):
            run += diff_e[row, col]
            planes[1, row, col] = run > 0
            run_s[col] += diff_s[row, col]
            planes[2, row, col] = run_s[col] > 0


def router_planes_numpy(physical_of_logical: np.ndarray, physical_rows: int, physical_cols: int,
                        dead_links: np.ndarray | None = None, absent_sites: np.ndarray | None = None) -> np.ndarray:
    """:func:`router_planes` in whole-array numpy (its reference, for the tests).

    Dead links are counted along a route segment with prefix sums, and the
    links a segment covers are marked by :func:`_cover`.
    """
    pr, pc = int(physical_rows), int(physical_cols)
    n = pr * pc
    planes = np.zeros((3, pr, pc), dtype=bool)
    p = np.asarray(physical_of_logical)
    serving = np.zeros(n, dtype=bool)
    serving[p.ravel()] = True
    planes[0] = ~serving.reshape(pr, pc)

    r, c = np.divmod(p.astype(np.int32), np.int32(pc))
    # A logical row lying in one physical row with increasing columns (a
    # bitmap row of the MAP) has straight E routes whose union is one span of
    # E links from its first to its last site: one segment instead of one
    # per pair. The E pairs of other rows and all S pairs are routed one by one.
    straight = (r == r[:, :1]).all(axis=1)
    if p.shape[1] > 1:
        straight &= (np.diff(c, axis=1) > 0).all(axis=1)
    bent_rows = np.flatnonzero(~straight)
    span_rows = np.flatnonzero(straight)
    e_r, e_c = r[bent_rows], c[bent_rows]
    r1 = np.concatenate([e_r[:, :-1].ravel(), r[:-1, :].ravel()])
    c1 = np.concatenate([e_c[:, :-1].ravel(), c[:-1, :].ravel()])
    r2 = np.concatenate([e_r[:, 1:].ravel(), r[1:, :].ravel()])
    c2 = np.concatenate([e_c[:, 1:].ravel(), c[1:, :].ravel()])
    cmin, cmax = np.minimum(c1, c2), np.maximum(c1, c2)
    rmin, rmax = np.minimum(r1, r2), np.maximum(r1, r2)

    h_row, v_col = r1, c2  # horizontal first
    unusable = _unusable(pr, pc, dead_links, absent_sites, serving)
    if unusable is not None:
        # Only bent pairs have two routes, and only those whose segments lie on a
        # row or column with an unusable link can need the vertical-first one.
        bent = np.flatnonzero((r1 != r2) & (c1 != c2))
        row_has = unusable.east.any(axis=1)
        col_has = unusable.south.any(axis=0)
        b_r1, b_r2, b_c1, b_c2 = r1[bent], r2[bent], c1[bent], c2[bent]
        cand = bent[row_has[b_r1] | row_has[b_r2] | col_has[b_c1] | col_has[b_c2]]
        if cand.size:
            hf_open, vf_open = unusable.l_routes_open(r1[cand], c1[cand], r2[cand], c2[cand])
            flip = cand[~hf_open & vf_open]
            if flip.size:
                h_row, v_col = r1.copy(), c2.copy()
                h_row[flip] = r2[flip]
                v_col[flip] = c1[flip]
    planes[1] = _cover(pr, pc, np.concatenate([h_row, r[span_rows, 0]]),
                       np.concatenate([cmin, c[span_rows, 0]]), np.concatenate([cmax, c[span_rows, -1]]))
    planes[2] = _cover(pc, pr, v_col, rmin, rmax).T
    return planes


def pack_planes(planes: np.ndarray) -> bytes:
    """The ROUTER payload: each plane packed LSB first, padded to whole bytes."""
    flat = planes.reshape(planes.shape[0], -1)
    return np.packbits(flat, axis=1, bitorder="little").tobytes()


def padding_clear(payload: bytes | memoryview, n_sites: int) -> bool:
    """True when the unused bits of each plane's last byte are zero (length already checked)."""
    used = int(n_sites) % 8
    if used == 0:
        return True
    step = plane_bytes(n_sites)
    mask = 0xFF & ~((1 << used) - 1)
    return not any(payload[(k + 1) * step - 1] & mask for k in range(3))


def unpack_planes(payload: bytes | memoryview, physical_rows: int, physical_cols: int) -> tuple[np.ndarray, bool]:
    """Planes (3, rows, cols) from a ROUTER payload, and whether the padding bits are zero.

    The caller has checked ``len(payload) == 3 * plane_bytes(rows * cols)``.
    """
    n = int(physical_rows) * int(physical_cols)
    packed = np.frombuffer(payload, dtype=np.uint8).reshape(3, plane_bytes(n))
    bits = np.unpackbits(packed, axis=1, bitorder="little")
    clean = not bits[:, n:].any()
    return bits[:, :n].astype(bool).reshape(3, int(physical_rows), int(physical_cols)), clean
