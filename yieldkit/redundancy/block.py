"""``block(b, s)``: s spare sites inside every block of b x b logical cores.

Model
-----
The logical grid (``logical_rows x logical_cols``, both multiples of ``b``)
is tiled into b x b *tiles*. Tile ``(I, J)`` lives in its own physical *box*
of ``b`` rows and ``w = b + e`` columns, ``e = ceil(s / b)``: rows
``r0 + I b ...`` (``r0 = logical_row_offset``) and columns
``c0 + J w ...`` with ``c0 = (cols - (logical_cols / b) w) // 2`` (boxes
side by side, the band centred). The sites of a box are ranked column-major
(rank ``p`` at box row ``p % b``, box column ``p // b``) and only the first
``b^2 + s`` ranks are populated: the b x b tile, then ``s`` spare sites at
the top of the extra column(s); the other ``b e - s`` sites of the extra
columns are never used. Logical core ``(lr, lc)`` of the tile has rank
``j = lc b + lr`` and takes the (j + 1)-th *live* populated site (existing
and not dead): with no defects the tile maps onto the box's first b columns
(identity inside the box), and a dead site shifts every later logical core
one rank on. A box holds its tile when at most ``s`` of its ``b^2 + s``
populated sites are unusable (dead or outside the wafer), i.e. at most
``s`` dead sites on a fully existing box.

Logical neighbours are joined through the mesh over the L routes of
``yieldkit.fabric``. A dead link takes one of its end sites out of service
(the end outside every box, else the end whose box tolerates more dead
sites), so it costs at most one spare of one box. The reach
(``redundancy.reach``, Manhattan hops) defaults to
:func:`yieldkit.verify.block_worst_reach` ``(b, s)``, the longest edge the
model can produce, so with the default only missing sites at the wafer edge
can break an edge. A smaller explicit ``reach`` is enforced: a tile with an
edge longer than it fails. A failing edge fails the
tile of its W/N end.

With independent site failures of probability p and full boxes, the yield
is the product over boxes of binomial tails [1]_, [2]_:

.. math:: Y = \\prod_{\\text{boxes}} P[\\mathrm{Bin}(b^2 + s, p) \\le s]

Degraded part: the largest rectangle of good tiles (the maximal rectangle
of a binary matrix, histogram stack, O(tiles)), presented with the same
physical sites; the Monte-Carlo harvest is that rectangle too.

Batch assessor: dead links are mapped out, then dead sites are counted per
(wafer, box) sparsely; when the design clips a box or sets a reach below
the model's worst case, wafers with a dead site take the exact per-wafer
planner.

References
----------
.. [1] I. Koren, Z. Koren, "Defect tolerance in VLSI circuits: techniques
   and yield analysis", Proc. IEEE 86(9), 1998, pp. 1819-1838, sec. IV
   (block-level redundancy, yield as a product of per-block binomial tails).
.. [2] A. D. Singh, "Interstitial redundancy: an area efficient fault
   tolerance scheme for large area VLSI processor arrays", IEEE Trans.
   Computers 37(11), 1988, pp. 1398-1410 (local spares shared by a cluster
   of processors).
"""

from __future__ import annotations

from dataclasses import dataclass
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

__all__ = ["NAME", "SPEC", "plan", "assessor", "geometry", "Geometry", "link_cost"]

NAME = "block"
SPEC = SCHEMES[NAME]
ALGORITHM = "block/rank"


@dataclass(frozen=True, eq=False)
class Geometry:
    """Boxes of one design: see the module docstring."""

    b: int
    s: int
    e: int
    n_br: int  # tile rows
    n_bc: int  # tile columns
    r0: int
    c0: int
    reach: float
    worst: int
    sites: np.ndarray  # (n_boxes, b*b + s) flat physical site of each populated rank
    exists: np.ndarray  # (n_boxes, b*b + s)
    box_of_site: np.ndarray  # (n_sites,) int32, -1 outside every populated rank
    rank_of_site: np.ndarray  # (n_sites,) int32
    tolerance: np.ndarray  # (n_boxes,) dead sites each box still tolerates (negative: fails always)

    def __repr__(self) -> str:
        return f"Geometry(block b={self.b} s={self.s}, {self.n_br}x{self.n_bc} boxes, reach {self.reach:g})"

    @property
    def n_boxes(self) -> int:
        return self.n_br * self.n_bc

    @property
    def clipped(self) -> bool:
        return not bool(self.exists.all())


