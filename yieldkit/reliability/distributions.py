"""Life distributions and their censored log-likelihood contributions.

Each distribution gives ``logpdf``, ``logcdf`` and ``logsf`` of a time
[h] in closed form (numpy and :mod:`scipy.special`, vectorized so that a fit
of thousands of units takes milliseconds); :func:`censored_loglik` sums the
contribution of every row of a :class:`~yieldkit.reliability.lifedata.LifeData`:

- exact failure at t: ``log f(t)``;
- right-censored at l: ``log S(l)``;
- left-censored at u: ``log F(u)``;
- interval (l, u]: ``log(F(u) - F(l))``, evaluated on the side of the
  distribution where it does not cancel.

The closed forms are those of :mod:`scipy.stats` (``weibull_min``,
``lognorm``, ``expon``, ``gamma``); the tests check them against it.

References
----------
W. Q. Meeker, L. A. Escobar, *Statistical Methods for Reliability Data*,
Wiley 1998, chapters 4 and 7 (likelihood with censoring).
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["DISTRIBUTIONS", "censored_loglik", "log_interval_prob"]

_LOG_HALF = np.log(0.5)
_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


def _log1mexp(x):
    """log(1 - exp(x)) for x <= 0, accurate everywhere."""
    x = np.asarray(x, float)
    return np.where(x > -0.6931, np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def log_interval_prob(logcdf_l, logcdf_u, logsf_l, logsf_u):
    """log(F(u) - F(l)) from the log cdf and log sf at both ends, without cancellation."""
    with np.errstate(all="ignore"):
        low_side = logcdf_u + _log1mexp(logcdf_l - logcdf_u)
        high_side = logsf_l + _log1mexp(logsf_u - logsf_l)
    return np.where(logcdf_u < _LOG_HALF, low_side, high_side)


class Weibull:
    """Weibull: ``F(t) = 1 - exp(-((t - gamma) / eta) ** beta)``; params (beta, eta[, gamma])."""

    name = "weibull"

    @staticmethod
    def _z(t, beta, eta, gamma=0.0):
        return (np.clip(t - gamma, 0.0, None) / eta) ** beta

    @classmethod
    def logsf(cls, t, beta, eta, gamma=0.0):
        return -cls._z(t, beta, eta, gamma)

    @classmethod
    def logcdf(cls, t, beta, eta, gamma=0.0):
        with np.errstate(divide="ignore"):
            return _log1mexp(-cls._z(t, beta, eta, gamma))

    @classmethod
    def logpdf(cls, t, beta, eta, gamma=0.0):
        s = np.clip(t - gamma, 0.0, None) / eta
        with np.errstate(divide="ignore"):
            return np.log(beta / eta) + (beta - 1) * np.log(s) - s ** beta

    @staticmethod
    def ppf(q, beta, eta, gamma=0.0):
        return gamma + eta * (-np.log1p(-np.asarray(q, float))) ** (1.0 / beta)


class LogNormal:
    """Lognormal: ``F(t) = Phi((ln t - mu) / sigma)``; params (mu [ln h], sigma [-])."""

    name = "lognormal"

    @staticmethod
    def logsf(t, mu, sigma):
        with np.errstate(divide="ignore"):
            return special.log_ndtr(-(np.log(t) - mu) / sigma)

    @staticmethod
    def logcdf(t, mu, sigma):
        with np.errstate(divide="ignore"):
            return special.log_ndtr((np.log(t) - mu) / sigma)

    @staticmethod
    def logpdf(t, mu, sigma):
        with np.errstate(divide="ignore"):
            lt = np.log(t)
            return -0.5 * ((lt - mu) / sigma) ** 2 - lt - np.log(sigma) - _LOG_SQRT_2PI

    @staticmethod
    def ppf(q, mu, sigma):
        return np.exp(mu + sigma * special.ndtri(np.asarray(q, float)))


class Exponential:
    """Exponential: ``F(t) = 1 - exp(-t / eta)``; param eta (mean life [h])."""

    name = "exponential"

    @staticmethod
    def logsf(t, eta):
        return -np.asarray(t, float) / eta

    @staticmethod
    def logcdf(t, eta):
        with np.errstate(divide="ignore"):
            return _log1mexp(-np.asarray(t, float) / eta)

    @staticmethod
    def logpdf(t, eta):
        return -np.log(eta) - np.asarray(t, float) / eta

    @staticmethod
    def ppf(q, eta):
        return -eta * np.log1p(-np.asarray(q, float))


class Gamma:
    """Gamma: ``f(t) = t ** (k - 1) exp(-t / theta) / (Gamma(k) theta ** k)``; params (k [-], theta [h])."""

    name = "gamma"

    @staticmethod
    def logsf(t, k, theta):
        with np.errstate(divide="ignore"):
            return np.log(special.gammaincc(k, np.asarray(t, float) / theta))

    @staticmethod
    def logcdf(t, k, theta):
        with np.errstate(divide="ignore"):
            return np.log(special.gammainc(k, np.asarray(t, float) / theta))

    @staticmethod
    def logpdf(t, k, theta):
        t = np.asarray(t, float)
        with np.errstate(divide="ignore"):
            return (k - 1) * np.log(t) - t / theta - special.gammaln(k) - k * np.log(theta)

    @staticmethod
    def ppf(q, k, theta):
        return theta * special.gammaincinv(k, np.asarray(q, float))


DISTRIBUTIONS = {d.name: d for d in (Weibull, LogNormal, Exponential, Gamma)}


def censored_loglik(dist, data, *params) -> float:
    """Log-likelihood of ``data`` (a LifeData) under ``dist`` with natural ``params``.

    Parameters may be arrays of the rows' length (a scale that depends on stress).
    """
    if not any(np.ndim(p) for p in params):
        return _loglik_scalar(dist, data.parts, params)
    lo, hi, n = data.lower_h, data.upper_h, data.count
    exact, right = data.is_exact, data.is_right
    cens = ~exact & ~right
    total = 0.0

    def sel(mask):
        return tuple(p[mask] if np.ndim(p) else p for p in params)

    if exact.any():
        total += float(np.dot(n[exact], dist.logpdf(lo[exact], *sel(exact))))
    if right.any():
        total += float(np.dot(n[right], dist.logsf(lo[right], *sel(right))))
    if cens.any():
        p = sel(cens)
        l, u = lo[cens], hi[cens]
        with np.errstate(divide="ignore"):
            lcu, lsu = dist.logcdf(u, *p), dist.logsf(u, *p)
            lcl = np.where(l > 0, dist.logcdf(np.where(l > 0, l, 1.0), *p), -np.inf)
            lsl = np.where(l > 0, dist.logsf(np.where(l > 0, l, 1.0), *p), 0.0)
        total += float(np.dot(n[cens], log_interval_prob(lcl, lcu, lsl, lsu)))
    return total


def _loglik_scalar(dist, parts, params) -> float:
    """censored_loglik with scalar parameters, on the rows pre-split by kind."""
    total = 0.0
    if parts["n_exact"].size:
        total += float(np.dot(parts["n_exact"], dist.logpdf(parts["t_exact"], *params)))
    if parts["n_right"].size:
        total += float(np.dot(parts["n_right"], dist.logsf(parts["t_right"], *params)))
    if parts["n_cens"].size:
        u, pos, ls = parts["u_cens"], parts["l_pos"], parts["l_safe"]
        with np.errstate(divide="ignore"):
            lcu, lsu = dist.logcdf(u, *params), dist.logsf(u, *params)
            lcl = np.where(pos, dist.logcdf(ls, *params), -np.inf)
            lsl = np.where(pos, dist.logsf(ls, *params), 0.0)
        total += float(np.dot(parts["n_cens"], log_interval_prob(lcl, lcu, lsl, lsu)))
    return total
