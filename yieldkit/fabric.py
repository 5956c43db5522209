"""The physical fabric: core sites on a mesh of E and S links, and how logical edges are routed.

Every planner, the verifier (``yieldkit.verify``) and the firmware router
planes (``firmware_map.router``) use this one rule.

Sites and links
---------------
A site is its flat index ``row * cols + col``. A link is ``2 * site +
direction`` (the codec is :func:`yieldkit.defect_map.link_ids` /
:func:`yieldkit.defect_map.link_endpoints`; :func:`decode_links` splits an id
into ``(row, col, direction)``; :func:`yieldkit.defect_map.link_origins` into
``(site, direction)``): direction 0 (E) joins ``(row, col)`` to
``(row, col + 1)``, direction 1 (S) joins it to ``(row + 1, col)``.

Routes
------
The route between the sites ``(r1, c1)`` and ``(r2, c2)`` of two logical
neighbours is an L: *horizontal first* (the E links of row ``r1`` between
columns ``min(c1, c2)`` and ``max(c1, c2)``, then the S links of column
``c2`` between rows ``min(r1, r2)`` and ``max(r1, r2)``) or *vertical first*
(the S links of column ``c1``, then the E links of row ``r2``). An edge is
routable when either L uses no unusable link; a straight edge has one route.
The firmware routes horizontal first unless only the vertical-first L is
open.

Which links are unusable (the link model)
-----------------------------------------
* A link touching a site outside the usable wafer circle is unusable: there
  is no silicon to carry it.
* A dead link is unusable only when **both** of its end sites serve logical
  cores. A site that serves none (dead, mapped out, or an unused spare) is
  bypassed as a whole: the fabric's redundant links join its neighbours past
  it, so no route uses its router ports or its four mesh links. This is how
  a wafer-scale engine restores the logical mesh around a defective tile
  ("redundant cores replace defective cores; extra links reconnect the
  fabric", S. Lie, Cerebras, Hot Chips 31, 2019).

Hence a dead link can always be repaired by mapping out one of its two end
sites, and it never costs more than a dead core at that end. Planners do
exactly that (:func:`map_out_links`): a dead link whose two end sites are
both alive takes one end out of service, the cheaper end by the scheme's
static cost per site (e.g. a site outside the logical footprint, or in the
row or block with more spares); ties take the W (E link) or N (S link) end.
After that every dead link has an end that serves nothing, so the planners
plan on dead sites alone, and the verifier checks the result with the rule
above, independently.

The earlier rule (a bypassed site's router forwards traffic over its own
links) made one dead E link anywhere inside a row's span fatal for the
row-shift and row-col chains, however many spares the row had: a ``wse``
wafer with a 2 % link fraction at D0 = 0.3 cm^-2 yielded 0.094.

Performance: unusable links are kept as dense boolean planes with prefix
sums along rows and columns (:class:`LinkPlanes`), so the dead links on any
row or column segment are counted in O(1) per edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from yieldkit.defect_map import EAST, DefectMap, link_endpoints, link_origins

__all__ = ["LinkPlanes", "decode_links", "active_dead_links", "map_out_links", "map_out_links_batch",
           "choose_link_ends"]


def decode_links(links: np.ndarray, cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(row, col, direction)`` of each link id (direction 0 = E, 1 = S).

    Examples
    --------
    >>> import numpy as np
    >>> [a.tolist() for a in decode_links(np.array([0, 9]), cols=4)]
    [[0, 1], [0, 0], [0, 1]]
    """
    site, direction = link_origins(links)
    row, col = np.divmod(site, cols)
    return row, col, direction


