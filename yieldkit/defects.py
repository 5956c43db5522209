"""Defect models: sample defect *positions* on wafers, not per-core coin flips.

A wafer carries tens to hundreds of defects, not 10^6 Bernoulli trials, so a
batch of wafers is drawn as a few vectorised arrays:

1. the wafer's mean defect count ``lambda = D0 * A`` over the usable circle,
   gamma-mixed for clustered defects (Stapper's negative binomial: ``lambda ~
   Gamma(alpha, D0 A / alpha)``, so the count is NB with mean ``D0 A``);
2. positions: uniform over the circle, or a radial profile with more defects
   near the edge (density proportional to ``1 + beta (r / R)^p``), or a
   stationary Thomas cluster process (see below);
3. sizes from the classical ``x0^2 / x^3`` tail (Stapper 1983), truncated at
   ``max_size_um``; a defect kills with the critical-area ``kill_probability``
   and then kills every existing site its disk overlaps;
4. a ``link_fraction`` of defects lands on the fabric link nearest to it (a
   dead link, not a dead core).

The Thomas process
------------------
Parents form a Poisson process of intensity ``D0 / mu`` over the whole
plane; each has Poisson(``mu``) children displaced from it by an isotropic
Gaussian of standard deviation ``sigma``; the children that land inside the
usable circle are the wafer's defects, wherever their parent is. The process
is stationary, so the expected number of defects in any region of the wafer
is ``D0 x area`` whatever ``sigma``; it only changes how they clump.

It is sampled exactly, at a cost that does not depend on ``sigma``
(about ``D0 A (1 + mu)`` Gaussian draws per wafer), by drawing the clusters
through their children rather than their parents:

- propose ``Poisson(D0 A)`` (parent, child) pairs: the child uniform over the
  circle, its parent one Gaussian step away from it (these pairs are a
  Poisson process of intensity ``(D0 / mu) mu phi(child - parent)``, the
  intensity of parent-child pairs with the child on the wafer);
- give each proposed parent Poisson(``mu``) siblings one Gaussian step from
  it, keep those inside the circle, and call ``k`` the cluster's children on
  the wafer (1 + kept siblings);
- keep the cluster with probability ``1 / k``.

A cluster with ``k`` children on the wafer is proposed once through each of
them, ``k`` times the target intensity; thinning by ``1 / k`` leaves exactly
the Thomas process restricted to the circle (the siblings of a child of a
Poisson cluster are again Poisson(``mu``), Slivnyak-Mecke).

Stream versions
---------------
:data:`STREAM_VERSION` names the mapping from a random stream to wafers; it is
recorded with every simulation result. Version 2 changed the Thomas sampler
(version 1 dropped the defects of parents beyond a 6 sigma window and so lost
density as sigma grew); uniform and radial wafers are unchanged.

References
----------
.. [1] C. H. Stapper, "Modeling of integrated circuit defect sensitivities",
   IBM J. Res. Dev. 27(6), 1983, pp. 549-557.
.. [2] C. H. Stapper, F. M. Armstrong, K. Saji, "Integrated circuit yield
   statistics", Proc. IEEE 71(4), 1983, pp. 453-470.
.. [3] M. Thomas, "A generalization of Poisson's binomial limit for use in
   ecology", Biometrika 36, 1949, pp. 18-25 (the Thomas cluster process).
.. [4] S. N. Chiu, D. Stoyan, W. S. Kendall, J. Mecke, *Stochastic Geometry
   and its Applications*, 3rd ed., Wiley, 2013, sec. 5.3 (Neyman-Scott
   processes and their Palm distributions).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from numbers import Real
from typing import Any, Literal

import numba
import numpy as np

from yieldkit.defect_map import EAST, SOUTH, DefectMap
from yieldkit.design import Design
from yieldkit.errors import Failure, InputError
from yieldkit.window import window_for, window_points

__all__ = [
    "DefectModel",
    "DefectModelError",
    "DefectBatch",
    "MAX_CLUSTER_MEAN_SIZE",
    "MAX_MEAN_DEFECTS",
    "MAX_RADIAL_BETA",
    "MAX_RADIAL_POWER",
    "MAX_SIZE_UM",
    "STREAM_VERSION",
    "dead_from_defects",
    "sample_batch",
    "sample_positions_mm",
    "sample_sizes_um",
    "sample_defect_map",
    "sample_wafer",
    "sorted_unique",
    "wafer_rng",
]

#: Version of the mapping from random streams to wafers (see the module docstring).
STREAM_VERSION = 2
#: Largest mean defect count per wafer the sampler accepts (memory grows with it).
MAX_MEAN_DEFECTS = 1e6
#: Largest radial excess: the edge density is ``1 + beta`` times the centre's. Beyond
#: 1e15 the uniform term 1 vanishes next to ``beta`` in double precision (the
#: normalisation ``pi R^2 (1 + 2 beta / (p + 2))`` rounds to its beta part), so the
#: profile is the pure ``(r / R)^p`` in all but name; near 1e308 the normalisation
#: itself overflows and every defect would vanish.
MAX_RADIAL_BETA = 1e15
#: Steepest radial profile: with p = 100 the excess sits within about R / 100
#: (1.5 mm on a 300 mm wafer, less than the usual edge exclusion) of the usable
#: edge; steeper profiles are a ring of no width, and the window's quadrature
#: (``yieldkit.window``) would no longer resolve them.
MAX_RADIAL_POWER = 100.0
#: Largest defect diameter [um]: 300 mm, a whole wafer (the size tail is truncated there).
MAX_SIZE_UM = 300_000.0
#: Largest mean cluster size: the Thomas sampler draws about ``1 + mu`` positions per defect.
MAX_CLUSTER_MEAN_SIZE = 1000.0
#: Thomas proposals handled at once (bounds memory; part of the stream contract).
_THOMAS_CHUNK = 1 << 16

Spatial = Literal["uniform", "radial", "thomas"]
_SPATIAL = ("uniform", "radial", "thomas")
#: Parameters that only act under one spatial model.
_CONTEXT = {"radial_beta": "radial", "radial_power": "radial",
            "cluster_mean_size": "thomas", "cluster_sigma_mm": "thomas"}


class DefectModelError(InputError):
    """A defect model parameter is out of range; ``parameter`` names it."""


def _is_number(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


@dataclass(frozen=True)
class DefectModel:
    """Parameters of the defect process on one wafer.

    Every parameter is checked on construction: a bad value raises
    :class:`DefectModelError` whose ``parameter`` is the field at fault and
    whose reason says what is allowed. The radial parameters act only with
    ``spatial="radial"`` and the cluster parameters only with
    ``spatial="thomas"``: setting them to anything but their default under
    another spatial model is an error, not a silent no-op.

    Parameters
    ----------
    d0_per_cm2 : float
        Mean killer-defect density over the usable wafer area [cm^-2], finite, >= 0.
    alpha : float or None
        Negative-binomial clustering parameter [-], finite, > 0; None means no
        clustering (Poisson counts). Smaller alpha = stronger clustering.
    spatial : {"uniform", "radial", "thomas"}
        How positions are placed over the usable circle.
    radial_beta : float
        Radial profile ``1 + beta (r / R)^power``: the edge density is
        ``1 + beta`` times the centre's [-], in [0, :data:`MAX_RADIAL_BETA`].
    radial_power : float
        Exponent of the radial profile [-], in (0, :data:`MAX_RADIAL_POWER`].
    cluster_mean_size : float
        Thomas process: mean defects per cluster, mu [-], in (0, :data:`MAX_CLUSTER_MEAN_SIZE`].
    cluster_sigma_mm : float
        Thomas process: Gaussian spread of a cluster's defects [mm], >= 0;
        any value keeps the density D0 (clusters wider than the wafer are
        simply nearly uniform).
    x0_um : float
        Size distribution scale: sizes follow ``2 x0^2 / x^3`` for x >= x0
        [um], <= ``max_size_um``; 0 means point defects.
    max_size_um : float
        Largest defect diameter [um] (the tail is truncated there), in (0, :data:`MAX_SIZE_UM`].
    kill_probability : float
        Critical-area fraction: probability a defect kills what it hits [-], in [0, 1].
    link_fraction : float
        Fraction of defects that land on a fabric link instead of a core [-], in [0, 1].

    Raises
    ------
    DefectModelError
        A parameter out of range, not finite, or set where it has no effect.

    Examples
    --------
    >>> DefectModel(0.1, alpha=2.0)
    DefectModel(d0=0.1 cm^-2, alpha=2, uniform, x0=0.5 um)
    >>> DefectModel(float("inf"))
    Traceback (most recent call last):
    ...
    yieldkit.defects.DefectModelError: d0_per_cm2: must be a finite number, got inf
    >>> DefectModel(0.1, radial_beta=2.0)
    Traceback (most recent call last):
    ...
    yieldkit.defects.DefectModelError: radial_beta: only acts with spatial='radial' (spatial is 'uniform')
    """

    d0_per_cm2: float
    alpha: float | None = None
    spatial: Spatial = "uniform"
    radial_beta: float = 0.0
    radial_power: float = 4.0
    cluster_mean_size: float = 5.0
    cluster_sigma_mm: float = 2.0
    x0_um: float = 0.5
    max_size_um: float = 2000.0
    kill_probability: float = 1.0
    link_fraction: float = 0.0

    def __post_init__(self) -> None:
        if self.spatial not in _SPATIAL:
            raise DefectModelError(f"must be one of {', '.join(_SPATIAL)}, got {self.spatial!r}", parameter="spatial")
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "spatial"}
        for name, value in values.items():
            if value is None and name == "alpha":
                continue
            if not _is_number(value) or not math.isfinite(value):
                raise DefectModelError(f"must be a finite number, got {value!r}", parameter=name)
        defaults = {f.name: f.default for f in fields(self)}
        for name, needed in _CONTEXT.items():
            if self.spatial != needed and values[name] != defaults[name]:
                raise DefectModelError(f"only acts with spatial={needed!r} (spatial is {self.spatial!r})",
                                       parameter=name)
        rules: list[tuple[str, bool, str]] = [
            ("d0_per_cm2", self.d0_per_cm2 >= 0, "must be >= 0"),
            ("alpha", self.alpha is None or self.alpha > 0, "must be > 0 (or omitted for Poisson)"),
            ("radial_beta", self.radial_beta >= 0, "must be >= 0"),
            ("radial_beta", self.radial_beta <= MAX_RADIAL_BETA,
             f"must be <= {MAX_RADIAL_BETA:g} (the edge density at most 1 + {MAX_RADIAL_BETA:g} times the centre's)"),
            ("radial_power", self.radial_power > 0, "must be > 0"),
            ("radial_power", self.radial_power <= MAX_RADIAL_POWER, f"must be <= {MAX_RADIAL_POWER:g}"),
            ("cluster_mean_size", self.cluster_mean_size > 0, "must be > 0"),
            ("cluster_mean_size", self.cluster_mean_size <= MAX_CLUSTER_MEAN_SIZE,
             f"must be <= {MAX_CLUSTER_MEAN_SIZE:g}"),
            ("cluster_sigma_mm", self.cluster_sigma_mm >= 0, "must be >= 0"),
            ("x0_um", self.x0_um >= 0, "must be >= 0"),
            ("max_size_um", self.max_size_um > 0, "must be > 0"),
            ("max_size_um", self.max_size_um <= MAX_SIZE_UM, f"must be <= {MAX_SIZE_UM:g} (a whole 300 mm wafer)"),
            ("kill_probability", 0 <= self.kill_probability <= 1, "must be in [0, 1]"),
            ("link_fraction", 0 <= self.link_fraction <= 1, "must be in [0, 1]"),
        ]
        for name, ok, reason in rules:
            if not ok:
                raise DefectModelError(f"{reason}, got {values[name]!r}", parameter=name)
        if self.x0_um > self.max_size_um:
            # Blame the one the user changed: max_size_um only when it is not the default.
            if self.max_size_um == defaults["max_size_um"]:
                raise DefectModelError(f"must be <= max_size_um ({self.max_size_um:g} um), got {self.x0_um!r}",
                                       parameter="x0_um")
            raise DefectModelError(f"must be >= x0_um ({self.x0_um:g} um), got {self.max_size_um!r}",
                                   parameter="max_size_um")

    def __repr__(self) -> str:
        defaults = {f.name: f.default for f in fields(self)}
        parts = [f"d0={self.d0_per_cm2:g} cm^-2", "poisson" if self.alpha is None else f"alpha={self.alpha:g}",
                 self.spatial]
        if self.spatial == "radial":
            parts.append(f"beta={self.radial_beta:g}, p={self.radial_power:g}")
        if self.spatial == "thomas":
            parts.append(f"mu={self.cluster_mean_size:g}, sigma={self.cluster_sigma_mm:g} mm")
        parts.append(f"x0={self.x0_um:g} um")
        for name, unit in (("max_size_um", " um"), ("kill_probability", ""), ("link_fraction", "")):
            if getattr(self, name) != defaults[name]:
                parts.append(f"{name}={getattr(self, name):g}{unit}")
        return f"DefectModel({', '.join(parts)})"

    def to_dict(self) -> dict[str, Any]:
        """Every parameter, flat and JSON-safe (``DefectModel(**d)`` rebuilds it)."""
        return asdict(self)

    def mean_defects(self, design: Design) -> float:
        """Mean number of defects over the usable circle of ``design`` [-]: ``D0 pi R^2``."""
        return self.d0_per_cm2 * math.pi * design.usable_radius_mm**2 / 100.0

    def checked_mean_defects(self, design: Design) -> float:
        """The mean defect count on ``design`` [-], or :class:`DefectModelError` naming
        ``d0_per_cm2`` when it exceeds :data:`MAX_MEAN_DEFECTS` (memory grows with it)."""
        mean = self.mean_defects(design)
        if mean > MAX_MEAN_DEFECTS:
            raise DefectModelError(f"must give at most {MAX_MEAN_DEFECTS:.0e} defects per wafer, got "
                                   f"{self.d0_per_cm2:g} cm^-2 x {mean / self.d0_per_cm2:.4g} cm^2 = {mean:.3g} "
                                   f"on design {design.name} (is D0 in defects per cm^2?)", parameter="d0_per_cm2")
        return mean


@dataclass(frozen=True, eq=False)
class DefectBatch:
    """The dead sites and links of ``n_wafers`` wafers, sparse and sorted by wafer.

    Attributes
    ----------
    n_wafers, rows, cols : int
        Wafers in the batch and the design's grid [-].
    site_wafer, site : ndarray of int64
        One entry per (wafer, dead site) pair, unique, sorted by wafer then site.
    link_wafer, link : ndarray of int64
        One entry per (wafer, dead link) pair, unique, sorted likewise.
    n_defects : ndarray of int64, shape (n_wafers,)
        Defects placed on each wafer's usable circle (including those that hit nothing).
    """

    n_wafers: int
    rows: int
    cols: int
    site_wafer: np.ndarray
    site: np.ndarray
    link_wafer: np.ndarray
    link: np.ndarray
    n_defects: np.ndarray

    def dead_per_wafer(self) -> np.ndarray:
        """Number of dead sites on each wafer."""
        return np.bincount(self.site_wafer, minlength=self.n_wafers)

    def wafer(self, index: int, design: str = "") -> DefectMap:
        """The :class:`DefectMap` of one wafer of the batch."""
        s0, s1 = np.searchsorted(self.site_wafer, [index, index + 1])
        l0, l1 = np.searchsorted(self.link_wafer, [index, index + 1])
        return DefectMap(self.rows, self.cols, self.site[s0:s1], self.link[l0:l1], design=design)

    def to_dict(self) -> dict[str, Any]:
        """Totals over the batch, flat and JSON-safe."""
        return {"wafers": self.n_wafers, "rows": self.rows, "cols": self.cols,
                "defects": int(self.n_defects.sum()), "dead_sites": int(self.site.size),
                "dead_links": int(self.link.size)}

    def __repr__(self) -> str:
        return (f"DefectBatch({self.n_wafers} wafers of {self.rows}x{self.cols}: {int(self.n_defects.sum())} defects, "
                f"{self.site.size} dead sites, {self.link.size} dead links)")


def _uniform_in_disk(rng: np.random.Generator, n: int, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform over the disk of ``radius`` about the origin (inverse CDF, no rejection)."""
    r = radius * np.sqrt(rng.random(n))
    theta = 2.0 * math.pi * rng.random(n)
    return r * np.cos(theta), r * np.sin(theta)


