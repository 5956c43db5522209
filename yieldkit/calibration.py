r"""Calibrate the defect model from inspected wafers: D0, clustering, radial profile, sizes.

From the inspected defects of many wafers (:class:`~yieldkit.formats.inspection.InspectionDefects`,
positions in wafer-centre mm) :func:`calibrate` estimates the parameters of
:class:`~yieldkit.defects.DefectModel` by maximum likelihood.

Defect density and clustering
-----------------------------
The core grid is cut into quadrats: the reticle fields of the design, or
squares of a chosen side. A defect is counted in the quadrat of the existing
site its centre lands on; a quadrat's exposure is the area of its existing
sites, weighted by the fitted radial profile (below):
:math:`a_j = \sum_{s \in j} A_s f(r_s) / \bar f`, with :math:`\bar f` the mean
of :math:`f` over the usable circle, so that :math:`D_0` is the mean density
over the usable circle, as in the sampler.

Counts are mixed Poisson (Stapper's negative binomial): a block of quadrats
shares one gamma-distributed intensity,
:math:`\lambda \sim \Gamma(\alpha, D_0 a / \alpha)`, so the block's count is

.. math:: P(n) = \frac{\Gamma(n + \alpha)}{\Gamma(\alpha)\, n!}
          \left(\frac{\alpha}{\alpha + D_0 a}\right)^{\alpha}
          \left(\frac{D_0 a}{\alpha + D_0 a}\right)^{n}.

With ``mixing="wafer"`` (default, the sampler's model: one gamma draw per
wafer) a block is a wafer's quadrats together; given the wafer's total the
quadrat counts are multinomial and carry no information on :math:`(D_0,
\alpha)`, so the likelihood is that of the wafer totals. With
``mixing="quadrat"`` every quadrat of every wafer has its own intensity (the
"large-area clustering" of Stapper at the quadrat scale; its alpha then
belongs to that area and is not the sampler's per-wafer alpha).

Intervals are **profile likelihood** intervals: the parameter values whose
profile log-likelihood is within :math:`\chi^2_{1, 0.95} / 2 = 1.92` of the
maximum (the other parameter re-maximised at each value). The alpha interval
may reach infinity (Poisson is within the interval).

Goodness of fit
---------------
- Poisson against negative binomial by likelihood ratio,
  :math:`LR = 2(\ell_{NB} - \ell_{P})`. Poisson is alpha = infinity, on the
  boundary of the parameter space, so LR follows the 50:50 mixture of
  :math:`\chi^2_0` and :math:`\chi^2_1` (Self & Liang 1987): p = sf / 2.
- Pearson chi-square of the block counts against the fitted Poisson and NB
  laws: expected frequencies summed over blocks (their exposures differ),
  classes pooled until each expects at least 5, degrees of freedom =
  classes - 1 - fitted parameters.
- Homogeneity within wafers (``mixing="wafer"``): given a wafer's total, are
  its quadrat counts multinomial in proportion to the exposures? The sum over
  wafers of Pearson's :math:`\sum_j (n_j - N a_j / A)^2 / (N a_j / A)`, with
  :math:`\sum_w (J - 1)` degrees of freedom (the index-of-dispersion test);
  a small p-value says defects cluster below the wafer scale (a Thomas
  process, say), which the wafer-level NB does not describe.

Radial profile
--------------
Positions follow :math:`f(r) \propto 1 + \beta (r/R)^p` over the usable
circle (radius R). The radii :math:`r \le r_{max}` have the density
:math:`g(u) = u (1 + \beta u^p) / Z` in :math:`u = r / R`, with
:math:`Z = u_m^2 / 2 + \beta u_m^{p+2} / (p + 2)`: :math:`(\beta, p)` by
maximum likelihood (a grid over p, then a bounded search; :math:`\beta`
profiled). ``r_max_mm`` restricts the fit to a disc the inspection fully
covers. Uniform (:math:`\beta = 0`) is tested by likelihood ratio with a
:math:`\chi^2_2` reference: p is not identified under the null (Davies
1987), so this p-value is approximate.

Size distribution
-----------------
Diameters follow the truncated tail :math:`2 x_0^2 / x^3` on
:math:`[x_0, x_{max}]` (Stapper 1983). Its likelihood increases with
:math:`x_0` up to the smallest size, so the maximum-likelihood :math:`x_0` is
the smallest observed size m. The interval is exact, from the law of the
minimum, :math:`P(\min \ge m) = [(m^{-2} - x_{max}^{-2}) / (x_0^{-2} -
x_{max}^{-2})]^n`: since :math:`x_0 \le \min` always, it is
:math:`[x_{lo}, m]` with :math:`x_{lo}` the :math:`x_0` at which that
probability is 0.05 (the shortest exact 95 % interval). An inspection tool reports defects above its own
sensitivity: if that lies above the real :math:`x_0`, the estimate is the
tool's threshold (the tail shape above it is unchanged).

Assumptions
-----------
A wafer without defects must still be listed: it is a zero count. A wafer
whose KLARF ``SampleTestPlan`` covers only some dies is exposed only over
the sites whose centres lie in those dies (and only its defects there are
counted); the radial fit, however, takes every radius up to ``r_max_mm`` and
so assumes the inspection covered that disc.

References
----------
.. [1] C. H. Stapper, "Modeling of integrated circuit defect sensitivities",
   IBM J. Res. Dev. 27(6), 1983, pp. 549-557.
.. [2] J. A. Cunningham, "The use and evaluation of yield models in
   integrated circuit manufacturing", IEEE Trans. Semiconductor
   Manufacturing 3(2), 1990, pp. 60-71.
.. [3] S. G. Self, K.-Y. Liang, "Asymptotic properties of maximum likelihood
   estimators and likelihood ratio tests under nonstandard conditions",
   J. Amer. Statist. Assoc. 82(398), 1987, pp. 605-610.
.. [4] R. B. Davies, "Hypothesis testing when a nuisance parameter is present
   only under the alternative", Biometrika 74(1), 1987, pp. 33-43.

Examples
--------
>>> import numpy as np
>>> from yieldkit.design import load_design
>>> from yieldkit.formats.inspection import InspectionDefects
>>> small = load_design("small")
>>> rng = np.random.default_rng(0)
>>> n = rng.poisson(0.5 * 43.52, 40)                    # 40 wafers, D0 = 0.5 / cm^2 on the grid
>>> wafer = np.repeat([f"W{i}" for i in range(40)], n)
>>> x, y = rng.uniform(-34, 34, n.sum()), rng.uniform(-32, 32, n.sum())
>>> cal = calibrate(small, InspectionDefects.from_arrays(wafer, x, y), radial=False)
>>> 0.4 < cal.d0.value < 0.6 and cal.d0.low < cal.d0.value < cal.d0.high
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, special, stats

from yieldkit.defects import MAX_RADIAL_BETA, MAX_RADIAL_POWER, MAX_SIZE_UM, DefectModel
from yieldkit.design import Design
from yieldkit.errors import InputError
from yieldkit.formats.inspection import InspectionDefects

__all__ = ["Calibration", "CountFit", "Estimate", "QuadratCounts", "RadialFit", "SizeFit", "calibrate",
           "fit_counts", "fit_radial", "fit_sizes", "quadrat_counts"]

#: Half the 95 % chi-square(1) quantile: the profile-likelihood drop that bounds a 95 % interval.
_DROP = stats.chi2.ppf(0.95, 1) / 2.0
_LOG_ALPHA = (math.log(1e-4), math.log(1e7))


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95 % interval [low, high] (``high`` may be inf)."""

    value: float
    low: float
    high: float

    def to_dict(self, name: str) -> dict[str, float | None]:
        """``{name, name_ci_low, name_ci_high}``; infinite bounds become None (JSON has no inf)."""
        return {name: _safe(self.value), f"{name}_ci_low": _safe(self.low), f"{name}_ci_high": _safe(self.high)}

    def __contains__(self, x: float) -> bool:
        return self.low <= x <= self.high

    def __repr__(self) -> str:
        return f"{self.value:.4g} [{self.low:.4g}, {self.high:.4g}]"