@dataclass(frozen=True, eq=False)
class LinkPlanes:
    """Unusable links of a ``rows x cols`` grid, with prefix sums for segment queries.

    Attributes
    ----------
    rows, cols : int
        Physical grid [sites].
    east, south : ndarray of bool, shape (rows, cols)
        The E (resp. S) link leaving the site is unusable.
    cum_east : ndarray of int32, shape (rows, cols + 1)
        ``cum_east[r, k]``: unusable E links ``(r, 0 .. k-1)``.
    cum_south : ndarray of int32, shape (rows + 1, cols)
        ``cum_south[k, c]``: unusable S links ``(0 .. k-1, c)``.

    Examples
    --------
    >>> import numpy as np
    >>> planes = LinkPlanes.build(3, 3, dead_links=np.array([2 * 4]))  # E link of the centre site
    >>> planes.routes_ok(np.array([1, 0]), np.array([1, 0]), np.array([1, 2]), np.array([2, 2])).tolist()
    [False, True]
    """

    rows: int
    cols: int
    east: np.ndarray
    south: np.ndarray
    cum_east: np.ndarray
    cum_south: np.ndarray

    def __repr__(self) -> str:
        return (f"LinkPlanes({self.rows}x{self.cols}, {int(self.cum_east[:, -1].sum())} unusable E links, "
                f"{int(self.cum_south[-1].sum())} unusable S links)")

    @classmethod
    def build(cls, rows: int, cols: int, dead_links: np.ndarray | None = None, exists: np.ndarray | None = None,
              serving: np.ndarray | None = None) -> "LinkPlanes":
        """The unusable links of the module's link model.

        Parameters
        ----------
        rows, cols : int
            Physical grid [sites].
        dead_links : ndarray of int, optional
            Dead link ids.
        exists : ndarray of bool, shape (rows, cols), optional
            Sites inside the usable wafer circle; links touching the others
            are unusable. None: every site exists.
        serving : ndarray of bool, shape (rows * cols,), optional
            Sites serving a logical core: a dead link counts only when both
            its ends serve. None: every dead link counts (a planner's
            conservative view before the map exists).
        """
        links = np.asarray(dead_links if dead_links is not None else (), np.int64)
        if serving is not None and links.size:
            links = active_dead_links(links, cols, serving)
        n = rows * cols
        site, direction = link_origins(links)
        east = np.zeros(n, dtype=bool)
        south = np.zeros(n, dtype=bool)
        east[site[direction == EAST]] = True
        south[site[direction != EAST]] = True
        east, south = east.reshape(rows, cols), south.reshape(rows, cols)
        if exists is not None:
            missing = ~np.asarray(exists, bool)
            east[:, :-1] |= missing[:, :-1] | missing[:, 1:]
            south[:-1, :] |= missing[:-1, :] | missing[1:, :]
        return cls.of(east, south)

    @classmethod
    def of(cls, east: np.ndarray, south: np.ndarray) -> "LinkPlanes":
        """Planes from dense (rows, cols) flags of unusable E and S links (prefix sums computed here)."""
        rows, cols = east.shape
        cum_east = np.zeros((rows, cols + 1), dtype=np.int32)
        np.cumsum(east, axis=1, out=cum_east[:, 1:])
        cum_south = np.zeros((rows + 1, cols), dtype=np.int32)
        np.cumsum(south, axis=0, out=cum_south[1:, :])
        return cls(rows, cols, east, south, cum_east, cum_south)

    def with_dead_links(self, dead_links: np.ndarray) -> "LinkPlanes":
        """These planes plus ``dead_links`` (all of them unusable); only the rows and columns they touch are
        summed again, so adding a few links to a wafer's static planes costs a copy, not a full prefix sum.

        Examples
        --------
        >>> import numpy as np
        >>> base = LinkPlanes.build(2, 3)
        >>> both = base.with_dead_links(np.array([2 * 1, 2 * 0 + 1]))  # E of (0, 1), S of (0, 0)
        >>> both.cum_east.tolist(), both.cum_south[-1].tolist(), base.any
        ([[0, 0, 1, 1], [0, 0, 0, 0]], [1, 0, 0], False)
        """
        links = np.asarray(dead_links, np.int64)
        if links.size == 0:
            return self
        row, col, direction = decode_links(links, self.cols)
        e = direction == EAST
        east, south = self.east.copy(), self.south.copy()
        east[row[e], col[e]] = True
        south[row[~e], col[~e]] = True
        cum_east, cum_south = self.cum_east.copy(), self.cum_south.copy()
        rows = np.unique(row[e])
        cum_east[rows, 1:] = np.cumsum(east[rows], axis=1)
        cols = np.unique(col[~e])
        cum_south[1:, cols] = np.cumsum(south[:, cols], axis=0)
        return LinkPlanes(self.rows, self.cols, east, south, cum_east, cum_south)

    @property
    def any(self) -> bool:
        """Some link is unusable."""
        return bool(self.cum_east[:, -1].any() or self.cum_south[-1].any())

    def row_blocked(self, row: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Some E link of ``row`` between columns ``lo`` and ``hi`` (``lo <= hi``) is unusable."""
        return self.cum_east[row, hi] != self.cum_east[row, lo]

    def col_blocked(self, col: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Some S link of ``col`` between rows ``lo`` and ``hi`` (``lo <= hi``) is unusable."""
        return self.cum_south[hi, col] != self.cum_south[lo, col]

    def l_routes_open(self, r1: np.ndarray, c1: np.ndarray, r2: np.ndarray, c2: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
        """``(horizontal_first_open, vertical_first_open)`` of each edge (see the module docstring)."""
        cmin, cmax = np.minimum(c1, c2), np.maximum(c1, c2)
        rmin, rmax = np.minimum(r1, r2), np.maximum(r1, r2)
        hf = ~(self.row_blocked(r1, cmin, cmax) | self.col_blocked(c2, rmin, rmax))
        vf = ~(self.col_blocked(c1, rmin, rmax) | self.row_blocked(r2, cmin, cmax))
        return hf, vf

    def routes_ok(self, r1: np.ndarray, c1: np.ndarray, r2: np.ndarray, c2: np.ndarray) -> np.ndarray:
        """True where an L route from ``(r1, c1)`` to ``(r2, c2)`` uses no unusable link.

        Unit edges (one link) are looked up directly; only the others take
        the prefix sums, and the vertical-first L only where the
        horizontal-first one is blocked. One pass (:func:`_routes_kernel`);
        :meth:`routes_ok_numpy` is the whole-array reference.
        """
        arrays = np.broadcast_arrays(*(np.asarray(a, np.int64) for a in (r1, c1, r2, c2)))
        shape = arrays[0].shape
        r1, c1, r2, c2 = (np.ascontiguousarray(a).ravel() for a in arrays)
        return _routes_kernel(r1, c1, r2, c2, self.east, self.south, self.cum_east, self.cum_south).reshape(shape)

    def routes_ok_numpy(self, r1: np.ndarray, c1: np.ndarray, r2: np.ndarray, c2: np.ndarray) -> np.ndarray:
        """:meth:`routes_ok` in whole-array numpy (its reference, for the tests).

        Unit edges (one link) are looked up directly; only the others take
        the prefix sums, and the vertical-first L only where the
        horizontal-first one is blocked.
        """
        r1, c1, r2, c2 = (np.asarray(a, np.int64) for a in (r1, c1, r2, c2))
        unit_e = (r2 == r1) & (c2 == c1 + 1)
        unit = unit_e | ((c2 == c1) & (r2 == r1 + 1))
        site = r1 * self.cols + c1
        ok = np.where(unit_e, ~self.east.ravel()[site], ~self.south.ravel()[site])
        other = np.flatnonzero(~unit)
        if other.size:
            a1, b1, a2, b2 = r1[other], c1[other], r2[other], c2[other]
            cmin, cmax = np.minimum(b1, b2), np.maximum(b1, b2)
            rmin, rmax = np.minimum(a1, a2), np.maximum(a1, a2)
            good = ~(self.row_blocked(a1, cmin, cmax) | self.col_blocked(b2, rmin, rmax))
            k = np.flatnonzero(~good & (a1 != a2) & (b1 != b2))
            if k.size:
                good[k] = ~(self.col_blocked(b1[k], rmin[k], rmax[k]) | self.row_blocked(a2[k], cmin[k], cmax[k]))
            ok[other] = good
        return ok


@numba.njit(cache=True, nogil=True)
def _routes_kernel(r1: np.ndarray, c1: np.ndarray, r2: np.ndarray, c2: np.ndarray, east: np.ndarray,
                   south: np.ndarray, cum_east: np.ndarray, cum_south: np.ndarray) -> np.ndarray:
    """Loop form of :meth:`LinkPlanes.routes_ok_numpy` (the same tests, edge by edge)."""
    n = r1.size
    ok = np.empty(n, dtype=np.bool_)
    for i in range(n):
        a1, b1, a2, b2 = r1[i], c1[i], r2[i], c2[i]
        if a2 == a1 and b2 == b1 + 1:
            ok[i] = not east[a1, b1]
        elif b2 == b1 and a2 == a1 + 1:
            ok[i] = not south[a1, b1]
        else:
            cmin, cmax = min(b1, b2), max(b1, b2)
            rmin, rmax = min(a1, a2), max(a1, a2)
            good = cum_east[a1, cmax] == cum_east[a1, cmin] and cum_south[rmax, b2] == cum_south[rmin, b2]
            if not good and a1 != a2 and b1 != b2:
                good = cum_south[rmax, b1] == cum_south[rmin, b1] and cum_east[a2, cmax] == cum_east[a2, cmin]
            ok[i] = good
    return ok


def active_dead_links(dead_links: np.ndarray, cols: int, serving: np.ndarray) -> np.ndarray:
    """The dead links whose two end sites both serve logical cores (the only ones that block routes).

    Examples
    --------
    >>> import numpy as np
    >>> serving = np.array([True, True, False, True])  # a 1 x 4 row, site 2 mapped out
    >>> active_dead_links(np.array([0, 2, 4]), 4, serving).tolist()
    [0]
    """
    links = np.asarray(dead_links, np.int64)
    a, b = link_endpoints(links, cols)
    serving = np.asarray(serving, bool).ravel()
    return links[serving[a] & serving[b]]


def choose_link_ends(links: np.ndarray, cols: int, cost: np.ndarray) -> np.ndarray:
    """The end site each dead link takes out of service: the lower ``cost``, ties to the W/N end.

    Parameters
    ----------
    links : ndarray of int
        Link ids.
    cols : int
        Physical columns [sites].
    cost : ndarray of float, shape (rows * cols,)
        The scheme's static cost of mapping out each site (lower is cheaper).

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([0.0, 0.0, 1.0, 0.0])  # a 1 x 4 row, site 2 dear
    >>> choose_link_ends(np.array([0, 2, 4]), 4, cost).tolist()  # E links 0-1 (tie: W end), 1-2, 2-3
    [0, 1, 3]
    """
    a, b = link_endpoints(links, cols)
    return np.where(cost[b] < cost[a], b, a)


def _live_ends(links: np.ndarray, cols: int, exists: np.ndarray, is_dead) -> np.ndarray:  # noqa: ANN001
    """Which links have both end sites existing and alive (``is_dead(site_array)`` says dead)."""
    a, b = link_endpoints(links, cols)
    return exists[a] & exists[b] & ~is_dead(a) & ~is_dead(b)


def map_out_links(defects: DefectMap, exists: np.ndarray, cost: np.ndarray) -> DefectMap:
    """The defect map a planner plans on: dead sites plus one mapped-out end per live dead link, no links.

    A dead link with an end that is dead or outside the wafer needs nothing
    (that end serves no core); otherwise :func:`choose_link_ends` picks the
    end to map out. Every dead link of ``defects`` then has an end serving no
    logical core in any map planned on the result, so it blocks no route.

    Parameters
    ----------
    defects : DefectMap
    exists : ndarray of bool, shape (rows * cols,)
        Sites inside the usable wafer circle.
    cost : ndarray of float, shape (rows * cols,)
        The scheme's static cost per site (see :func:`choose_link_ends`).

    Examples
    --------
    >>> import numpy as np
    >>> d = DefectMap(1, 4, dead_sites=[3], dead_links=[0, 4])  # E links (0,0)-(0,1) and (0,2)-(0,3)
    >>> map_out_links(d, np.ones(4, bool), np.zeros(4)).dead_sites.tolist()
    [0, 3]
    """
    links = defects.dead_links
    if links.size == 0:
        return defects
    exists = np.asarray(exists, bool).ravel()
    sites = defects.dead_sites
    live = _live_ends(links, defects.cols, exists, lambda s: np.isin(s, sites))
    ends = choose_link_ends(links[live], defects.cols, cost)
    return DefectMap(defects.rows, defects.cols, np.concatenate([sites, ends]), design=defects.design)


def map_out_links_batch(batch, exists: np.ndarray, cost: np.ndarray):  # noqa: ANN001, ANN201 - DefectBatch
    """:func:`map_out_links` for every wafer of a ``DefectBatch``: its dead sites plus mapped-out ends, no links.

    Vectorised over the batch: O((sites + links) log sites).

    Examples
    --------
    >>> import numpy as np
    >>> from yieldkit.defects import DefectBatch
    >>> batch = DefectBatch(2, 1, 4, np.array([1]), np.array([3]), np.array([0, 1]), np.array([0, 4]), np.array([1, 2]))
    >>> out = map_out_links_batch(batch, np.ones(4, bool), np.zeros(4))
    >>> out.site_wafer.tolist(), out.site.tolist(), out.link.size  # wafer 1's link 4 has its end 3 dead already
    ([0, 1], [0, 3], 0)
    """
    from yieldkit.defects import DefectBatch, sorted_unique

    if batch.link.size == 0:
        return batch
    n = batch.rows * batch.cols
    exists = np.asarray(exists, bool).ravel()
    site_key = batch.site_wafer * n + batch.site  # sorted

    def dead_in(wafer: np.ndarray):  # noqa: ANN202
        def is_dead(s: np.ndarray) -> np.ndarray:
            key = wafer * n + s
            j = np.minimum(np.searchsorted(site_key, key), max(site_key.size - 1, 0))
            return (site_key[j] == key) if site_key.size else np.zeros(key.shape, bool)
        return is_dead

    live = _live_ends(batch.link, batch.cols, exists, dead_in(batch.link_wafer))
    ends = choose_link_ends(batch.link[live], batch.cols, cost)
    new = sorted_unique(batch.link_wafer[live] * n + ends)  # none of them is a dead site already
    at = np.searchsorted(site_key, new)
    wafer, site = np.divmod(new, n)
    empty = np.zeros(0, np.int64)
    return DefectBatch(batch.n_wafers, batch.rows, batch.cols, np.insert(batch.site_wafer, at, wafer),
                       np.insert(batch.site, at, site), empty, empty, batch.n_defects)
