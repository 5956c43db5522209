"""Incremental remap: map newly bad cores and links out, moving as few logical cores as possible.

:func:`remap` first tries a *local* repair and falls back to re-planning:

* local (scheme ``row-shift``, the design's scheme name): for every newly
  dead site serving a logical core, within its logical row shift the logical
  cores between the dead site and the nearest free live site of the same
  physical row, on whichever side moves fewer cores, keeping every other
  core in place; new dead links keep the mapping as it is. The result is only
  a *candidate*: it is always checked by the independent verifier
  ``yieldkit.verify.verify_repair_map`` (reach, routes over live links,
  order, ...), and the other side is tried when the first fails;
* re-plan: when no local candidate passes (or the scheme is not row-shift),
  ``yieldkit.repair.repair_wafer`` plans the whole wafer again on the
  accumulated defect map (dead at fab-out + mapped out in burn-in).

``moved`` counts the logical cores whose physical site changed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from yieldkit.defect_map import DefectMap
from yieldkit.design import Design
from yieldkit.repair import repair_wafer
from yieldkit.repair_map import RepairMap
from yieldkit.verify import verify_repair_map

__all__ = ["RemapResult", "remap", "moved_cores", "local_shift"]

LOCAL_ALGORITHM = "burnin/local-shift"


@dataclass(frozen=True, eq=False)
class RemapResult:
    """A remap: the new map, how many logical cores moved, and how it was planned.

    Attributes
    ----------
    repair_map : RepairMap
    moved : int
        Logical cores whose physical site changed [-].
    method : str
        ``none`` (nothing new), ``local`` or ``replan``.
    new_dead_sites, new_dead_links : ndarray of int64
        What was mapped out now (flat site ids, link ids).
    violations : int
        Verifier findings on the returned map (0 for a valid map).
    """

    repair_map: RepairMap
    moved: int
    method: str
    new_dead_sites: np.ndarray
    new_dead_links: np.ndarray
    violations: int = 0

    @property
    def complete(self) -> bool:
        return bool(self.repair_map.complete and self.violations == 0)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "moved": self.moved, "complete": self.complete,
                "logical_rows": self.repair_map.logical_rows, "logical_cols": self.repair_map.logical_cols,
                "new_dead_sites": self.new_dead_sites.tolist(), "new_dead_links": self.new_dead_links.tolist(),
                "violations": self.violations}

    def __repr__(self) -> str:
        return (f"RemapResult({self.method}, moved={self.moved}, {self.new_dead_sites.size} cores, "
                f"{self.new_dead_links.size} links, complete={self.complete})")


def moved_cores(old: np.ndarray, new: np.ndarray) -> int:
    """Logical cores whose site differs between two mappings (all of ``new`` when the shapes differ).

    Examples
    --------
    >>> moved_cores(np.array([[0, 1, 2]]), np.array([[0, 2, 3]]))
    2
    """
    old, new = np.asarray(old), np.asarray(new)
    if old.shape != new.shape:
        return int(new.size)
    return int((old != new).sum())


def local_shift(pol: np.ndarray, site: int, usable: np.ndarray, cols: int, prefer: str = "fewer") -> np.ndarray | None:
    """The mapping with ``site`` vacated by shifting its logical row towards the nearest free site.

    Parameters
    ----------
    pol : ndarray of int64, shape (R, C)
        Current mapping (not modified).
    site : int
        Flat physical site to vacate.
    usable : ndarray of bool, shape (n_sites,)
        Sites that exist and are not dead (``site`` itself excluded).
    cols : int
        Physical columns.
    prefer : {"fewer", "left", "right"}

    Returns
    -------
    ndarray or None
        None when the row has no free usable site.

    Examples
    --------
    >>> pol = np.array([[1, 2, 3, 4]])            # a 1 x 6 row, spares at 0 and 5
    >>> usable = np.ones(6, bool); usable[3] = False
    >>> local_shift(pol, 3, usable, 6).tolist()   # right side: moves cores 2 and 3
    [[1, 2, 4, 5]]
    """
    where = np.argwhere(pol == site)
    if where.size == 0:
        return pol
    r, c = (int(x) for x in where[0])
    row = pol[r]
    pr = site // cols
    used = np.zeros(usable.size, bool)
    used[pol.ravel()] = True
    base = pr * cols
    free = usable[base:base + cols] & ~used[base:base + cols]
    pc = site - base
    left = np.flatnonzero(free[:pc])
    right = np.flatnonzero(free[pc + 1:]) + pc + 1
    options = []
    if left.size:
        f = base + int(left[-1])
        k = int(np.searchsorted(row[:c], f, side="right"))
        new = row.copy()
        new[k] = f
        new[k + 1:c + 1] = row[k:c]
        options.append(("left", c - k + 1, new))
    if right.size:
        g = base + int(right[0])
        m = int(np.searchsorted(row, g)) - 1
        new = row.copy()
        new[c:m] = row[c + 1:m + 1]
        new[m] = g
        options.append(("right", m - c + 1, new))
    if not options:
        return None
    if prefer in ("left", "right"):
        chosen = [o for o in options if o[0] == prefer]
        if not chosen:
            return None
        new = chosen[0][2]
    else:
        new = min(options, key=lambda o: (o[1], o[0] != "right"))[2]
    out = pol.copy()
    out[r] = new
    return out


def _union(a: np.ndarray, b: Any) -> np.ndarray:
    return np.union1d(np.asarray(a, np.int64), np.asarray(b, np.int64)).astype(np.int64)


def remap(design: Design, current: RepairMap, dead_sites: Any = (), dead_links: Any = ()) -> RemapResult:
    """Map ``dead_sites`` and ``dead_links`` out of ``current`` (module docstring).

    Parameters
    ----------
    design : Design
    current : RepairMap
        The map in the loaded image; its defects are the accumulated ones.
    dead_sites, dead_links : array-like of int
        Newly bad flat sites and physical links.

    Returns
    -------
    RemapResult

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> d = load_design("small")
    >>> start = repair_wafer(d, DefectMap.empty(d)).repair_map
    >>> site = int(start.physical_of_logical[10, 5])
    >>> result = remap(d, start, [site])
    >>> result.method, result.moved, result.complete, result.moved < 64
    ('local', 6, True, True)
    """
    old = current.defects
    sites = np.setdiff1d(np.asarray(dead_sites, np.int64), old.dead_sites)
    links = np.setdiff1d(np.asarray(dead_links, np.int64), old.dead_links)
    if sites.size == 0 and links.size == 0:
        return RemapResult(current, 0, "none", sites, links)
    defects = DefectMap(old.rows, old.cols, _union(old.dead_sites, sites), _union(old.dead_links, links),
                        design=old.design or design.name)
    pol = np.asarray(current.physical_of_logical, np.int64)
    if design.scheme == "row-shift" and current.complete:
        usable = design.site_exists.ravel().copy()
        usable[defects.dead_sites] = False
        for prefer in ("fewer", "left", "right"):
            cand = pol
            for site in sites.tolist():
                cand = local_shift(cand, site, usable, design.cols, prefer)
                if cand is None:
                    break
            if cand is None:
                continue
            candidate = replace(current, physical_of_logical=cand, defects=defects, algorithm=LOCAL_ALGORITHM)
            if not verify_repair_map(candidate, design):
                return RemapResult(candidate, moved_cores(pol, cand), "local", sites, links)
    report = repair_wafer(design, defects)
    new = report.repair_map
    return RemapResult(new, moved_cores(pol, new.physical_of_logical), "replan", sites, links,
                       len(report.violations))