def _safe(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


# -- quadrats -----------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class QuadratCounts:
    """Defects per (wafer, quadrat) and the exposures.

    Attributes
    ----------
    counts : ndarray of int64, shape (wafers, quadrats)
    area_cm2 : ndarray of float, shape (quadrats,)
        Existing-site area of each quadrat [cm^2] (weighted by the radial profile).
    wafer_area_cm2 : ndarray of float, shape (wafers, quadrats)
        The part of ``area_cm2`` each wafer's inspection covered (its sample
        plan; all of it without one) [cm^2].
    site_quadrat : ndarray of int64, shape (rows * cols,)
        Quadrat of each site, -1 for absent sites.
    label : str
        How the quadrats were made (``reticle 4x4`` or ``square 10 mm``).
    """

    counts: np.ndarray
    area_cm2: np.ndarray
    wafer_area_cm2: np.ndarray
    site_quadrat: np.ndarray
    label: str

    def to_dict(self) -> dict[str, Any]:
        return {"quadrats": self.label, "n_quadrats": int(self.area_cm2.size), "wafers": int(self.counts.shape[0]),
                "defects": int(self.counts.sum()), "area_cm2": float(self.area_cm2.sum()),
                "inspected_area_cm2": float(self.wafer_area_cm2.sum())}

    def __repr__(self) -> str:
        return (f"QuadratCounts({self.label}: {self.area_cm2.size} quadrats x {self.counts.shape[0]} wafers, "
                f"{int(self.counts.sum())} defects)")


def _site_quadrats(design: Design, quadrat: str | float) -> tuple[np.ndarray, str]:
    rows, cols = np.divmod(np.arange(design.n_sites), design.cols)
    if quadrat == "reticle":
        q_row = rows * design.reticle_rows // design.rows
        q_col = cols * design.reticle_cols // design.cols
        index = q_row * design.reticle_cols + q_col
        label = f"reticle {design.reticle_rows}x{design.reticle_cols}"
    else:
        side = float(quadrat)  # type: ignore[arg-type]
        if not (math.isfinite(side) and side > 0):
            raise InputError(f"must be 'reticle' or a positive side in mm, got {quadrat!r}", parameter="quadrat")
        xc = design.x0_mm + (cols + 0.5) * design.pitch_x_mm
        yc = design.y0_mm - (rows + 0.5) * design.pitch_y_mm
        q_col = np.floor((xc - design.x0_mm) / side).astype(np.int64)
        q_row = np.floor((design.y0_mm - yc) / side).astype(np.int64)
        index = q_row * (int(q_col.max()) + 1) + q_col
        label = f"square {side:g} mm"
    index = np.where(design.site_exists.ravel(), index, -1)
    used, dense = np.unique(index[index >= 0], return_inverse=True)
    out = np.full(design.n_sites, -1, np.int64)
    out[index >= 0] = dense
    return out, label


def _relative_density(design: Design, beta: float, power: float, r_mm: np.ndarray) -> np.ndarray:
    """f(r) / mean of f over the usable circle, f = 1 + beta (r / R)^p."""
    if beta == 0:
        return np.ones_like(r_mm)
    u = np.minimum(r_mm / design.usable_radius_mm, 1.0)
    return (1.0 + beta * u**power) / (1.0 + 2.0 * beta / (power + 2.0))


def quadrat_counts(design: Design, defects: InspectionDefects, quadrat: str | float = "reticle",
                   radial: tuple[float, float] = (0.0, 4.0)) -> QuadratCounts:
    """Count each wafer's defects per quadrat of ``design``.

    Parameters
    ----------
    design : Design
    defects : InspectionDefects
        Positions in wafer-centre mm.
    quadrat : "reticle" or float
        The design's reticle fields, or squares of this side [mm] over the grid.
    radial : (beta, power)
        Radial profile weighting the exposures (module docstring); (0, p) = uniform.

    Returns
    -------
    QuadratCounts
    """
    site_q, label = _site_quadrats(design, quadrat)
    nq = int(site_q.max()) + 1
    rows, cols = np.divmod(np.arange(design.n_sites), design.cols)
    xc = design.x0_mm + (cols + 0.5) * design.pitch_x_mm
    yc = design.y0_mm - (rows + 0.5) * design.pitch_y_mm
    weight = _relative_density(design, radial[0], radial[1], np.hypot(xc, yc))
    ok = site_q >= 0
    site_area = weight * design.site_area_mm2 / 100.0
    area = np.bincount(site_q[ok], weights=site_area[ok], minlength=nq)
    wafer_area = np.tile(area, (defects.n_wafers, 1))
    col = np.floor((defects.x_mm - design.x0_mm) / design.pitch_x_mm).astype(np.int64)
    row = np.floor((design.y0_mm - defects.y_mm) / design.pitch_y_mm).astype(np.int64)
    inside = (row >= 0) & (row < design.rows) & (col >= 0) & (col < design.cols)
    for w, info in enumerate(defects.wafers):
        if info.sample_plan:  # only the dies of the sample plan were inspected
            seen = ok & info.inspected(xc, yc)
            wafer_area[w] = np.bincount(site_q[seen], weights=site_area[seen], minlength=nq)
            mine = defects.wafer_index == w
            inside[mine] &= info.inspected(defects.x_mm[mine], defects.y_mm[mine])
    q = np.full(defects.n_defects, -1, np.int64)
    q[inside] = site_q[row[inside] * design.cols + col[inside]]
    keep = q >= 0
    counts = np.zeros((defects.n_wafers, nq), np.int64)
    np.add.at(counts, (defects.wafer_index[keep], q[keep]), 1)
    return QuadratCounts(counts, area, wafer_area, site_q, label)


# -- counts: Poisson and negative binomial ----------------------------------------------------------

def _nb_loglik(n: np.ndarray, mu: np.ndarray, alpha: float) -> float:
    return float(np.sum(special.gammaln(n + alpha) - special.gammaln(alpha) - special.gammaln(n + 1.0)
                        + alpha * np.log(alpha / (alpha + mu)) + special.xlogy(n, mu / (alpha + mu))))


def _poisson_loglik(n: np.ndarray, mu: np.ndarray) -> float:
    return float(np.sum(special.xlogy(n, mu) - mu - special.gammaln(n + 1.0)))


@dataclass(frozen=True, eq=False)
class CountFit:
    """Maximum-likelihood fit of block counts: Poisson and negative binomial.

    Attributes
    ----------
    d0 : Estimate
        Density [cm^-2] (negative-binomial fit) with its profile-likelihood interval.
    alpha : Estimate
        Clustering [-]; ``value`` inf when the Poisson limit is the maximum.
    d0_poisson : Estimate
        Density under the Poisson model, exact (Garwood) interval.
    loglik_nb, loglik_poisson : float
    lr_statistic, lr_p_value : float
        Poisson vs NB likelihood ratio; p from the 50:50 chi-square(0)/(1) mixture.
    chi2_poisson, chi2_nb : tuple of (statistic, df, p)
        Pearson tests of the block counts against each fitted law (p NaN when df < 1).
    n_blocks, n_defects : int
    """

    d0: Estimate
    alpha: Estimate
    d0_poisson: Estimate
    loglik_nb: float
    loglik_poisson: float
    lr_statistic: float
    lr_p_value: float
    chi2_poisson: tuple[float, int, float]
    chi2_nb: tuple[float, int, float]
    n_blocks: int
    n_defects: int

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"blocks": self.n_blocks, "defects": self.n_defects}
        out |= self.d0.to_dict("d0_per_cm2") | self.alpha.to_dict("alpha")
        out |= self.d0_poisson.to_dict("d0_poisson_per_cm2")
        out |= {"loglik_nb": self.loglik_nb, "loglik_poisson": self.loglik_poisson,
                "lr_statistic": self.lr_statistic, "lr_p_value": self.lr_p_value}
        for name, (x2, df, p) in (("chi2_poisson", self.chi2_poisson), ("chi2_nb", self.chi2_nb)):
            out |= {name: _safe(x2), f"{name}_df": df, f"{name}_p_value": _safe(p)}
        return out

    def __repr__(self) -> str:
        return (f"CountFit(d0={self.d0!r} cm^-2, alpha={self.alpha!r}, LR={self.lr_statistic:.3g} "
                f"p={self.lr_p_value:.3g}, {self.n_blocks} blocks)")