@lru_cache(maxsize=16)
def geometry(design: Design) -> Geometry:
    """The boxes of ``design`` (cached per design; the design's load checked that they fit)."""
    from yieldkit.verify import block_worst_reach

    params = resolve_scheme_params(NAME, design.scheme_params)
    b, s, reach = int(params["b"]), int(params["s"]), float(params["reach"])
    e = -(-s // b)
    w = b + e
    n_br, n_bc = design.logical_rows // b, design.logical_cols // b
    need = n_bc * w
    r0 = design.logical_row_offset
    c0 = (design.cols - need) // 2
    pop = b * b + s
    p = np.arange(pop)
    box_r, box_c = np.divmod(np.arange(n_br * n_bc), n_bc)
    rows = r0 + box_r[:, None] * b + (p % b)[None, :]
    cols = c0 + box_c[:, None] * w + (p // b)[None, :]
    sites = rows * design.cols + cols
    exists = design.site_exists.ravel()[sites]
    box_of_site = np.full(design.n_sites, -1, np.int32)
    rank_of_site = np.full(design.n_sites, -1, np.int32)
    box_of_site[sites.ravel()] = np.repeat(np.arange(n_br * n_bc, dtype=np.int32), pop)
    rank_of_site[sites.ravel()] = np.tile(p.astype(np.int32), n_br * n_bc)
    tolerance = exists.sum(axis=1) - b * b
    return Geometry(b, s, e, n_br, n_bc, r0, c0, reach, block_worst_reach(b, s), sites, exists, box_of_site,
                    rank_of_site, tolerance.astype(np.int64))


@lru_cache(maxsize=16)
def link_cost(design: Design) -> np.ndarray:
    """Static cost of mapping out each site for a dead link: free outside every box, else the fewer dead
    sites its box tolerates, the dearer."""
    g = geometry(design)
    box = g.box_of_site
    cost = np.where(box >= 0, -g.tolerance[np.maximum(box, 0)].astype(np.float64), -1e9)
    cost.setflags(write=False)
    return cost


def _logical_grid(g: Geometry, phys: np.ndarray) -> np.ndarray:
    """(n_boxes, b*b) physical sites by tile rank -> (LR, LC) logical grid."""
    b = g.b
    # rank j = lc * b + lr: (I, J, lc, lr) -> (I, lr, J, lc)
    return phys.reshape(g.n_br, g.n_bc, b, b).transpose(0, 3, 1, 2).reshape(g.n_br * b, g.n_bc * b)


def _edge_failures(design: Design, g: Geometry, defects: DefectMap, grid: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Tiles (flat, bool) whose W/N end of some logical edge exceeds the reach or has no L route inside the wafer.

    ``defects`` has its dead links mapped out (an end serves no core), so
    only the links of missing sites can block a route.
    """
    bad = np.zeros(g.n_boxes, dtype=bool)
    if not g.clipped and g.reach >= g.worst:
        return bad
    planes = LinkPlanes.build(design.rows, design.cols, exists=design.site_exists) if g.clipped else None
    b = g.b
    lr, lc = grid.shape
    tile_ok = ok.reshape(g.n_br, g.n_bc)
    okg = np.repeat(np.repeat(tile_ok, b, axis=0), b, axis=1)
    pr, pc = np.divmod(grid, design.cols)
    for a, bb in (((slice(None), slice(0, lc - 1)), (slice(None), slice(1, lc))),
                  ((slice(0, lr - 1), slice(None)), (slice(1, lr), slice(None)))):
        use = okg[a] & okg[bb]
        ri, ci = np.nonzero(use)
        r1, c1, r2, c2 = pr[a][use], pc[a][use], pr[bb][use], pc[bb][use]
        fail = (np.abs(r2 - r1) + np.abs(c2 - c1)) > g.reach
        if planes is not None:
            fail |= ~planes.routes_ok(r1, c1, r2, c2)
        bad[(ri[fail] // b) * g.n_bc + ci[fail] // b] = True
    return bad


def _tiles(design: Design, g: Geometry, defects: DefectMap) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(good tiles (n_boxes,), logical grid (LR, LC), reasons) of one wafer."""
    defects = map_out_links(defects, design.site_exists.ravel(), link_cost(design))
    unusable = ~g.exists.copy()
    dead = defects.dead_sites
    box = g.box_of_site[dead]
    hit = box >= 0
    unusable[box[hit], g.rank_of_site[dead[hit]]] = True
    b2 = g.b * g.b
    ok = (~unusable).sum(axis=1) >= b2
    order = np.argsort(unusable, axis=1, kind="stable")[:, :b2]  # live ranks first, in rank order
    phys = np.take_along_axis(g.sites, order, axis=1)
    grid = _logical_grid(g, phys)
    reasons: list[str] = []
    if not ok.all():
        first = int(np.flatnonzero(~ok)[0])
        reasons.append(f"{int((~ok).sum())} boxes have more than {g.s} unusable sites (first: tile "
                       f"{divmod(first, g.n_bc)}, {int(unusable[first].sum())} unusable)")
    edge_bad = _edge_failures(design, g, defects, grid, ok)
    if edge_bad.any():
        reasons.append(f"{int(edge_bad.sum())} tiles have a logical edge beyond reach {g.reach:g} or without a live route")
    return ok & ~edge_bad, grid, reasons


@numba.njit(cache=True)
def _max_rectangle(good: np.ndarray) -> tuple[int, int, int, int, int]:
    """Largest all-True rectangle of a 2-D bool matrix: (area, top, left, height, width)."""
    n_r, n_c = good.shape
    height = np.zeros(n_c + 1, np.int64)
    stack = np.zeros(n_c + 1, np.int64)
    best = (0, 0, 0, 0, 0)
    for r in range(n_r):
        for c in range(n_c):
            height[c] = height[c] + 1 if good[r, c] else 0
        top = 0
        for c in range(n_c + 1):
            h = height[c] if c < n_c else 0
            while top > 0 and h < height[stack[top - 1]]:
                top -= 1
                hh = height[stack[top]]
                left = stack[top - 1] + 1 if top > 0 else 0
                area = hh * (c - left)
                if area > best[0]:
                    best = (area, r - hh + 1, left, hh, c - left)
            stack[top] = c
            top += 1
    return best


def plan(design: Design, defects: DefectMap, allow_degraded: bool = True) -> RepairMap:
    """Repair one wafer: the full map, else the largest rectangle of good tiles (empty without ``allow_degraded``).

    Examples
    --------
    >>> from yieldkit.design import Design
    >>> d = Design("t", rows=8, cols=10, pitch_x_mm=1.0, pitch_y_mm=1.0, logical_rows=8, logical_cols=8,
    ...            scheme="block", scheme_params={"b": 4, "s": 1})
    >>> m = plan(d, DefectMap(d.rows, d.cols, [0, 1]))
    >>> m.complete, m.physical_of_logical.shape
    (False, (8, 4))
    """
    g = geometry(design)
    good, grid, reasons = _tiles(design, g, defects)
    if good.all():
        return make_map(design, defects, grid, complete=True, reason="", algorithm=ALGORITHM)
    reason = f"block(b={g.b}, s={g.s}): " + "; ".join(reasons)
    if not allow_degraded:
        return make_map(design, defects, np.zeros((0, 0), np.int64), complete=False, reason=reason, algorithm=ALGORITHM)
    area, top, left, h, w = _max_rectangle(good.reshape(g.n_br, g.n_bc))
    b = g.b
    part = grid[top * b:(top + h) * b, left * b:(left + w) * b] if area else np.zeros((0, 0), np.int64)
    return make_map(design, defects, np.ascontiguousarray(part), complete=False, reason=reason,
                    algorithm=ALGORITHM + "+max-rectangle")


@numba.njit(cache=True)
def _harvest(n_wafers: int, base_good: np.ndarray, wafers: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Tiles of the largest good rectangle of every wafer listed (``wafers``/``boxes`` sorted by wafer)."""
    out = np.zeros(n_wafers, np.int64)
    n_br, n_bc = base_good.shape
    i = 0
    good = base_good.copy()
    while i < wafers.size:
        w = wafers[i]
        j = i
        while j < wafers.size and wafers[j] == w:
            good[boxes[j] // n_bc, boxes[j] % n_bc] = False
            j += 1
        out[w] = _max_rectangle(good)[0]
        for k in range(i, j):
            good[boxes[k] // n_bc, boxes[k] % n_bc] = base_good[boxes[k] // n_bc, boxes[k] % n_bc]
        i = j
    return out


def assessor(design: Design):  # noqa: ANN201 - returns an Assessor
    """Batch assessor: dead sites (and mapped-out link ends) per (wafer, box), sparse; exact planner where
    clipping or a short reach matter."""
    from yieldkit.redundancy import BatchOutcome

    g = geometry(design)
    b2 = g.b * g.b
    static = plan(design, DefectMap.empty(design), allow_degraded=True)
    static_cores = static.logical_rows * static.logical_cols
    base_good = (g.tolerance >= 0).reshape(g.n_br, g.n_bc)
    sites_exact = g.clipped or g.reach < g.worst
    exists, cost = design.site_exists.ravel(), link_cost(design)

    def assess(batch: DefectBatch) -> BatchOutcome:
        nw = batch.n_wafers
        batch = map_out_links_batch(batch, exists, cost)
        box = g.box_of_site[batch.site]
        hit = box >= 0
        key = batch.site_wafer[hit] * g.n_boxes + box[hit]
        uniq, count = np.unique(key, return_counts=True)
        wafer, bx = np.divmod(uniq, g.n_boxes)
        failing = count > g.tolerance[bx]
        full = np.full(nw, static.complete)
        full[wafer[failing]] = False
        cores = np.where(full, design.logical_cores, 0).astype(np.int64)
        degraded = np.flatnonzero(~full)
        if degraded.size:
            tiles = _harvest(nw, base_good, wafer[failing].astype(np.int64), bx[failing].astype(np.int64))
            untouched = np.ones(nw, dtype=bool)
            untouched[wafer[failing]] = False
            cores[degraded] = np.where(untouched[degraded], static_cores, tiles[degraded] * b2)
        # exact per-wafer path where clipping or a short reach matter
        for w in np.unique(batch.site_wafer[hit]) if sites_exact else ():
            rm = plan(design, batch.wafer(int(w)), allow_degraded=True)
            full[w] = rm.complete
            cores[w] = rm.logical_rows * rm.logical_cols
        return BatchOutcome(full=full, logical_cores=cores)

    return assess

