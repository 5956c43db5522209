"""Failure rates from test results: FIT with chi-square bounds and early-life failure rate (ELFR).

- :func:`failure_rate_fit`: constant failure rate in FIT (failures per 1e9
  device-hours at use conditions) from failures observed over device-hours
  at stress, with the chi-square bounds of JESD85, zero failures included:
  ``lambda_upper = chi2.ppf(CL, 2F + 2) / (2 * device_hours * AF)``.
- :func:`elfr_constant_rate`: JESD74-style ELFR [ppm] over a field window
  from the same upper-bound rate: ``ELFR = 1e6 * lambda_upper * window``;
  with a stress that covers the window (``t * AF = window``) it is the
  JESD74 expression ``1e6 * chi2.ppf(CL, 2F + 2) / (2 N)``.
- :func:`elfr_weibull` and :func:`elfr_from_fit`: ELFR from a fitted
  infant-mortality distribution, optionally after a burn-in: the
  probability of failing in the field window given survival of the burn-in
  (``t_b * AF_b`` use-equivalent hours).

Closed forms with scipy.stats.chi2; the interval of a fitted ELFR is the
delta method on its logit with the fit's covariance.

References
----------
JEDEC JESD85, "Methods for Calculating Failure Rates in Units of FITs" (2001).
JEDEC JESD74, "Early Life Failure Rate Calculation Procedure for
Semiconductor Components" (2007).
JEDEC JEP122, "Failure Mechanisms and Models for Semiconductor Devices".
W. Q. Meeker, L. A. Escobar, *Statistical Methods for Reliability Data*,
Wiley 1998, section 7.6 (exponential with zero failures).
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from yieldkit.errors import InputError
from yieldkit.reliability.fitters import ParametricFitter

__all__ = [
    "FailureRate",
    "elfr_constant_rate",
    "elfr_from_fit",
    "elfr_weibull",
    "failure_rate_fit",
    "fit_to_per_hour",
    "per_hour_to_fit",
]

FIT_HOURS = 1e9
"""Device-hours of one FIT: 1 FIT = 1 failure per 1e9 device-hours."""


def per_hour_to_fit(rate_per_h):
    """Failure rate [1/h] to FIT [failures / 1e9 h].

    Examples
    --------
    >>> per_hour_to_fit(1e-9)
    1.0
    """
    return rate_per_h * FIT_HOURS


def fit_to_per_hour(fit):
    """FIT [failures / 1e9 h] to failure rate [1/h]."""
    return fit / FIT_HOURS


def _check_conf(confidence):
    if not (isinstance(confidence, (int, float)) and 0 < confidence < 1):
        raise InputError(f"must be in (0, 1), got {confidence!r}", parameter="confidence")
    return float(confidence)


def _nonneg(values, name, positive=False):
    arr = np.atleast_1d(np.asarray(values, float))
    bad = ~np.isfinite(arr) | ((arr <= 0) if positive else (arr < 0))
    if bad.any():
        raise InputError(f"must be finite and {'> 0' if positive else '>= 0'}, got {arr[bad][0]!r}", parameter=name)
    return arr


@dataclass(frozen=True)
class FailureRate:
    """A constant failure rate estimated from a test.

    Attributes
    ----------
    failures : int
        Failures observed F [-].
    equivalent_device_hours : float
        Device-hours at use conditions, ``sum(device_hours * AF)`` [h].
    confidence : float
        One-sided confidence level CL of the bounds [-].
    fit : float
        Point estimate ``F / equivalent hours`` [FIT].
    fit_upper : float
        Upper bound ``chi2.ppf(CL, 2F + 2) / 2 / hours`` [FIT].
    fit_lower : float
        Lower bound ``chi2.ppf(1 - CL, 2F) / 2 / hours`` [FIT] (0 with no failures).
    mttf_lower_h : float
        MTTF at the upper rate bound, ``1 / lambda_upper`` [h].
    """

    failures: int
    equivalent_device_hours: float
    confidence: float
    fit: float
    fit_upper: float
    fit_lower: float
    mttf_lower_h: float
    method: str = "chi-square (JESD85)"

    def to_dict(self) -> dict:
        """Flat JSON-safe dict."""
        return asdict(self)


def failure_rate_fit(failures, device_hours, acceleration_factor=1.0, confidence: float = 0.6) -> FailureRate:
    """Failure rate in FIT with chi-square bounds (JESD85), zero failures included.

    Several test cells (e.g. different stress conditions) combine by summing
    their failures and their equivalent device-hours ``device_hours * AF``.

    Parameters
    ----------
    failures : int or array_like of int
        Failures F in each cell [-].
    device_hours : float or array_like
        Device-hours at stress in each cell (units x hours) [h].
    acceleration_factor : float or array_like
        AF of each cell's stress relative to use [-].
    confidence : float
        One-sided confidence level CL [-]; 0.6 (JESD85 usual) or 0.9.

    Returns
    -------
    FailureRate

    References
    ----------
    JEDEC JESD85 (2001), section 4.

    Examples
    --------
    >>> r = failure_rate_fit(0, 1e6, acceleration_factor=100.0, confidence=0.6)
    >>> round(r.fit_upper, 3)   # chi2(0.6, 2) / 2 = 0.916 failures in 1e8 h
    9.163
    >>> r.fit, r.fit_lower
    (0.0, 0.0)
    """
    cl = _check_conf(confidence)
    f = _nonneg(failures, "failures")
    if (f != np.round(f)).any():
        raise InputError("must be whole numbers", parameter="failures")
    h = _nonneg(device_hours, "device_hours", positive=True)
    af = _nonneg(acceleration_factor, "acceleration_factor", positive=True)
    try:
        f, h, af = np.broadcast_arrays(f, h, af)
    except ValueError:
        raise InputError("failures, device_hours and acceleration_factor differ in length",
                         parameter="device_hours") from None
    total_f = int(f.sum())
    eq = float(np.sum(h * af))
    upper = stats.chi2.ppf(cl, 2 * total_f + 2) / (2.0 * eq)
    lower = stats.chi2.ppf(1 - cl, 2 * total_f) / (2.0 * eq) if total_f > 0 else 0.0
    return FailureRate(failures=total_f, equivalent_device_hours=eq, confidence=cl,
                       fit=per_hour_to_fit(total_f / eq), fit_upper=per_hour_to_fit(float(upper)),
                       fit_lower=per_hour_to_fit(float(lower)), mttf_lower_h=float(1.0 / upper))


def elfr_constant_rate(failures: int, units: int, stress_hours: float, acceleration_factor: float,
                       field_window_h: float, confidence: float = 0.6) -> dict:
    """JESD74-style early-life failure rate [ppm] over a field window, from a constant-rate upper bound.

    ``lambda_U = chi2.ppf(CL, 2F + 2) / (2 N t AF)``, ``ELFR = 1e6 * lambda_U * window``.

    Parameters
    ----------
    failures : int
        Failures F in the ELFR test [-].
    units : int
        Units N tested [-].
    stress_hours : float
        Test duration at stress t [h].
    acceleration_factor : float
        AF of the stress relative to use [-].
    field_window_h : float
        Early-life field window [h] (e.g. the first 8760 h).
    confidence : float
        One-sided CL [-].

    Returns
    -------
    dict
        ``elfr_ppm`` (upper bound), ``elfr_point_ppm``, ``rate_upper_fit``,
        ``equivalent_hours_per_unit``, ``confidence``, ``method``.

    References
    ----------
    JEDEC JESD74 (2007), section 5.

    Examples
    --------
    >>> r = elfr_constant_rate(0, 3000, 48.0, 182.5, 8760.0, confidence=0.6)
    >>> round(r["elfr_ppm"], 1)   # t * AF = window: 1e6 * chi2(0.6, 2) / (2 N)
    305.4
    """
    cl = _check_conf(confidence)
    _nonneg(failures, "failures")
    for name, v in (("units", units), ("stress_hours", stress_hours),
                    ("acceleration_factor", acceleration_factor), ("field_window_h", field_window_h)):
        _nonneg(v, name, positive=True)
    eq = float(units) * stress_hours * acceleration_factor
    lam_u = stats.chi2.ppf(cl, 2 * int(failures) + 2) / (2.0 * eq)
    return {"elfr_ppm": float(1e6 * lam_u * field_window_h),
            "elfr_point_ppm": float(1e6 * failures / eq * field_window_h),
            "rate_upper_fit": per_hour_to_fit(float(lam_u)),
            "equivalent_hours_per_unit": stress_hours * acceleration_factor,
            "confidence": cl, "method": "constant rate, chi-square (JESD74)"}


def elfr_weibull(p: float, beta: float, eta_h: float, field_window_h: float, burn_in_equivalent_h=0.0):
    """ELFR [ppm] of a defective-subpopulation Weibull over a field window, after a burn-in.

    ``ELFR = 1e6 * p (F(b + w) - F(b)) / (1 - p F(b))`` with ``F`` the Weibull
    CDF of the defective units, ``b`` the burn-in in use-equivalent hours
    (``t_burn * AF``), ``w`` the field window. ``p = 1`` is a plain Weibull.

    Parameters
    ----------
    p : float
        Defective fraction [-], in (0, 1].
    beta, eta_h : float
        Weibull shape [-] and scale at use conditions [h].
    field_window_h : float
        Field window w [h].
    burn_in_equivalent_h : float or array_like
        Burn-in b in use-equivalent hours [h].

    Returns
    -------
    float or ndarray
        Residual ELFR [ppm].

    Examples
    --------
    >>> round(float(elfr_weibull(1.0, 1.0, 1e6, 1000.0)), 1)   # exponential: memoryless
    999.5
    >>> bool(elfr_weibull(1e-3, 0.5, 1e5, 8760.0, 1e3) < elfr_weibull(1e-3, 0.5, 1e5, 8760.0))
    True
    """
    if not (0 < p <= 1):
        raise InputError(f"must be in (0, 1], got {p!r}", parameter="p")
    for name, v in (("beta", beta), ("eta_h", eta_h), ("field_window_h", field_window_h)):
        _nonneg(v, name, positive=True)
    b = _nonneg(burn_in_equivalent_h, "burn_in_equivalent_h")
    fb = -np.expm1(-(b / eta_h) ** beta)
    fbw = -np.expm1(-((b + field_window_h) / eta_h) ** beta)
    out = 1e6 * p * (fbw - fb) / (1.0 - p * fb)
    return float(out[0]) if np.ndim(burn_in_equivalent_h) == 0 else out


def elfr_from_fit(fit: ParametricFitter, field_window_h: float, burn_in_equivalent_h: float = 0.0,
                  fit_acceleration_factor: float = 1.0, confidence: float = 0.6) -> dict:
    """ELFR [ppm] over a field window from a fitted life distribution, with a one-sided upper bound.

    Parameters
    ----------
    fit : ParametricFitter
        A fitted distribution (e.g. :class:`~yieldkit.reliability.lfp.LFPWeibullFitter`).
    field_window_h : float
        Field window w at use conditions [h].
    burn_in_equivalent_h : float
        Burn-in already survived, in use-equivalent hours [h].
    fit_acceleration_factor : float
        AF of the fitted data's conditions relative to use [-]: the fit's
        time scale is stress hours, ``t_use = AF * t_fit``.
    confidence : float
        One-sided CL of the upper bound [-].

    Returns
    -------
    dict
        ``elfr_ppm`` (point), ``elfr_upper_ppm`` (delta method on the logit
        with the fit's covariance), ``confidence``, ``method``.

    Examples
    --------
    >>> from yieldkit.reliability.lfp import LFPWeibullFitter
    >>> fit = LFPWeibullFitter().fit([1.0, 3.0, 10.0, 30.0, 100.0], count=[1] * 4 + [996], event=[1] * 4 + [0],
    ...                              ci_method="fisher")
    >>> r = elfr_from_fit(fit, field_window_h=1000.0)
    >>> bool(r["elfr_ppm"] < r["elfr_upper_ppm"])
    True
    """
    cl = _check_conf(confidence)
    fit._require_fitted()
    for name, v in (("field_window_h", field_window_h), ("fit_acceleration_factor", fit_acceleration_factor)):
        _nonneg(v, name, positive=True)
    _nonneg(burn_in_equivalent_h, "burn_in_equivalent_h")
    b = burn_in_equivalent_h / fit_acceleration_factor
    w = field_window_h / fit_acceleration_factor

    def elfr(z):
        f = copy.copy(fit)  # the same fit at other parameter values; the caller's fit is left alone
        f.params_ = dict(zip(fit._param_names, [t.to_x(zi) for t, zi in zip(fit._tr, z, strict=True)], strict=True))
        for k, v in f.params_.items():
            setattr(f, f"{k}_", float(v))
        sb = float(f.sf(b)) if b > 0 else 1.0
        return (sb - float(f.sf(b + w))) / sb

    z = np.asarray(fit._z, float)
    r0 = elfr(z)
    jac = np.array([t.dx_dz(zi) for t, zi in zip(fit._tr, z, strict=True)])
    cov_z = np.nan_to_num(fit.variance_matrix_.to_numpy() / np.outer(jac, jac))  # nan: a parameter at its bound
    logit = math.log(r0) - math.log1p(-r0) if 0 < r0 < 1 else float("nan")
    g = np.empty(z.size)
    for i in range(z.size):
        h = 1e-5 * max(1.0, abs(z[i]))
        e = np.zeros(z.size)
        e[i] = h
        rp, rm = elfr(z + e), elfr(z - e)
        g[i] = (math.log(rp) - math.log1p(-rp) - (math.log(rm) - math.log1p(-rm))) / (2 * h)
    se = float(np.sqrt(g @ cov_z @ g))
    upper = 1.0 / (1.0 + math.exp(-(logit + stats.norm.ppf(cl) * se)))
    return {"elfr_ppm": 1e6 * r0, "elfr_upper_ppm": 1e6 * upper, "confidence": cl,
            "method": f"{fit._distribution} fit, delta method on logit"}