def _profile_d0(n: np.ndarray, a: np.ndarray, alpha: float, d0_start: float) -> float:
    """ML density for a fixed alpha: the root of the score (closed form when all exposures are equal)."""
    total = n.sum()
    if total == 0:
        return 0.0
    if np.ptp(a) <= 1e-12 * a.max():
        return float(total / a.sum())

    def score(log_d0: float) -> float:
        d0 = math.exp(log_d0)
        return float(total - np.sum(d0 * a * (n + alpha) / (alpha + d0 * a)))

    lo, hi = math.log(d0_start) - 1.0, math.log(d0_start) + 1.0
    while score(lo) < 0:
        lo -= 2.0
    while score(hi) > 0:
        hi += 2.0
    return math.exp(optimize.brentq(score, lo, hi, xtol=1e-12))


def _pearson(n: np.ndarray, pmf: np.ndarray, tail: np.ndarray, n_params: int) -> tuple[float, int, float]:
    """Pearson chi-square of counts ``n`` against per-block pmfs (blocks x K) and tail masses P(N >= K)."""
    k_max = pmf.shape[1]
    expected = np.append(pmf.sum(axis=0), tail.sum())
    observed = np.append(np.bincount(np.minimum(n, k_max), minlength=k_max + 1)[:k_max],
                         np.sum(n >= k_max)).astype(float)
    bins_e, bins_o, acc_e, acc_o = [], [], 0.0, 0.0
    for e, o in zip(expected, observed):
        acc_e, acc_o = acc_e + e, acc_o + o
        if acc_e >= 5.0:
            bins_e.append(acc_e)
            bins_o.append(acc_o)
            acc_e = acc_o = 0.0
    if acc_e > 0 or acc_o > 0:
        if bins_e:
            bins_e[-1] += acc_e
            bins_o[-1] += acc_o
        else:
            bins_e, bins_o = [acc_e], [acc_o]
    e_arr, o_arr = np.array(bins_e), np.array(bins_o)
    x2 = float(np.sum((o_arr - e_arr) ** 2 / e_arr))
    df = len(bins_e) - 1 - n_params
    return x2, df, float(stats.chi2.sf(x2, df)) if df >= 1 else math.nan


