"""Defect models: sample defect *positions* on wafers, not per-core coin flips.

A wafer carries tens to hundreds of defects, not 10^6 Bernoulli trials, so a
batch of wafers is drawn as a few vectorised arrays:

1. the wafer's mean defect count ``lambda = D0 * A`` over the usable circle,
   gamma-mixed for clustered defects (Stapper's negative binomial: ``lambda ~
   Gamma(alpha, D0 A / alpha)``, so the count is NB with mean ``D0 A``);
2. positions: uniform over the circle, or a radial profile with more defects
   near the edge (density proportional to ``1 + beta (r / R)^p``), or a
   Thomas cluster process (Poisson parents, Poisson(mu) children spread by a
   Gaussian of sigma);
3. sizes from the classical ``x0^2 / x^3`` tail (Stapper 1983), truncated at
   ``max_size_um``; a defect kills with the critical-area ``kill_probability``
   and then kills every existing site its disk overlaps;
4. a ``link_fraction`` of defects lands on the fabric link nearest to it (a
   dead link, not a dead core).

References
----------
.. [1] C. H. Stapper, "Modeling of integrated circuit defect sensitivities",
   IBM J. Res. Dev. 27(6), 1983, pp. 549-557.
.. [2] C. H. Stapper, F. M. Armstrong, K. Saji, "Integrated circuit yield
   statistics", Proc. IEEE 71(4), 1983, pp. 453-470.
.. [3] M. Thomas, "A generalization of Poisson's binomial limit for use in
   ecology", Biometrika 36, 1949, pp. 18-25 (the Thomas cluster process).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from yieldkit.defect_map import EAST, SOUTH, DefectMap
from yieldkit.design import Design
from yieldkit.errors import InputError
from yieldkit.window import window_for, window_points

__all__ = ["DefectModel", "DefectModelError", "DefectBatch", "sample_batch", "sample_defect_map", "sample_wafer", "wafer_rng"]

#: Largest mean defect count per wafer the sampler accepts (memory grows with it).
MAX_MEAN_DEFECTS = 1e6

Spatial = Literal["uniform", "radial", "thomas"]


class DefectModelError(InputError):
    """A defect model parameter is out of range."""


@dataclass(frozen=True)
class DefectModel:
    """Parameters of the defect process on one wafer.

    Parameters
    ----------
    d0_per_cm2 : float
        Mean killer-defect density over the usable wafer area [cm^-2].
    alpha : float or None
        Negative-binomial clustering parameter [-]; None means no clustering
        (Poisson counts). Smaller alpha = stronger clustering.
    spatial : {"uniform", "radial", "thomas"}
        How positions are placed over the usable circle.
    radial_beta, radial_power : float
        Radial profile: density proportional to ``1 + beta (r / R)^power`` [-].
    cluster_mean_size : float
        Thomas process: mean defects per cluster (mu) [-].
    cluster_sigma_mm : float
        Thomas process: Gaussian spread of a cluster's defects [mm].
    x0_um : float
        Size distribution scale: sizes follow ``2 x0^2 / x^3`` for x >= x0
        [um]; 0 means point defects.
    max_size_um : float
        Largest defect diameter [um] (the tail is truncated there).
    kill_probability : float
        Critical-area fraction: probability a defect kills what it hits [-].
    link_fraction : float
        Fraction of defects that land on a fabric link instead of a core [-].
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
        def check(ok: bool, name: str, value: object, rule: str) -> None:
            if not ok:
                raise DefectModelError(f"{name} must be {rule}, got {value!r}")

        finite = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)  # noqa: E731
        check(finite(self.d0_per_cm2) and self.d0_per_cm2 >= 0, "d0_per_cm2", self.d0_per_cm2, ">= 0")
        check(self.alpha is None or (finite(self.alpha) and self.alpha > 0), "alpha", self.alpha, "> 0 (or omitted for Poisson)")
        check(self.spatial in ("uniform", "radial", "thomas"), "spatial", self.spatial, "uniform, radial or thomas")
        check(finite(self.radial_beta) and self.radial_beta >= 0, "radial_beta", self.radial_beta, ">= 0")
        check(finite(self.radial_power) and self.radial_power > 0, "radial_power", self.radial_power, "> 0")
        check(finite(self.cluster_mean_size) and self.cluster_mean_size > 0, "cluster_mean_size", self.cluster_mean_size, "> 0")
        check(finite(self.cluster_sigma_mm) and self.cluster_sigma_mm >= 0, "cluster_sigma_mm", self.cluster_sigma_mm, ">= 0")
        check(finite(self.x0_um) and self.x0_um >= 0, "x0_um", self.x0_um, ">= 0")
        check(finite(self.max_size_um) and self.max_size_um >= self.x0_um, "max_size_um", self.max_size_um, ">= x0_um")
        check(finite(self.kill_probability) and 0 <= self.kill_probability <= 1, "kill_probability", self.kill_probability, "in [0, 1]")
        check(finite(self.link_fraction) and 0 <= self.link_fraction <= 1, "link_fraction", self.link_fraction, "in [0, 1]")

    def mean_defects(self, design: Design) -> float:
        """Mean number of defects over the usable circle of ``design``."""
        return self.d0_per_cm2 * math.pi * design.usable_radius_mm**2 / 100.0