def _thomas_chunk(rng: np.random.Generator, model: DefectModel, radius: float, n: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clusters through ``n`` proposed children (module docstring).

    Returns (x_mm, y_mm, proposal index) of the children of the clusters kept:
    each kept proposal's own child and its siblings inside the circle.
    """
    sigma, r2 = model.cluster_sigma_mm, radius * radius
    cx, cy = _uniform_in_disk(rng, n, radius)
    px = cx + sigma * rng.standard_normal(n)
    py = cy + sigma * rng.standard_normal(n)
    siblings = rng.poisson(model.cluster_mean_size, n)
    owner = np.repeat(np.arange(n, dtype=np.int64), siblings)
    sx = px[owner] + sigma * rng.standard_normal(owner.size)
    sy = py[owner] + sigma * rng.standard_normal(owner.size)
    inside = sx * sx + sy * sy <= r2
    owner, sx, sy = owner[inside], sx[inside], sy[inside]
    on_wafer = 1 + np.bincount(owner, minlength=n)
    kept = rng.random(n) * on_wafer < 1.0
    sib = kept[owner]
    index = np.flatnonzero(kept)
    return (np.concatenate([cx[index], sx[sib]]), np.concatenate([cy[index], sy[sib]]),
            np.concatenate([index, owner[sib]]))


def _thomas_positions(rng: np.random.Generator, design: Design, model: DefectModel, lam: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The Thomas process on each wafer: (wafer, x_mm, y_mm) of the defects within reach of the grid, counts.

    Exact at any ``cluster_sigma_mm`` and at a cost independent of it (module
    docstring); proposals are handled in chunks of ``_THOMAS_CHUNK``.
    """
    n = lam.size
    proposals = rng.poisson(lam)
    proposal_wafer = np.repeat(np.arange(n, dtype=np.int64), proposals)
    window = window_for(design, model.max_size_um / 2000.0)
    counts = np.zeros(n, dtype=np.int64)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for start in range(0, proposal_wafer.size, _THOMAS_CHUNK):
        wafers = proposal_wafer[start:start + _THOMAS_CHUNK]
        x, y, owner = _thomas_chunk(rng, model, design.usable_radius_mm, wafers.size)
        child_wafer = wafers[owner]
        counts += np.bincount(child_wafer, minlength=n)
        near = (x >= window.x_lo) & (x <= window.x_hi) & (y >= window.y_lo) & (y <= window.y_hi)
        parts.append((child_wafer[near], x[near], y[near]))
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0), counts
    wafer, x, y = (np.concatenate(column) for column in zip(*parts))
    return wafer, x, y, counts