def fit_counts(counts: Any, area_cm2: Any) -> CountFit:
    """Fit Poisson and negative-binomial laws to block counts with exposures.

    Parameters
    ----------
    counts : array_like of int
        Defects of each block [-].
    area_cm2 : array_like of float
        Exposure of each block [cm^2], > 0.

    Returns
    -------
    CountFit

    Examples
    --------
    >>> fit = fit_counts([3, 0, 7, 2, 9, 1, 0, 4], [10.0] * 8)
    >>> round(fit.d0.value, 4), fit.lr_p_value < 0.05
    (0.325, True)
    """
    n = np.asarray(counts, dtype=float).ravel()
    a = np.asarray(area_cm2, dtype=float).ravel()
    if n.size == 0 or n.size != a.size:
        raise InputError(f"counts and areas must be non-empty and of equal length, got {n.size} and {a.size}")
    if not (np.all(a > 0) and np.all(np.isfinite(a))):
        raise InputError("block areas must be finite and > 0")
    if np.any(n < 0) or np.any(n != np.round(n)):
        raise InputError("counts must be non-negative integers")
    total, area = float(n.sum()), float(a.sum())
    # Poisson: closed form, exact (Garwood) interval
    d0_p = total / area
    low_p = stats.chi2.ppf(0.025, 2 * total) / 2 / area if total > 0 else 0.0
    high_p = stats.chi2.ppf(0.975, 2 * total + 2) / 2 / area
    ll_p = _poisson_loglik(n, d0_p * a)
    poisson = Estimate(d0_p, low_p, high_p)
    if total == 0:
        nan3 = (math.nan, 0, math.nan)
        return CountFit(poisson, Estimate(math.inf, 0.0, math.inf), poisson, ll_p, ll_p, 0.0, 1.0, nan3, nan3,
                        n.size, 0)

    def profile_alpha(log_alpha: float) -> float:
        alpha = math.exp(log_alpha)
        return _nb_loglik(n, _profile_d0(n, a, alpha, d0_p) * a, alpha)

    res = optimize.minimize_scalar(lambda t: -profile_alpha(t), bounds=_LOG_ALPHA, method="bounded",
                                   options={"xatol": 1e-7})
    ll_nb = -float(res.fun)
    if ll_nb <= ll_p + 1e-9 or res.x > _LOG_ALPHA[1] - 0.01:
        alpha_hat, ll_nb, d0_hat = math.inf, max(ll_nb, ll_p), d0_p
    else:
        alpha_hat = math.exp(res.x)
        d0_hat = _profile_d0(n, a, alpha_hat, d0_p)
    ll_max = max(ll_nb, ll_p)
    target = ll_max - _DROP

    # alpha interval (profile over D0); Poisson is the alpha -> inf limit
    def g(t: float) -> float:
        return profile_alpha(t) - target

    t_hat = _LOG_ALPHA[1] if math.isinf(alpha_hat) else math.log(alpha_hat)
    a_low = 0.0 if g(_LOG_ALPHA[0]) > 0 else math.exp(optimize.brentq(g, _LOG_ALPHA[0], t_hat, xtol=1e-9))
    a_high = math.inf if (math.isinf(alpha_hat) or g(_LOG_ALPHA[1]) > 0 or ll_p > target) else \
        math.exp(optimize.brentq(g, t_hat, _LOG_ALPHA[1], xtol=1e-9))

    # D0 interval (profile over alpha, Poisson limit included)
    def profile_d0(d0: float) -> float:
        mu = d0 * a
        best = _poisson_loglik(n, mu)
        r = optimize.minimize_scalar(lambda t: -_nb_loglik(n, mu, math.exp(t)), bounds=_LOG_ALPHA,
                                     method="bounded", options={"xatol": 1e-6})
        return max(best, -float(r.fun)) - target

    step = max(0.5, 3.0 / math.sqrt(total))
    lo = math.log(d0_hat) - step
    while profile_d0(math.exp(lo)) > 0:
        lo -= step
    hi = math.log(d0_hat) + step
    while profile_d0(math.exp(hi)) > 0:
        hi += step
    d_low = math.exp(optimize.brentq(lambda t: profile_d0(math.exp(t)), lo, math.log(d0_hat), xtol=1e-10))
    d_high = math.exp(optimize.brentq(lambda t: profile_d0(math.exp(t)), math.log(d0_hat), hi, xtol=1e-10))

    lr = max(0.0, 2.0 * (ll_nb - ll_p))
    lr_p = 0.5 * float(stats.chi2.sf(lr, 1)) if lr > 0 else 1.0

    k = np.arange(int(n.max()) + 1)
    mu_p = d0_p * a
    chi_p = _pearson(n.astype(np.int64), stats.poisson.pmf(k[None, :], mu_p[:, None]),
                     stats.poisson.sf(k[-1], mu_p), 1)
    if math.isinf(alpha_hat):
        chi_nb = chi_p[0], chi_p[1] - 1, (float(stats.chi2.sf(chi_p[0], chi_p[1] - 1)) if chi_p[1] > 1 else math.nan)
    else:
        prob = alpha_hat / (alpha_hat + d0_hat * a)
        chi_nb = _pearson(n.astype(np.int64), stats.nbinom.pmf(k[None, :], alpha_hat, prob[:, None]),
                          stats.nbinom.sf(k[-1], alpha_hat, prob), 2)
    return CountFit(Estimate(d0_hat, d_low, d_high), Estimate(alpha_hat, a_low, a_high), poisson, ll_nb, ll_p,
                    lr, lr_p, chi_p, chi_nb, n.size, int(total))