@dataclass(frozen=True, eq=False)
class DefectBatch:
    """The dead sites and links of ``n_wafers`` wafers, sparse and sorted by wafer.

    Attributes
    ----------
    n_wafers, rows, cols : int
    site_wafer, site : ndarray of int64
        One entry per (wafer, dead site) pair, unique, sorted by wafer then site.
    link_wafer, link : ndarray of int64
        One entry per (wafer, dead link) pair, unique, sorted likewise.
    n_defects : ndarray of int64, shape (n_wafers,)
        Defects sampled on each wafer (including those that hit nothing).
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


def _positions(rng: np.random.Generator, design: Design, model: DefectModel, lam: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(wafer index, x_mm, y_mm) of every defect that can reach a site, and each wafer's total count.

    Counts are drawn over the whole usable circle; only their binomial
    thinning to the sampling window (``yieldkit.window``) gets positions.
    A Thomas process thins its parents to a window grown by 6 sigma.
    """
    n = lam.size
    reach_mm = model.max_size_um / 2000.0
    if model.spatial == "thomas":
        window = window_for(design, reach_mm + 6.0 * model.cluster_sigma_mm)
        parents = rng.poisson(lam / model.cluster_mean_size)
        near = rng.binomial(parents, window.mass)
        px, py = window_points(rng, int(near.sum()), window)
        children = rng.poisson(model.cluster_mean_size, size=px.size)
        parent_wafer = np.repeat(np.arange(n, dtype=np.int64), near)
        wafer = np.repeat(parent_wafer, children)
        x = np.repeat(px, children) + rng.normal(0.0, model.cluster_sigma_mm, wafer.size)
        y = np.repeat(py, children) + rng.normal(0.0, model.cluster_sigma_mm, wafer.size)
        far_children = rng.poisson(model.cluster_mean_size * (parents - near))
        return wafer, x, y, np.bincount(wafer, minlength=n) + far_children
    beta = model.radial_beta if model.spatial == "radial" else 0.0
    window = window_for(design, reach_mm, beta, model.radial_power)
    counts = rng.poisson(lam)
    near = rng.binomial(counts, window.mass)
    wafer = np.repeat(np.arange(n, dtype=np.int64), near)
    x, y = window_points(rng, wafer.size, window)
    return wafer, x, y, counts


def _sizes_um(rng: np.random.Generator, model: DefectModel, n: int) -> np.ndarray:
    """Diameters from ``p(x) = 2 x0^2 / x^3`` truncated to [x0, max]: x = x0 / sqrt(U)."""
    if model.x0_um == 0:
        return np.zeros(n)
    floor = (model.x0_um / model.max_size_um) ** 2
    return model.x0_um / np.sqrt(floor + (1.0 - floor) * rng.random(n))