def _positions(rng: np.random.Generator, design: Design, model: DefectModel, lam: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(wafer index, x_mm, y_mm) of every defect that can reach a site, and each wafer's total count.

    Counts are drawn over the whole usable circle; for the uniform and radial
    models only their binomial thinning to the sampling window
    (``yieldkit.window``) gets positions.
    """
    if model.spatial == "thomas":
        return _thomas_positions(rng, design, model, lam)
    n = lam.size
    reach_mm = model.max_size_um / 2000.0
    beta = model.radial_beta if model.spatial == "radial" else 0.0
    window = window_for(design, reach_mm, beta, model.radial_power)
    counts = rng.poisson(lam)
    near = rng.binomial(counts, window.mass)
    wafer = np.repeat(np.arange(n, dtype=np.int64), near)
    x, y = window_points(rng, wafer.size, window)
    return wafer, x, y, counts


def sample_positions_mm(rng: np.random.Generator, design: Design, model: DefectModel, n: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Positions [mm, wafer centre] of the defects of one wafer over the whole usable circle.

    ``n`` is the wafer's defect count for the uniform and radial models (the
    radial profile ``1 + beta (r/R)^p``); for the Thomas model it is the
    number of cluster proposals (about ``D0 A``), and the children of the
    clusters kept are returned (see the module docstring). Unlike the yield
    sampler, which only places the defects that can reach a core site, every
    defect gets a position: this is what an inspection tool sees.

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> x, y = sample_positions_mm(np.random.default_rng(1), load_design("small"), DefectModel(0.5), 100)
    >>> x.size, bool((np.hypot(x, y) <= load_design("small").usable_radius_mm).all())
    (100, True)
    """
    radius = design.usable_radius_mm
    if model.spatial == "thomas":
        x, y, _ = _thomas_chunk(rng, model, radius, n)
        return x, y
    beta = model.radial_beta if model.spatial == "radial" else 0.0
    return window_points(rng, n, window_for(design, radius, beta, model.radial_power))


def sample_sizes_um(rng: np.random.Generator, model: DefectModel, n: int) -> np.ndarray:
    """``n`` defect diameters [um] from ``p(x) = 2 x0^2 / x^3`` truncated to [x0, max]: x = x0 / sqrt(U).

    Zeros for point defects (``x0_um = 0``).

    Examples
    --------
    >>> sizes = sample_sizes_um(np.random.default_rng(1), DefectModel(0.1, x0_um=0.5), 1000)
    >>> bool(sizes.min() >= 0.5 and sizes.max() <= 2000.0)
    True
    """
    if model.x0_um == 0:
        return np.zeros(n)
    floor = (model.x0_um / model.max_size_um) ** 2
    return model.x0_um / np.sqrt(floor + (1.0 - floor) * rng.random(n))


def _large_defect_sites(design: Design, x: np.ndarray, y: np.ndarray, radius_mm: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """(defect index, flat site) of every existing site a large defect's disk overlaps (see :func:`_disk_sites`)."""
    return _disk_sites(x, y, radius_mm, design.site_exists, float(design.x0_mm), float(design.y0_mm),
                       float(design.pitch_x_mm), float(design.pitch_y_mm))


@numba.njit(cache=True, nogil=True)
def _disk_sites(x: np.ndarray, y: np.ndarray, radius_mm: np.ndarray, site_exists: np.ndarray, x0: float, y0: float,
                pitch_x: float, pitch_y: float) -> tuple[np.ndarray, np.ndarray]:
    """(defect index, flat site) of every existing site the disk (x, y, radius) overlaps, per disk in order.

    A disk overlaps a cell when the cell's point nearest to its centre lies
    within the radius. Only the cells of its bounding box are tested: the
    3 x 3 cells about the landing cell for a disk smaller than one pitch
    (the common case), ``ceil(radius / pitch) + 1`` cells either way for a
    larger one. Two passes: count, then fill.
    """
    rows, cols = site_exists.shape
    index = np.empty(0, dtype=np.int64)
    site = np.empty(0, dtype=np.int64)
    for fill in range(2):
        k = 0
        for i in range(x.size):
            row = np.int64(np.floor((y0 - y[i]) / pitch_y))
            col = np.int64(np.floor((x[i] - x0) / pitch_x))
            span_r = span_c = 1
            if radius_mm[i] >= min(pitch_x, pitch_y):
                span_r = np.int64(np.ceil(radius_mm[i] / pitch_y)) + 1
                span_c = np.int64(np.ceil(radius_mm[i] / pitch_x)) + 1
            r2 = radius_mm[i] * radius_mm[i]
            for r in range(max(row - span_r, 0), min(row + span_r, rows - 1) + 1):
                top = y0 - r * pitch_y
                dy = min(max(y[i], top - pitch_y), top) - y[i]
                for c in range(max(col - span_c, 0), min(col + span_c, cols - 1) + 1):
                    left = x0 + c * pitch_x
                    dx = min(max(x[i], left), left + pitch_x) - x[i]
                    if dx * dx + dy * dy <= r2 and site_exists[r, c]:
                        if fill:
                            index[k] = i
                            site[k] = r * cols + c
                        k += 1
        if not fill:
            index = np.empty(k, dtype=np.int64)
            site = np.empty(k, dtype=np.int64)
    return index, site


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` of a 1-d integer array, by one sort.

    The same array as ``np.unique`` (sorted, distinct values), but numpy >= 2.3
    routes ``np.unique`` of integers through a hash table and then sorts the
    result, several times slower than sorting the small arrays of the Monte
    Carlo directly (the engine's largest single cost before, see ``benchmarks``).
    """
    keys = np.sort(np.asarray(values).ravel())
    if keys.size > 1:
        keep = np.empty(keys.size, dtype=bool)
        keep[0] = True
        np.not_equal(keys[1:], keys[:-1], out=keep[1:])
        keys = keys[keep]
    return keys


#: Bits of one digit of the radix sort of keys (2048 counters, well inside the L1 cache).
_RADIX_BITS = 11


def _item_bits(n: int) -> int:
    """Bits the items of a key need: the smallest ``b`` with ``2**b >= n`` (``n`` sites or links)."""
    return max(int(n) - 1, 0).bit_length()


@numba.njit(cache=True, nogil=True)
def _distinct_pairs(keys: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (wafer, item) pairs, sorted, of the non-negative keys ``wafer << bits | item``.

    An LSD radix sort (stable counting passes over digits of :data:`_RADIX_BITS`
    bits, a pass skipped when every key has the same digit there), linear in
    the keys where numpy's sorts are n log n: three passes for a block of the
    Monte Carlo, about 2x faster than numpy's stable sort of the same keys;
    then one pass that keeps the first of each run and splits it by shift and
    mask. :func:`_distinct_pairs_numpy` is the reference.
    """
    n = keys.size
    radix = 1 << _RADIX_BITS
    top = 0
    for i in range(n):
        top = max(top, keys[i])
    a = keys.copy()
    b = np.empty_like(a)
    count = np.empty(radix, dtype=np.int64)
    shift = 0
    while (top >> shift) > 0:
        count[:] = 0
        for i in range(n):
            count[(a[i] >> shift) & (radix - 1)] += 1
        if count.max() < n:
            total = 0
            for d in range(radix):
                total, count[d] = total + count[d], total
            for i in range(n):
                d = (a[i] >> shift) & (radix - 1)
                b[count[d]] = a[i]
                count[d] += 1
            a, b = b, a
        shift += _RADIX_BITS
    first = np.empty(n, dtype=np.int64)
    second = np.empty(n, dtype=np.int64)
    k = 0
    for i in range(n):
        if i == 0 or a[i] != a[i - 1]:
            first[k] = a[i] >> bits
            second[k] = a[i] & ((1 << bits) - 1)
            k += 1
    return first[:k].copy(), second[:k].copy()


def _distinct_pairs_numpy(keys: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Reference of :func:`_distinct_pairs`: ``np.unique``, split."""
    distinct = np.unique(keys)
    return distinct >> bits, distinct & ((1 << bits) - 1)


def sample_batch(design: Design, model: DefectModel, n_wafers: int, rng: np.random.Generator) -> DefectBatch:
    """Sample the defects of ``n_wafers`` wafers of ``design``.

    Parameters
    ----------
    design : Design
        The wafer: grid, pitch [mm], usable radius [mm].
    model : DefectModel
        The defect process.
    n_wafers : int
        Wafers in the batch [-].
    rng : numpy.random.Generator
        The batch's random stream (one stream per batch, see ``montecarlo``);
        its state afterwards is not part of the stream contract (draws whose
        outcome is certain are skipped at the end, see :func:`_coins`).

    Returns
    -------
    DefectBatch

    Raises
    ------
    DefectModelError
        ``d0_per_cm2`` means more than :data:`MAX_MEAN_DEFECTS` defects per wafer.
    yieldkit.errors.Failure
        Out of memory, saying what was being built.

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> small = load_design("small")
    >>> batch = sample_batch(small, DefectModel(1.0, x0_um=0), 100, np.random.default_rng(1))
    >>> batch.n_wafers, batch.n_defects.shape
    (100, (100,))
    >>> round(float(batch.n_defects.mean()))  # D0 x usable area = 679 defects per wafer
    677
    """
    mean = model.checked_mean_defects(design)
    try:
        return _sample(design, model, n_wafers, rng, mean)
    except MemoryError as exc:
        raise Failure(f"out of memory sampling {n_wafers} wafers x {mean:.3g} mean defects on design "
                      f"{design.name} ({model.spatial} defects): {exc or 'no detail'}") from None


def _coins(rng: np.random.Generator, n: int, probabilities: tuple[float, ...]) -> list[np.ndarray]:
    """For each probability ``p`` in turn, ``n`` Bernoulli(p) draws: ``rng.random(n) < p``.

    The draws after the last uncertain one (``0 < p < 1``) are not made: with
    ``p`` 0 or 1 every uniform in [0, 1) gives the same outcome, and nothing
    after them reads the stream, so the batch is the same (only the stream's
    final state differs). The default model, where every defect kills and
    none is on a link, draws no coins at all.
    """
    last = max((i for i, p in enumerate(probabilities) if 0 < p < 1), default=-1)
    return [rng.random(n) < p if i <= last else np.full(n, p >= 1) for i, p in enumerate(probabilities)]


def _sample(design: Design, model: DefectModel, n_wafers: int, rng: np.random.Generator, mean: float
            ) -> DefectBatch:
    lam = np.full(n_wafers, mean)
    if model.alpha is not None and mean > 0:
        lam = rng.gamma(model.alpha, mean / model.alpha, size=n_wafers)
    wafer, x, y, counts = _positions(rng, design, model, lam)
    n = wafer.size
    size_um = sample_sizes_um(rng, model, n)
    kills, on_link = _coins(rng, n, (model.kill_probability, model.link_fraction))
    batch, _ = dead_from_defects(design, wafer, x, y, size_um, n_wafers, kills=kills, on_link=on_link,
                                 n_defects=counts, check=False)
    return batch


@numba.njit(cache=True, nogil=True)
def _landing(wafer: np.ndarray, x: np.ndarray, y: np.ndarray, size_um: np.ndarray, kills: np.ndarray,
             on_link: np.ndarray, site_exists: np.ndarray, x0: float, y0: float, pitch_x: float, pitch_y: float,
             bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The kill rule of :func:`dead_from_defects` in one pass over the defects, but for large defects.

    Returns ``(site_key, maybe, maybe_key, link_key, hit)``:

    - ``site_key``: ``wafer << bits | site`` of each killing core defect
      that lands on an existing site and stays inside its cell;
    - ``maybe``: index of each killing core defect that *may be large* (its
      radius exceeds the gap to its cell's nearest edge), and ``maybe_key``
      its landing key as above (-1 off the grid or on a missing site); the
      caller keeps a candidate as large only when its disk reaches the usable
      circle (the rest kill their landing site alone);
    - ``link_key``: ``wafer << (bits + 1) | link`` of each killing link defect
      whose link (across the nearest edge of its landing cell) exists;
    - ``hit``: per defect, it killed a site through ``site_key`` or a link.

    ``2**bits`` is at least the number of sites (see :func:`_item_bits`), so
    the links fit in ``bits + 1``. Keys are emitted in defect order. The loop
    form of the whole-array expressions of :func:`_landing_numpy`, its
    reference (same floating-point operations in the same order, so the same
    results): one pass and no temporaries of the batch's size.
    """
    n = wafer.size
    rows, cols = site_exists.shape
    site_key = np.empty(n, dtype=np.int64)
    maybe = np.empty(n, dtype=np.int64)
    maybe_key = np.empty(n, dtype=np.int64)
    link_key = np.empty(n, dtype=np.int64)
    hit = np.zeros(n, dtype=np.bool_)
    n_site = n_maybe = n_link = 0
    for i in range(n):
        if not kills[i]:
            continue
        fx = (x[i] - x0) / pitch_x
        fy = (y0 - y[i]) / pitch_y
        c = np.int64(np.floor(fx))
        r = np.int64(np.floor(fy))
        in_grid = 0 <= r < rows and 0 <= c < cols
        left, right = (fx - c) * pitch_x, (c + 1 - fx) * pitch_x
        top, bottom = (fy - r) * pitch_y, (r + 1 - fy) * pitch_y
        if not on_link[i]:
            key = wafer[i] << bits | r * cols + c if in_grid and site_exists[r, c] else -1
            if size_um[i] / 2000.0 > min(min(left, right), min(top, bottom)):
                maybe[n_maybe] = i
                maybe_key[n_maybe] = key
                n_maybe += 1
            elif key >= 0:
                site_key[n_site] = key
                n_site += 1
                hit[i] = True
        elif in_grid:
            nearest, gap = 0, left  # the first smallest gap: left, right, top, bottom
            for side, g in ((1, right), (2, top), (3, bottom)):
                if g < gap:
                    nearest, gap = side, g
            a_row = r - (nearest == 2)
            a_col = c - (nearest == 0)
            south = nearest >= 2
            b_row = a_row + south
            b_col = a_col + (not south)
            if (a_row >= 0 and a_col >= 0 and b_row < rows and b_col < cols
                    and site_exists[a_row, a_col] and site_exists[b_row, b_col]):
                direction = SOUTH if south else EAST
                link_key[n_link] = wafer[i] << (bits + 1) | 2 * (a_row * cols + a_col) + direction
                n_link += 1
                hit[i] = True
    return site_key[:n_site].copy(), maybe[:n_maybe].copy(), maybe_key[:n_maybe].copy(), link_key[:n_link].copy(), hit


def _landing_numpy(wafer: np.ndarray, x: np.ndarray, y: np.ndarray, size_um: np.ndarray, kills: np.ndarray,
                   on_link: np.ndarray, site_exists: np.ndarray, x0: float, y0: float, pitch_x: float,
                   pitch_y: float, bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Whole-array reference of :func:`_landing` (same outputs; the tests compare them)."""
    rows, cols = site_exists.shape
    fx = (x - x0) / pitch_x
    fy = (y0 - y) / pitch_y
    col = np.floor(fx).astype(np.int64)
    row = np.floor(fy).astype(np.int64)
    in_grid = (row >= 0) & (row < rows) & (col >= 0) & (col < cols)
    exists = np.zeros(wafer.size, dtype=bool)
    exists[in_grid] = site_exists[row[in_grid], col[in_grid]]
    gaps = np.stack([(fx - col) * pitch_x, (col + 1 - fx) * pitch_x, (fy - row) * pitch_y, (row + 1 - fy) * pitch_y])
    key = np.where(exists, wafer << bits | row * cols + col, -1)
    core = kills & ~on_link
    large = core & (size_um / 2000.0 > gaps.min(axis=0))
    small = core & exists & ~large
    nearest = np.argmin(gaps, axis=0)  # 0 left, 1 right, 2 top, 3 bottom
    a_row = row - (nearest == 2)
    a_col = col - (nearest == 0)
    direction = np.where(nearest < 2, EAST, SOUTH)
    b_row = a_row + (direction == SOUTH)
    b_col = a_col + (direction == EAST)
    ok = kills & on_link & in_grid & (a_row >= 0) & (a_col >= 0) & (b_row < rows) & (b_col < cols)
    ok[ok] = site_exists[a_row[ok], a_col[ok]] & site_exists[b_row[ok], b_col[ok]]
    link_key = wafer << (bits + 1) | 2 * (a_row * cols + a_col) + direction
    return key[small], np.flatnonzero(large), key[large], link_key[ok], small | ok


def dead_from_defects(design: Design, wafer: np.ndarray, x_mm: np.ndarray, y_mm: np.ndarray,
                      size_um: np.ndarray, n_wafers: int, *, kills: np.ndarray | None = None,
                      on_link: np.ndarray | None = None, n_defects: np.ndarray | None = None,
                      check: bool = True) -> tuple[DefectBatch, np.ndarray]:
    """The dead sites and links that defects at known positions leave on ``design``.

    The kill rule of the sampler, applied to given defects: a killing defect
    that is not on a link kills the existing site it lands on, and a large one
    (its disk crosses the edge of the landing cell) every existing site its
    disk overlaps; a killing defect on a link kills the link across the
    nearest edge of its landing cell when both ends exist.

    Parameters
    ----------
    design : Design
        The wafer: grid origin, pitch [mm], existing sites.
    wafer : ndarray of int
        Wafer index of each defect, in ``[0, n_wafers)``.
    x_mm, y_mm : ndarray of float
        Defect centres [mm], wafer centre at the origin, y up (row 0 at the top).
    size_um : ndarray of float
        Defect diameters [um] (0 for a point defect).
    n_wafers : int
        Wafers of the batch [-].
    kills : ndarray of bool, optional
        Which defects kill (default all: an inspected defect is where it is).
    on_link : ndarray of bool, optional
        Which defects land on a fabric link instead of a core (default none).
    n_defects : ndarray of int, optional
        Each wafer's defect count for :attr:`DefectBatch.n_defects` (default:
        the defects given, per wafer).
    check : bool
        Validate the indices, positions and sizes (the sampler passes False:
        its arrays are valid by construction, and the checks are whole passes
        over the Monte Carlo's largest arrays).

    Returns
    -------
    batch : DefectBatch
        The dead sites and links of each wafer.
    hit : ndarray of bool
        Per defect: it killed at least one existing site or link. A killing
        defect with ``hit`` False lies outside every existing site.

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> small = load_design("small")
    >>> batch, hit = dead_from_defects(small, np.array([0, 0]), np.array([0.5, 200.0]),
    ...                                np.array([0.5, 0.0]), np.zeros(2), 1)
    >>> batch.wafer(0).dead_sites.tolist(), hit.tolist()
    ([2142], [True, False])
    """
    wafer = np.asarray(wafer, dtype=np.int64)
    x = np.asarray(x_mm, dtype=float)
    y = np.asarray(y_mm, dtype=float)
    size_um = np.asarray(size_um, dtype=float)
    n = wafer.size
    if not (x.size == y.size == size_um.size == n):
        raise InputError(f"wafer, x_mm, y_mm and size_um must have the same length, got {n}, {x.size}, "
                         f"{y.size}, {size_um.size}")
    if check and n and (wafer.min() < 0 or wafer.max() >= n_wafers):
        raise InputError(f"wafer indices must be in [0, {n_wafers})", parameter="wafer")
    if check and n and (not np.isfinite(x).all() or not np.isfinite(y).all() or not (size_um >= 0).all()):
        raise InputError("positions must be finite and sizes finite and >= 0")
    kills = np.ones(n, dtype=bool) if kills is None else np.asarray(kills, dtype=bool)
    on_link = np.zeros(n, dtype=bool) if on_link is None else np.asarray(on_link, dtype=bool)
    if n_defects is None:
        n_defects = np.bincount(wafer, minlength=n_wafers)
    bits = _item_bits(design.n_sites)
    site_key, maybe, maybe_key, link_key, hit = _landing(
        wafer, x, y, size_um, kills, on_link, design.site_exists, float(design.x0_mm), float(design.y0_mm),
        float(design.pitch_x_mm), float(design.pitch_y_mm), bits)
    # A candidate is large when its disk reaches the usable circle: it kills every existing site the
    # disk overlaps; the others kill their landing site alone, as a small defect does.
    radius_mm = size_um[maybe] / 2000.0
    reach = np.hypot(x[maybe], y[maybe]) < design.usable_radius_mm + radius_mm
    alone = ~reach & (maybe_key >= 0)
    large = maybe[reach]
    big_i, big_sites = _large_defect_sites(design, x[large], y[large], radius_mm[reach])
    keys = np.concatenate([site_key, maybe_key[alone], wafer[large][big_i] << bits | big_sites])
    site_wafer, sites = _distinct_pairs(keys, bits)
    link_wafer, links = _distinct_pairs(link_key, bits + 1)
    hit[maybe[alone]] = True
    hit[large[big_i]] = True
    batch = DefectBatch(n_wafers, design.rows, design.cols, site_wafer, sites, link_wafer, links,
                        np.asarray(n_defects).astype(np.int64))
    return batch, hit


def sample_defect_map(design: Design, model: DefectModel, rng: np.random.Generator) -> DefectMap:
    """Sample the :class:`DefectMap` of one wafer from the stream ``rng``."""
    return sample_batch(design, model, 1, rng).wafer(0, design=design.name)


def wafer_rng(seed: int) -> np.random.Generator:
    """The random stream of the wafer whose seed is ``seed``.

    The contract "seed N gives this wafer" everywhere a single wafer is
    sampled (``defects sample``, ``repair --seed``, the demo, lots):
    ``numpy.random.default_rng(numpy.random.SeedSequence(seed))``.
    """
    return np.random.default_rng(np.random.SeedSequence(seed))


def sample_wafer(design: Design, model: DefectModel, seed: int) -> DefectMap:
    """The :class:`DefectMap` of the wafer whose seed is ``seed`` (see :func:`wafer_rng`).

    Parameters
    ----------
    design : Design
        The wafer.
    model : DefectModel
        The defect process.
    seed : int
        The wafer's seed [-], >= 0: the same seed, model and design give the
        same map (for a given :data:`STREAM_VERSION`).

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> small = load_design("small")
    >>> a = sample_wafer(small, DefectModel(1.0), seed=7)
    >>> b = sample_wafer(small, DefectModel(1.0), seed=7)
    >>> a.n_dead_sites == b.n_dead_sites and bool((a.dead_sites == b.dead_sites).all())
    True
    """
    return sample_defect_map(design, model, wafer_rng(seed))