# -- radial profile ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RadialFit:
    """ML radial profile ``1 + beta (r / R)^p`` from defect radii.

    Attributes
    ----------
    beta, power : float
        Estimates [-] (beta 0: uniform; power then undetermined and reported as 4).
    lr_statistic, p_value : float
        Uniform vs radial likelihood ratio, chi-square(2) reference (approximate: module docstring).
    n : int
        Radii used (those within ``r_max_mm``).
    r_max_mm : float
    """

    beta: float
    power: float
    lr_statistic: float
    p_value: float
    n: int
    r_max_mm: float

    def to_dict(self) -> dict[str, Any]:
        return {"radial_beta": self.beta, "radial_power": self.power, "radial_lr_statistic": self.lr_statistic,
                "radial_p_value": self.p_value, "radial_defects": self.n, "radial_r_max_mm": self.r_max_mm}


def fit_radial(r_mm: Any, radius_mm: float, r_max_mm: float | None = None) -> RadialFit:
    """Fit the radial profile to defect radii by maximum likelihood (module docstring).

    Parameters
    ----------
    r_mm : array_like
        Distances of the defects from the wafer centre [mm].
    radius_mm : float
        Usable radius R [mm].
    r_max_mm : float, optional
        Use only radii up to this [mm] (a disc the inspection covers wholly); default R.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> r = 147.0 * np.sqrt(rng.random(4000))        # uniform over the disc
    >>> fit_radial(r, 147.0).p_value > 0.001
    True
    """
    r_max = float(radius_mm if r_max_mm is None else r_max_mm)
    if not (0 < r_max <= radius_mm):
        raise InputError(f"must be in (0, {radius_mm:g}] mm, got {r_max_mm!r}", parameter="r_max_mm")
    u = np.asarray(r_mm, float).ravel() / radius_mm
    u = u[u <= r_max / radius_mm]
    um = r_max / radius_mm
    n = u.size
    log_u = np.log(np.maximum(u, 1e-300))

    def ll(beta: float, p: float) -> float:
        z = um**2 / 2.0 + beta * um ** (p + 2.0) / (p + 2.0)
        return float(np.sum(np.log1p(beta * np.exp(p * log_u)))) - n * math.log(z / (um**2 / 2.0))

    if n < 3:
        return RadialFit(0.0, 4.0, 0.0, 1.0, n, r_max)

    def best_beta(p: float) -> tuple[float, float]:
        r = optimize.minimize_scalar(lambda t: -ll(math.exp(t), p), bounds=(math.log(1e-6), math.log(1e6)),
                                     method="bounded", options={"xatol": 1e-6})
        return (math.exp(r.x), -float(r.fun)) if -float(r.fun) > 0.0 else (0.0, 0.0)

    grid = np.exp(np.linspace(math.log(0.2), math.log(MAX_RADIAL_POWER), 25))
    values = [best_beta(p)[1] for p in grid]
    i = int(np.argmax(values))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    r = optimize.minimize_scalar(lambda t: -best_beta(math.exp(t))[1], bounds=(math.log(lo), math.log(hi)),
                                 method="bounded", options={"xatol": 1e-5})
    power = float(math.exp(r.x))
    beta, gain = best_beta(power)
    if gain <= 0 or beta < 1e-5:
        return RadialFit(0.0, 4.0, 0.0, 1.0, n, r_max)
    lr = 2.0 * gain
    return RadialFit(min(beta, MAX_RADIAL_BETA), power, lr, float(stats.chi2.sf(lr, 2)), n, r_max)