def _overlapped_sites(design: Design, x: np.ndarray, y: np.ndarray, radius_mm: np.ndarray,
                      rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Boolean mask: the disk (x, y, radius) overlaps existing cell (rows, cols)."""
    ok = (rows >= 0) & (rows < design.rows) & (cols >= 0) & (cols < design.cols)
    left = design.x0_mm + cols * design.pitch_x_mm
    top = design.y0_mm - rows * design.pitch_y_mm
    dx = np.clip(x, left, left + design.pitch_x_mm) - x
    dy = np.clip(y, top - design.pitch_y_mm, top) - y
    ok &= dx * dx + dy * dy <= radius_mm * radius_mm
    ok[ok] = design.site_exists[rows[ok], cols[ok]]
    return ok


def _large_defect_sites(design: Design, x: np.ndarray, y: np.ndarray, radius_mm: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """(defect index, flat site) of every existing site a large defect's disk overlaps.

    Defects smaller than one pitch reach at most the 8 neighbouring cells and
    are handled together; the rare larger ones one by one over their bounding box.
    """
    row = np.floor((design.y0_mm - y) / design.pitch_y_mm).astype(np.int64)
    col = np.floor((x - design.x0_mm) / design.pitch_x_mm).astype(np.int64)
    near = radius_mm < min(design.pitch_x_mm, design.pitch_y_mm)
    index = np.flatnonzero(near)
    dr, dc = np.divmod(np.arange(9), 3)
    cand_i = np.repeat(index, 9)
    cand_r = np.repeat(row[index], 9) + np.tile(dr - 1, index.size)
    cand_c = np.repeat(col[index], 9) + np.tile(dc - 1, index.size)
    hit = _overlapped_sites(design, x[cand_i], y[cand_i], radius_mm[cand_i], cand_r, cand_c)
    hits_i, hits_s = [cand_i[hit]], [cand_r[hit] * design.cols + cand_c[hit]]
    for i in np.flatnonzero(~near):
        span_r = int(math.ceil(radius_mm[i] / design.pitch_y_mm)) + 1
        span_c = int(math.ceil(radius_mm[i] / design.pitch_x_mm)) + 1
        rr, cc = np.meshgrid(np.arange(row[i] - span_r, row[i] + span_r + 1),
                             np.arange(col[i] - span_c, col[i] + span_c + 1), indexing="ij")
        rr, cc = rr.ravel(), cc.ravel()
        hit = _overlapped_sites(design, np.full(rr.size, x[i]), np.full(rr.size, y[i]),
                                np.full(rr.size, radius_mm[i]), rr, cc)
        hits_i.append(np.full(int(hit.sum()), i, dtype=np.int64))
        hits_s.append(rr[hit] * design.cols + cc[hit])
    return np.concatenate(hits_i), np.concatenate(hits_s).astype(np.int64)


def _unique_pairs(wafer: np.ndarray, item: np.ndarray, span: int) -> tuple[np.ndarray, np.ndarray]:
    keys = np.unique(wafer * span + item)
    return keys // span, keys % span


def sample_batch(design: Design, model: DefectModel, n_wafers: int, rng: np.random.Generator) -> DefectBatch:
    """Sample the defects of ``n_wafers`` wafers of ``design``.

    Parameters
    ----------
    design : Design
    model : DefectModel
    n_wafers : int
        Wafers in the batch [-].
    rng : numpy.random.Generator
        The batch's random stream (one stream per batch, see ``montecarlo``).

    Returns
    -------
    DefectBatch
    """
    radius = design.usable_radius_mm
    mean = model.mean_defects(design)
    if mean > MAX_MEAN_DEFECTS:
        raise DefectModelError(f"--d0 {model.d0_per_cm2:g} cm^-2 means {mean:.3g} defects per wafer "
                               f"(at most {MAX_MEAN_DEFECTS:.0e}); is D0 in defects per cm^2?")
    lam = np.full(n_wafers, mean)
    if model.alpha is not None and mean > 0:
        lam = rng.gamma(model.alpha, mean / model.alpha, size=n_wafers)
    wafer, x, y, counts = _positions(rng, design, model, lam)
    n = wafer.size
    size_um = _sizes_um(rng, model, n)
    kills = rng.random(n) < model.kill_probability
    on_link = rng.random(n) < model.link_fraction

    fx = (x - design.x0_mm) / design.pitch_x_mm
    fy = (design.y0_mm - y) / design.pitch_y_mm
    col = np.floor(fx).astype(np.int64)
    row = np.floor(fy).astype(np.int64)
    in_grid = (row >= 0) & (row < design.rows) & (col >= 0) & (col < design.cols)
    exists = np.zeros(n, dtype=bool)
    exists[in_grid] = design.site_exists[row[in_grid], col[in_grid]]

    # Core hits: the landing site, plus every site a large defect overlaps.
    core = kills & ~on_link
    radius_mm = size_um / 2000.0
    edge_gap_mm = np.minimum.reduce([(fx - col) * design.pitch_x_mm, (col + 1 - fx) * design.pitch_x_mm,
                                     (fy - row) * design.pitch_y_mm, (row + 1 - fy) * design.pitch_y_mm])
    large = core & (radius_mm > edge_gap_mm) & (np.hypot(x, y) < radius + radius_mm)
    small = core & exists & ~large
    big_i, big_sites = _large_defect_sites(design, x[large], y[large], radius_mm[large])
    site_wafer = np.concatenate([wafer[small], wafer[large][big_i]])
    sites = np.concatenate([row[small] * design.cols + col[small], big_sites])
    site_wafer, sites = _unique_pairs(site_wafer, sites, design.n_sites)

    # Link hits: the link across the nearest edge of the landing cell.
    lk = kills & on_link & in_grid
    gaps = np.stack([(fx - col)[lk] * design.pitch_x_mm, (col + 1 - fx)[lk] * design.pitch_x_mm,
                     (fy - row)[lk] * design.pitch_y_mm, (row + 1 - fy)[lk] * design.pitch_y_mm])
    nearest = np.argmin(gaps, axis=0)  # 0 left, 1 right, 2 top, 3 bottom
    a_row = row[lk] - (nearest == 2)
    a_col = col[lk] - (nearest == 0)
    direction = np.where(nearest < 2, EAST, SOUTH)
    b_row = a_row + (direction == SOUTH)
    b_col = a_col + (direction == EAST)
    ok = (a_row >= 0) & (a_col >= 0) & (b_row < design.rows) & (b_col < design.cols)
    ok[ok] = design.site_exists[a_row[ok], a_col[ok]] & design.site_exists[b_row[ok], b_col[ok]]
    links = 2 * (a_row[ok] * design.cols + a_col[ok]) + direction[ok]
    link_wafer, links = _unique_pairs(wafer[lk][ok], links, 2 * design.n_sites)

    return DefectBatch(n_wafers, design.rows, design.cols, site_wafer, sites, link_wafer, links,
                       counts.astype(np.int64))


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
    """The :class:`DefectMap` of the wafer whose seed is ``seed`` (see :func:`wafer_rng`)."""
    return sample_defect_map(design, model, wafer_rng(seed))
