"""Per-router configuration derived from a repair map: bypass and port-enable planes.

See FORMAT.md, section ``ROUTER``. Three boolean planes over the physical
sites: ``bypass`` (the site serves no logical core), ``east`` and ``south``
(the link leaving the site E or S is enabled). A link is enabled when the
L-shaped route between the sites of two logical neighbours uses it: horizontal
first, unless that crosses a dead link (or a link touching an absent site) and
the vertical-first route does not; the same rule as ``yieldkit.verify``.

Vectorised: dead links are counted along a route segment with prefix sums, and
the links a segment covers are marked with a difference array, so the cost is
O(cores + sites) numpy work and no per-core Python loop.
"""

from __future__ import annotations

import numpy as np

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


def _unusable_links(pr: int, pc: int, dead_links: np.ndarray | None,
                    absent_sites: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Boolean (pr, pc) planes of unusable E and S links: dead, or touching an absent site."""
    links = np.asarray(dead_links if dead_links is not None else (), dtype=np.int64)
    absent = np.asarray(absent_sites if absent_sites is not None else (), dtype=np.int64)
    if not links.size and not absent.size:
        return None
    n = pr * pc
    dead_e = np.zeros(n, dtype=bool)
    dead_s = np.zeros(n, dtype=bool)
    site, direction = np.divmod(links, 2)
    dead_e[site[direction == 0]] = True
    dead_s[site[direction == 1]] = True
    dead_e, dead_s = dead_e.reshape(pr, pc), dead_s.reshape(pr, pc)
    if absent.size:
        missing = np.zeros(n, dtype=bool)
        missing[absent] = True
        missing = missing.reshape(pr, pc)
        dead_e[:, :-1] |= missing[:, :-1] | missing[:, 1:]
        dead_s[:-1, :] |= missing[:-1, :] | missing[1:, :]
    return dead_e, dead_s


def router_planes(physical_of_logical: np.ndarray, physical_rows: int, physical_cols: int,
                  dead_links: np.ndarray | None = None, absent_sites: np.ndarray | None = None) -> np.ndarray:
    """Boolean planes (3, physical_rows, physical_cols): bypass, east, south.

    Parameters
    ----------
    physical_of_logical : ndarray of int, shape (logical_rows, logical_cols)
        Flat physical site of each logical core; every value in
        ``[0, physical_rows * physical_cols)``.
    physical_rows, physical_cols : int
        Physical grid [sites].
    dead_links : ndarray of int, optional
        Dead link ids (``2 * site + direction``, 0 = E, 1 = S).
    absent_sites : ndarray of int, optional
        Sites outside the usable wafer area; their links count as dead.
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
    unusable = _unusable_links(pr, pc, dead_links, absent_sites)
    if unusable is not None:
        dead_e, dead_s = unusable
        # Only bent pairs have two routes, and only those whose segments lie on a
        # row or column with an unusable link can need the vertical-first one.
        bent = np.flatnonzero((r1 != r2) & (c1 != c2))
        row_has = dead_e.any(axis=1)
        col_has = dead_s.any(axis=0)
        b_r1, b_r2, b_c1, b_c2 = r1[bent], r2[bent], c1[bent], c2[bent]
        cand = bent[row_has[b_r1] | row_has[b_r2] | col_has[b_c1] | col_has[b_c2]]
        if cand.size:
            cum_e = np.zeros((pr, pc + 1), dtype=np.int32)
            np.cumsum(dead_e, axis=1, out=cum_e[:, 1:])
            cum_s = np.zeros((pr + 1, pc), dtype=np.int32)
            np.cumsum(dead_s, axis=0, out=cum_s[1:, :])
            k_r1, k_r2, k_c1, k_c2 = r1[cand], r2[cand], c1[cand], c2[cand]
            k_cmin, k_cmax, k_rmin, k_rmax = cmin[cand], cmax[cand], rmin[cand], rmax[cand]

            def row_dead(row: np.ndarray) -> np.ndarray:
                return cum_e[row, k_cmax] - cum_e[row, k_cmin] > 0

            def col_dead(col: np.ndarray) -> np.ndarray:
                return cum_s[k_rmax, col] - cum_s[k_rmin, col] > 0

            hf_dead = row_dead(k_r1) | col_dead(k_c2)
            vf_dead = col_dead(k_c1) | row_dead(k_r2)
            flip = cand[hf_dead & ~vf_dead]
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