# -- sizes ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SizeFit:
    """ML scale of the ``2 x0^2 / x^3`` size tail.

    Attributes
    ----------
    x0_um : Estimate
        [um], exact 95 % interval [x_lo, min] from the law of the minimum.
    max_size_um : float
        Truncation used [um].
    n : int
        Sized defects used.
    """

    x0_um: Estimate
    max_size_um: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        return self.x0_um.to_dict("x0_um") | {"max_size_um": self.max_size_um, "sized_defects": self.n}


def fit_sizes(size_um: Any, max_size_um: float = 2000.0) -> SizeFit:
    """Estimate x0 of the truncated ``2 x0^2 / x^3`` law from defect diameters (module docstring).

    Parameters
    ----------
    size_um : array_like
        Diameters [um]; NaN and values <= 0 (unknown) are ignored.
    max_size_um : float
        Truncation of the tail [um]; raised to the largest size seen.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> sizes = 0.5 / np.sqrt(rng.random(2000))   # x0 = 0.5 um, untruncated
    >>> fit = fit_sizes(sizes, 1e5)
    >>> 0.5 in fit.x0_um
    True
    """
    s = np.asarray(size_um, float).ravel()
    s = s[np.isfinite(s) & (s > 0)]
    if s.size == 0:
        raise InputError("no defect with a known size > 0: cannot fit the size distribution")
    m = float(s.min())
    top = min(max(float(max_size_um), float(s.max())), MAX_SIZE_UM)
    n = s.size
    inv_top2 = top**-2.0

    def survival(x0: float) -> float:  # P(min >= m | x0)
        return ((m**-2.0 - inv_top2) / (x0**-2.0 - inv_top2)) ** n

    def solve(level: float) -> float:
        lo = m * 1e-6
        if survival(lo) >= level:
            return lo
        return optimize.brentq(lambda x0: survival(x0) - level, lo, m, xtol=1e-14 * m, rtol=1e-12)

    return SizeFit(Estimate(m, solve(0.05), m), top, n)


