"""Check a :class:`~yieldkit.repair_map.RepairMap` against its invariants.

The verifier is independent of every planner: it knows the physical fabric
(a mesh of core sites joined by E and S links), each scheme's routing reach,
and nothing about how a map was built. ``verify_repair_map`` returns the
violations found (an empty list means the map is valid).

Invariants, in the order they are checked
-----------------------------------------
``shape``
    ``physical_of_logical`` is a 2-D integer array whose values are flat site
    indices in ``[0, physical_rows * physical_cols)``; with a design, the
    physical grid is the design's and a *complete* map presents the design's
    full logical grid (a degraded map may be smaller); the defect map has
    the map's grid; the scheme is known. A shape violation stops the check.
``injective``
    No two logical cores share a physical site.
``target_exists``
    (with a design) every target site lies inside the usable wafer circle.
``target_alive``
    No target site is a dead site of the defect map.
``reach``
    Every pair of logical neighbours sits where the scheme's routing can join
    them. With ``(r1, c1)`` the physical site of logical ``(r, c)`` and
    ``(r2, c2)`` that of its E neighbour ``(r, c + 1)`` (horizontal edge) or
    S neighbour ``(r + 1, c)`` (vertical edge):

    ============  ==============================  ===================================
    scheme        horizontal edge                 vertical edge
    ============  ==============================  ===================================
    ``none``      ``r2 == r1``, ``c2 == c1 + 1``  ``r2 == r1 + 1``, ``c2 == c1``
    ``row-shift`` ``r2 == r1``, ``c2 > c1``       ``r2 == r1 + 1``, ``|c2 - c1| <= reach``
    ``row-col``   ``r2 == r1``, ``c2 > c1``       ``r2 > r1``, ``|c2 - c1| <= d``
    ``block``     ``|r2-r1| + |c2-c1| <= reach``  ``|r2-r1| + |c2-c1| <= reach``
    ============  ==============================  ===================================

    Parameters come from ``repair_map.scheme_params`` with the defaults of
    the scheme registry (``yieldkit.redundancy.specs``): ``reach`` for
    row-shift (absent or ``"inf"`` = unlimited), ``d`` for row-col (default
    1, the compensation distance of Low & Leong [1]_), ``reach`` for block
    (default :func:`block_worst_reach` ``(b, s)``: the longest logical edge
    the block model of ``yieldkit.redundancy.block`` can produce, so a block
    map never needs more). A horizontal edge of row-shift and row-col may
    skip any number of sites, and a row-col vertical edge may cross excluded
    physical rows: the sites in between serve no core and are bypassed.
``dead_link``
    The physical route of every logical edge uses only usable links, by the
    rule of ``yieldkit.fabric`` (the one the firmware image's router planes
    use): the route is one of the two L paths between the two sites, a link
    touching a site outside the usable circle is unusable (with a design),
    and a dead link is unusable only when both its end sites serve logical
    cores (a site serving none is bypassed by the fabric's redundant links).

Each invariant reports at most :data:`MAX_PER_INVARIANT` violations (the
first ones in logical row-major order); when more exist, one extra
``Violation`` with ``logical = physical = None`` says how many were left out.

Performance: one compiled pass over the logical edges checks reach and
routes (``_edge_kernel``, with the prefix sums of the unusable links along
rows and columns, ``yieldkit.fabric.LinkPlanes``; ``_edge_flags_numpy`` is its
whole-array reference); the per-core checks are whole-array gathers. A
``wse`` map of ~9e5 logical cores verifies in well under 20 milliseconds.

References
----------
.. [1] C. P. Low, H. W. Leong, "On the reconfiguration of degradable VLSI/WSI
   arrays", IEEE Trans. CAD 16(10), 1997, pp. 1213-1221.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numba
import numpy as np

from yieldkit.defect_map import DefectMap
from yieldkit.design import Design
from yieldkit.errors import InputError
from yieldkit.fabric import LinkPlanes, active_dead_links
from yieldkit.redundancy.specs import scheme_reach
from yieldkit.repair_map import RepairMap

__all__ = ["Violation", "verify_repair_map", "INVARIANTS", "MAX_PER_INVARIANT", "block_worst_reach", "max_detour"]

INVARIANTS = ("shape", "injective", "target_exists", "target_alive", "reach", "dead_link")
#: Violations listed per invariant before the rest are summarised in one entry.
MAX_PER_INVARIANT = 100


@dataclass(frozen=True)
class Violation:
    """One broken invariant, and where.

    Attributes
    ----------
    invariant : str
        One of :data:`INVARIANTS`.
    logical : tuple of int or None
        Logical ``(r, c)`` concerned (for an edge: its W or N end), if any.
    physical : tuple of int or None
        Physical ``(row, col)`` concerned, if any.
    message : str
        One line saying what is wrong.
    """

    invariant: str
    logical: tuple[int, int] | None
    physical: tuple[int, int] | None
    message: str


@functools.lru_cache(maxsize=64)
def block_worst_reach(b: int, s: int) -> int:
    """Longest logical edge [Manhattan hops] of the ``block(b, s)`` model, by enumeration.

    The model (``yieldkit.redundancy.block``): a b x b tile of logical cores
    lives in a box of b rows x (b + ceil(s / b)) columns whose sites are
    ranked column-major (rank p at row ``p % b``, column ``p // b``); the
    first ``b^2 + s`` ranks are populated. Logical core (lr, lc) has rank
    ``j = lc * b + lr`` and takes the (j + 1)-th live site, i.e. rank
    ``j + k`` with ``0 <= k <= s`` and k non-decreasing in j. Neighbours in
    one tile have ``k1 <= k2``; neighbours in adjacent tiles (the box below
    is b rows down, the box to the right b + ceil(s / b) columns right)
    have independent shifts. The maximum over every case is returned;
    without spares (s = 0) it is 1. Cost O(b^2 s^2), cached.

    Examples
    --------
    >>> block_worst_reach(8, 0), block_worst_reach(8, 1)
    (1, 10)
    """
    if b < 1 or s < 0:
        raise ValueError(f"block needs b >= 1 and s >= 0, got b={b}, s={s}")
    e = -(-s // b)
    width = b + e
    j = np.arange(b * b)
    k1 = np.arange(s + 1)[:, None, None]
    k2 = np.arange(s + 1)[None, :, None]

    def dist(p1: np.ndarray, p2: np.ndarray, dr: int, dc: int) -> np.ndarray:
        return np.abs(p2 % b + dr - p1 % b) + np.abs(p2 // b + dc - p1 // b)

    best = 1
    same = k1 <= k2
    for jj, nb in ((j[j % b != b - 1], 1), (j[j < b * (b - 1)], b)):  # S and E neighbours inside the tile
        if jj.size:
            d = dist(jj + k1, jj + nb + k2, 0, 0)
            best = max(best, int(np.where(same, d, 0).max()))
    down = j[j % b == b - 1]
    best = max(best, int(dist(down + k1, down - (b - 1) + k2, b, 0).max()))
    right = j[j >= b * (b - 1)]
    best = max(best, int(dist(right + k1, right - b * (b - 1) + k2, 0, width).max()))
    return best


@functools.lru_cache(maxsize=8)
def _edge_planes(design: Design) -> LinkPlanes:
    """The links of ``design`` that touch a site outside the wafer (the same on every wafer; cached)."""
    return LinkPlanes.build(design.rows, design.cols, exists=design.site_exists)


#: Scheme codes of :func:`_edge_kernel`; any other scheme name is checked like ``row-col``.
_SCHEME_CODE = {"none": 0, "block": 1, "row-shift": 2, "row-col": 3}


def _reach_ok(scheme: str, reach: float, horizontal: bool, r1: np.ndarray, c1: np.ndarray,
              r2: np.ndarray, c2: np.ndarray) -> np.ndarray:
    if scheme == "none":
        return (r2 == r1) & (c2 == c1 + 1) if horizontal else (r2 == r1 + 1) & (c2 == c1)
    if scheme == "block":
        return np.abs(r2 - r1) + np.abs(c2 - c1) <= reach
    if horizontal:
        return (r2 == r1) & (c2 > c1)
    rows_ok = (r2 == r1 + 1) if scheme == "row-shift" else (r2 > r1)
    return rows_ok & (np.abs(c2 - c1) <= reach)


def _edge_flags(grid: np.ndarray, cols: int, scheme: str, reach: float, planes: LinkPlanes | None
                ) -> tuple[np.ndarray, np.ndarray]:
    """``(reach_bad, link_bad)``: boolean (lr, lc, 2) flags of the logical edges that break an invariant.

    ``[i, j, 0]`` is the E edge from logical ``(i, j)`` to ``(i, j + 1)``,
    ``[i, j, 1]`` the S edge to ``(i + 1, j)``; so ``np.flatnonzero`` lists
    bad edges by W/N end in row-major order, E before S. ``link_bad`` is all
    False when ``planes`` is None (no unusable link). One pass over the map
    (:func:`_edge_kernel`); :func:`_edge_flags_numpy` is the reference.
    """
    p = np.ascontiguousarray(grid, dtype=np.int64)
    code = _SCHEME_CODE.get(scheme, 3)
    if planes is None:
        empty = np.zeros((0, 0), np.int32)
        return _edge_kernel(p, cols, code, reach, False, empty, empty)
    return _edge_kernel(p, cols, code, reach, True, planes.cum_east, planes.cum_south)


def _edge_flags_numpy(grid: np.ndarray, cols: int, scheme: str, reach: float, planes: LinkPlanes | None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_edge_flags` in whole-array numpy (its reference, for the tests)."""
    r, c = np.divmod(np.asarray(grid, np.int64), cols)
    lr, lc = r.shape
    reach_bad = np.zeros((lr, lc, 2), dtype=bool)
    link_bad = np.zeros((lr, lc, 2), dtype=bool)
    for d, (a, b) in enumerate(((np.s_[:, :-1], np.s_[:, 1:]), (np.s_[:-1, :], np.s_[1:, :]))):
        r1, c1, r2, c2 = r[a], c[a], r[b], c[b]
        reach_bad[a + (d,)] = ~_reach_ok(scheme, reach, d == 0, r1, c1, r2, c2)
        if planes is not None:
            link_bad[a + (d,)] = ~planes.routes_ok(r1, c1, r2, c2)
    return reach_bad, link_bad


@numba.njit(cache=True, nogil=True)
def _reach_ok_one(scheme: int, reach: float, horizontal: bool, r1: int, c1: int, r2: int, c2: int) -> bool:
    """:func:`_reach_ok` of one edge, the scheme given by its code (:data:`_SCHEME_CODE`)."""
    if scheme == 0:
        return (r2 == r1 and c2 == c1 + 1) if horizontal else (r2 == r1 + 1 and c2 == c1)
    if scheme == 1:
        return abs(r2 - r1) + abs(c2 - c1) <= reach
    if horizontal:
        return r2 == r1 and c2 > c1
    return (r2 == r1 + 1 if scheme == 2 else r2 > r1) and abs(c2 - c1) <= reach


@numba.njit(cache=True, nogil=True)
def _edge_kernel(p: np.ndarray, cols: int, scheme: int, reach: float, links: bool, cum_east: np.ndarray,
                 cum_south: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Loop form of :func:`_edge_flags_numpy` over the cores' physical sites ``p`` (``cols`` per row).

    Sites are split into row and column one logical row ahead, into two
    rows of scratch (no whole-map temporaries: fresh pages cost more than
    the division).

    With ``links``, an edge is bad when neither L route avoids every
    unusable link: the prefix sums ``cum_east``, ``cum_south`` of
    :class:`~yieldkit.fabric.LinkPlanes` count them on each segment; a
    straight edge has one route, a bent one is blocked when both Ls are.
    The test is written out here, not called per edge: a compiled call with
    array arguments costs more than the test.
    """
    lr, lc = p.shape
    reach_bad = np.zeros((lr, lc, 2), dtype=np.bool_)
    link_bad = np.zeros((lr, lc, 2), dtype=np.bool_)
    r, c = np.empty(lc, dtype=np.int64), np.empty(lc, dtype=np.int64)  # logical row i
    r_below, c_below = np.empty(lc, dtype=np.int64), np.empty(lc, dtype=np.int64)  # logical row i + 1
    for j in range(lc if lr else 0):
        r_below[j], c_below[j] = divmod(p[0, j], cols)
    for i in range(lr):
        r, c, r_below, c_below = r_below, c_below, r, c
        for j in range(lc if i + 1 < lr else 0):
            r_below[j], c_below[j] = divmod(p[i + 1, j], cols)
        for j in range(lc):
            r1, c1 = r[j], c[j]
            for d in range(2):
                if d == 0 and j + 1 < lc:
                    r2, c2 = r[j + 1], c[j + 1]
                elif d == 1 and i + 1 < lr:
                    r2, c2 = r_below[j], c_below[j]
                else:
                    continue
                if not _reach_ok_one(scheme, reach, d == 0, r1, c1, r2, c2):
                    reach_bad[i, j, d] = True
                if not links:
                    continue
                cmin, cmax = min(c1, c2), max(c1, c2)
                rmin, rmax = min(r1, r2), max(r1, r2)
                if r1 == r2:
                    blocked = cum_east[r1, cmax] != cum_east[r1, cmin]
                elif c1 == c2:
                    blocked = cum_south[rmax, c1] != cum_south[rmin, c1]
                else:  # horizontal-first L blocked, and vertical-first L blocked
                    blocked = ((cum_east[r1, cmax] != cum_east[r1, cmin] or cum_south[rmax, c2] != cum_south[rmin, c2])
                               and (cum_south[rmax, c1] != cum_south[rmin, c1]
                                    or cum_east[r2, cmax] != cum_east[r2, cmin]))
                if blocked:
                    link_bad[i, j, d] = True
    return reach_bad, link_bad


class _Collector:
    def __init__(self) -> None:
        self.items: list[Violation] = []

    def add(self, invariant: str, bad: np.ndarray, logical_cols: int, describe) -> None:  # noqa: ANN001
        """``bad``: sorted flat logical indices; ``describe(i) -> (physical, message)``."""
        bad = np.asarray(bad)
        for i in bad[:MAX_PER_INVARIANT]:
            r, c = divmod(int(i), logical_cols)
            physical, message = describe(int(i))
            self.items.append(Violation(invariant, (r, c), physical, message))
        if bad.size > MAX_PER_INVARIANT:
            more = bad.size - MAX_PER_INVARIANT
            self.items.append(Violation(invariant, None, None,
                                        f"... and {more} more '{invariant}' violations not listed"))

    def one(self, invariant: str, message: str) -> None:
        self.items.append(Violation(invariant, None, None, message))


def verify_repair_map(repair_map: RepairMap, design: Design | None = None,
                      defects: DefectMap | None = None) -> list[Violation]:
    """Every broken invariant of ``repair_map`` (empty list = valid).

    Parameters
    ----------
    repair_map : RepairMap
    design : Design, optional
        The design the map claims to serve: enables the grid, fingerprint
        (mismatch reported as ``shape``), logical-grid and site-existence checks.
    defects : DefectMap, optional
        Dead sites and links to check against; defaults to
        ``repair_map.defects``.

    Returns
    -------
    list of Violation
        Ordered by invariant (see the module docstring), at most
        :data:`MAX_PER_INVARIANT` (+1 summary) per invariant.

    Examples
    --------
    >>> from dataclasses import replace
    >>> from yieldkit.design import load_design
    >>> from yieldkit.redundancy import plan_repair
    >>> small = load_design("small")
    >>> m = plan_repair(small, DefectMap.empty(small))
    >>> verify_repair_map(m, small)
    []
    >>> dead = DefectMap(small.rows, small.cols, [int(m.physical_of_logical[0, 0])])
    >>> [v.invariant for v in verify_repair_map(replace(m, defects=dead), small)]
    ['target_alive']
    """
    out = _Collector()
    defects = repair_map.defects if defects is None else defects
    grid = np.asarray(repair_map.physical_of_logical)
    rows, cols = repair_map.physical_rows, repair_map.physical_cols

    # -- shape ------------------------------------------------------------
    if grid.ndim != 2 or grid.dtype.kind not in "iu":
        out.one("shape", f"physical_of_logical must be a 2-D integer array, got {grid.ndim}-D {grid.dtype}")
        return out.items
    lr, lc = grid.shape
    if design is not None:
        if (design.rows, design.cols) != (rows, cols):
            out.one("shape", f"map is for a {rows}x{cols} physical grid, design '{design.name}' is {design.rows}x{design.cols}")
        if repair_map.design_fingerprint and repair_map.design_fingerprint != design.fingerprint:
            out.one("shape", f"map was planned for another design (fingerprint differs from '{design.name}')")
        if repair_map.complete and (lr, lc) != (design.logical_rows, design.logical_cols):
            out.one("shape", f"complete map presents {lr}x{lc} logical cores, design '{design.name}' needs "
                             f"{design.logical_rows}x{design.logical_cols}")
        if (lr > design.logical_rows) or (lc > design.logical_cols):
            out.one("shape", f"map presents {lr}x{lc}, more than the design's {design.logical_rows}x{design.logical_cols}")
    if (defects.rows, defects.cols) != (rows, cols):
        out.one("shape", f"defect map is {defects.rows}x{defects.cols}, the repair map's grid is {rows}x{cols}")
    try:
        reach = scheme_reach(repair_map.scheme, repair_map.scheme_params)
    except InputError as exc:
        out.one("shape", f"scheme '{repair_map.scheme}': {exc}")
    flat = np.ascontiguousarray(grid, dtype=np.int64).ravel()
    if flat.size and (flat.min() < 0 or flat.max() >= rows * cols):
        bad = np.flatnonzero((flat < 0) | (flat >= rows * cols))
        out.add("shape", bad, max(lc, 1), lambda i: (None, f"physical index {int(flat[i])} is outside the {rows}x{cols} grid"))
    if out.items:
        return out.items
    if flat.size == 0:
        return out.items

    def at(i: int) -> tuple[int, int]:
        return divmod(int(flat[i]), cols)

    # -- injective --------------------------------------------------------
    serving = np.zeros(rows * cols, dtype=bool)
    serving[flat] = True
    if np.count_nonzero(serving) < flat.size:  # some site serves two cores
        dup = np.flatnonzero(np.bincount(flat, minlength=rows * cols)[flat] > 1)
        # report every logical core after the first that lands on a shared site
        order = np.argsort(flat[dup], kind="stable")
        d_sorted = dup[order]
        later = np.ones(d_sorted.size, dtype=bool)
        later[1:] = flat[d_sorted[1:]] != flat[d_sorted[:-1]]
        repeats = np.sort(d_sorted[~later])
        first_of = {int(flat[d_sorted[k]]): int(d_sorted[k]) for k in np.flatnonzero(later)}
        out.add("injective", repeats, lc, lambda i: (at(i), "physical site ({}, {}) already serves logical ({}, {})".format(
            *at(i), *divmod(first_of[int(flat[i])], lc))))

    # -- target_exists / target_alive ------------------------------------
    exists = None
    if design is not None:
        exists = design.site_exists
        missing = np.flatnonzero(~exists.ravel()[flat])
        out.add("target_exists", missing, lc, lambda i: (at(i), "physical site ({}, {}) lies outside the usable wafer area".format(*at(i))))
    if defects.dead_sites.size:
        dead = np.zeros(rows * cols, dtype=bool)
        dead[defects.dead_sites] = True
        on_dead = np.flatnonzero(dead[flat])
        out.add("target_alive", on_dead, lc, lambda i: (at(i), "physical site ({}, {}) is dead".format(*at(i))))

    # -- reach and dead links, per edge -----------------------------------
    planes = None
    if defects.dead_links.size > 0 or (exists is not None and not exists.all()):
        active = active_dead_links(defects.dead_links, cols, serving)
        static = _edge_planes(design) if design is not None else LinkPlanes.build(rows, cols)
        planes = static.with_dead_links(active)
    scheme = repair_map.scheme
    for invariant, flags in zip(("reach", "dead_link"), _edge_flags(flat.reshape(lr, lc), cols, scheme, reach, planes)):
        hits = np.flatnonzero(flags)  # edge 2 * i + vertical, in (logical core, E before S) order
        for k in hits[:MAX_PER_INVARIANT].tolist():
            i, vertical = divmod(k, 2)
            nb = (i // lc, i % lc + 1) if not vertical else (i // lc + 1, i % lc)
            where = "({}, {})".format(*at(i))
            there = "({}, {})".format(*at(i + (lc if vertical else 1)))
            if invariant == "reach":
                msg = (f"logical ({i // lc}, {i % lc}) at {where} and its {'S' if vertical else 'E'} neighbour "
                       f"{nb} at {there} are beyond the reach of '{scheme}'"
                       + (f" (reach {reach:g})" if math.isfinite(reach) else ""))
            else:
                msg = (f"route from logical ({i // lc}, {i % lc}) at {where} to {nb} at "
                       f"{there} crosses a dead link on both L paths")
            out.items.append(Violation(invariant, (i // lc, i % lc), at(i), msg))
        if hits.size > MAX_PER_INVARIANT:
            out.one(invariant, f"... and {hits.size - MAX_PER_INVARIANT} more '{invariant}' violations not listed")
    return out.items


def max_detour(repair_map: RepairMap) -> int:
    """Largest extra hops of any logical edge's route beyond the 1 hop of a perfect mesh [links].

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> from yieldkit.redundancy import plan_repair
    >>> small = load_design("small")
    >>> max_detour(plan_repair(small, DefectMap(small.rows, small.cols, [5 * small.cols + 20])))
    1
    """
    p = np.asarray(repair_map.physical_of_logical, np.int64)
    if p.size == 0:
        return 0
    r, c = np.divmod(p, repair_map.physical_cols)
    best = 0
    if p.shape[1] > 1:
        best = max(best, int((np.abs(r[:, 1:] - r[:, :-1]) + np.abs(c[:, 1:] - c[:, :-1])).max()) - 1)
    if p.shape[0] > 1:
        best = max(best, int((np.abs(r[1:, :] - r[:-1, :]) + np.abs(c[1:, :] - c[:-1, :])).max()) - 1)
    return max(best, 0)