# -- the whole calibration ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Calibration:
    """A calibrated defect model: estimates, intervals and tests.

    Attributes
    ----------
    design : str
    n_wafers : int
    quadrats : QuadratCounts
    mixing : str
        ``wafer`` or ``quadrat`` (module docstring).
    counts : CountFit
        D0, alpha with profile-likelihood intervals; Poisson vs NB tests.
    homogeneity : tuple of (statistic, df, p)
        Within-wafer dispersion test (``mixing="wafer"``), NaNs otherwise.
    radial : RadialFit or None
    sizes : SizeFit or None
        None when no defect has a size.
    """

    design: str
    n_wafers: int
    quadrats: QuadratCounts
    mixing: str
    counts: CountFit
    homogeneity: tuple[float, int, float]
    radial: RadialFit | None
    sizes: SizeFit | None

    @property
    def d0(self) -> Estimate:
        return self.counts.d0

    @property
    def alpha(self) -> Estimate:
        return self.counts.alpha

    def to_model(self, *, spatial: str = "auto", clustered: str = "auto", level: float = 0.05) -> DefectModel:
        """The :class:`DefectModel` of the estimates.

        Parameters
        ----------
        spatial : {"auto", "uniform", "radial"}
            ``auto``: radial when the radial profile was fitted and uniform is
            rejected at ``level``.
        clustered : {"auto", "yes", "no"}
            ``auto``: the NB alpha when Poisson is rejected at ``level`` (else Poisson).
        level : float
            Test level [-].
        """
        use_radial = self.radial is not None and self.radial.beta > 0 and (
            spatial == "radial" or (spatial == "auto" and self.radial.p_value < level))
        if spatial not in ("auto", "uniform", "radial") or clustered not in ("auto", "yes", "no"):
            raise InputError("spatial must be auto|uniform|radial and clustered auto|yes|no")
        alpha = self.counts.alpha.value
        use_alpha = math.isfinite(alpha) and (clustered == "yes" or
                                              (clustered == "auto" and self.counts.lr_p_value < level))
        kwargs: dict[str, Any] = {}
        if self.sizes is not None:
            kwargs = {"x0_um": self.sizes.x0_um.value, "max_size_um": self.sizes.max_size_um}
        else:
            kwargs = {"x0_um": 0.0}
        if use_radial:
            assert self.radial is not None
            kwargs |= {"spatial": "radial", "radial_beta": self.radial.beta, "radial_power": self.radial.power}
        d0 = self.counts.d0.value if use_alpha else self.counts.d0_poisson.value
        return DefectModel(d0, alpha=alpha if use_alpha else None, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"design": self.design, "wafers": self.n_wafers, "mixing": self.mixing,
                               "quadrats": self.quadrats.label, "n_quadrats": int(self.quadrats.area_cm2.size),
                               "method": "maximum likelihood; profile-likelihood 95% intervals"}
        out |= self.counts.to_dict()
        out |= {"homogeneity_chi2": _safe(self.homogeneity[0]), "homogeneity_df": self.homogeneity[1],
                "homogeneity_p_value": _safe(self.homogeneity[2])}
        if self.radial is not None:
            out |= self.radial.to_dict()
        if self.sizes is not None:
            out |= self.sizes.to_dict()
        return out

    def __repr__(self) -> str:
        radial = "" if self.radial is None else f", beta={self.radial.beta:.3g} p={self.radial.power:.3g}"
        sizes = "" if self.sizes is None else f", x0={self.sizes.x0_um.value:.3g} um"
        return (f"Calibration({self.design}, {self.n_wafers} wafers: d0={self.d0!r} cm^-2, "
                f"alpha={self.alpha!r}{radial}{sizes})")


def _homogeneity(counts: np.ndarray, area: np.ndarray) -> tuple[float, int, float]:
    """Within-wafer dispersion test; ``area`` is (wafers, quadrats), quadrats of area 0 left out."""
    totals = counts.sum(axis=1)
    share = area / np.maximum(area.sum(axis=1, keepdims=True), 1e-300)
    used = (totals > 0) & ((area > 0).sum(axis=1) >= 2)
    if not used.any():
        return math.nan, 0, math.nan
    expected = totals[used, None] * share[used]
    live = expected > 0
    x2 = float(np.sum((counts[used][live] - expected[live]) ** 2 / expected[live]))
    df = int(np.sum((area[used] > 0).sum(axis=1) - 1))
    return x2, df, float(stats.chi2.sf(x2, df))


def calibrate(design: Design, defects: InspectionDefects | Sequence[InspectionDefects], *,
              quadrat: str | float = "reticle", mixing: str = "wafer", radial: bool = True,
              r_max_mm: float | None = None, max_size_um: float = 2000.0) -> Calibration:
    """Estimate the defect model of ``design`` from inspected wafers (module docstring).

    Parameters
    ----------
    design : Design
        The design the quadrats are cut from.
    defects : InspectionDefects or sequence of them
        Many wafers' defects (positions in wafer-centre mm, sizes in um).
    quadrat : "reticle" or float
        Quadrats: the design's reticle fields, or squares of this side [mm].
    mixing : {"wafer", "quadrat"}
        Where the gamma intensity is shared (module docstring).
    radial : bool
        Fit the radial profile (and weight the exposures by it).
    r_max_mm : float, optional
        Radial fit only on radii up to this [mm] (default: the usable radius).
    max_size_um : float
        Truncation of the size tail [um].

    Returns
    -------
    Calibration
    """
    if not isinstance(defects, InspectionDefects):
        defects = InspectionDefects.concat(defects)
    if defects.n_wafers == 0:
        raise InputError("no wafer to calibrate on")
    if mixing not in ("wafer", "quadrat"):
        raise InputError(f"must be 'wafer' or 'quadrat', got {mixing!r}", parameter="mixing")
    rfit = None
    if radial:
        rfit = fit_radial(np.hypot(defects.x_mm, defects.y_mm), design.usable_radius_mm, r_max_mm)
    profile = (rfit.beta, rfit.power) if rfit is not None else (0.0, 4.0)
    q = quadrat_counts(design, defects, quadrat, profile)
    exposure = q.wafer_area_cm2
    if mixing == "wafer":
        seen = exposure.sum(axis=1) > 0
        if not seen.any():
            raise InputError("no wafer's inspection covers an existing site of the design")
        fit = fit_counts(q.counts.sum(axis=1)[seen], exposure.sum(axis=1)[seen])
        homogeneity = _homogeneity(q.counts[seen], exposure[seen])
    else:
        seen = exposure.ravel() > 0
        if not seen.any():
            raise InputError("no wafer's inspection covers an existing site of the design")
        fit = fit_counts(q.counts.ravel()[seen], exposure.ravel()[seen])
        homogeneity = (math.nan, 0, math.nan)
    sized = defects.size_um[np.isfinite(defects.size_um) & (defects.size_um > 0)]
    sizes = fit_sizes(sized, max_size_um) if sized.size else None
    return Calibration(design.name, defects.n_wafers, q, mixing, fit, homogeneity, rfit, sizes)
