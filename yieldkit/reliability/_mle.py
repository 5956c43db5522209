"""Maximum likelihood engine shared by the hand-written likelihoods.

The parameters are optimized in an unconstrained space (log for positive
parameters, logit for fractions and bounded locations); the observed
(Fisher) information is the finite-difference Hessian of the negative
log-likelihood there, and Fisher-matrix intervals are formed there and
transformed back, so they respect the parameter space (Meeker & Escobar
1998, section 8.4). Likelihood-ratio intervals invert the profile
likelihood: ``2 (l_max - l_profile(theta_i)) <= chi2_{1, CL}`` (section 8.3).
scipy.optimize does the optimization and the root finding.

References
----------
W. Q. Meeker, L. A. Escobar, *Statistical Methods for Reliability Data*,
Wiley 1998, chapters 7-8.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from yieldkit.errors import Failure, InputError

CI_METHODS = ("fisher", "likelihood-ratio")


@dataclass(frozen=True)
class Transform:
    """Map between a natural parameter and the unconstrained optimization space."""

    kind: str  # "log", "identity", "logit"
    lower: float = 0.0
    upper: float = 1.0

    def to_z(self, x: float) -> float:
        if self.kind == "log":
            return float(np.log(x))
        if self.kind == "logit":
            u = (x - self.lower) / (self.upper - self.lower)
            u = min(max(u, 1e-12), 1 - 1e-12)
            return float(np.log(u) - np.log1p(-u))
        return float(x)

    def to_x(self, z):
        if self.kind == "log":
            return np.exp(z)
        if self.kind == "logit":
            return self.lower + (self.upper - self.lower) * _expit(z)
        return z

    def dx_dz(self, z: float) -> float:
        if self.kind == "log":
            return float(np.exp(z))
        if self.kind == "logit":
            s = _expit(z)
            return float((self.upper - self.lower) * s * (1 - s))
        return 1.0


def _expit(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, float)))


def _safe(nll):
    def f(z):
        with np.errstate(all="ignore"):
            v = nll(np.asarray(z, float))
        return float(v) if np.isfinite(v) else 1e300

    return f


def minimize_nll(nll, starts, what: str) -> tuple[np.ndarray, float]:
    """Minimize ``nll(z)`` from several starting points: Nelder-Mead then BFGS polish.

    Raises :class:`~yieldkit.errors.Failure` naming ``what`` when no start reaches a finite optimum.
    """
    f = _safe(nll)
    best_z, best_v = None, np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        starts = [np.asarray(z0, float) for z0 in starts]
        values = [f(z0) for z0 in starts]
        ranked = [z0 for v, z0 in sorted(zip(values, starts, strict=True), key=lambda p: p[0]) if v < 1e300]
        for z0 in ranked[:2]:  # a coarse search from the two most likely starts ...
            res = optimize.minimize(f, z0, method="Nelder-Mead",
                                    options={"xatol": 1e-4, "fatol": 1e-6, "maxiter": 500 * z0.size,
                                             "adaptive": z0.size > 2})
            if res.fun < best_v:
                best_z, best_v = res.x, res.fun
        if best_z is not None:  # ... then the best one polished: quasi-Newton, Nelder-Mead if that stalls
            pol = optimize.minimize(f, best_z, method="BFGS", options={"gtol": 1e-7, "maxiter": 200})
            if pol.fun <= best_v:
                best_z, best_v = pol.x, pol.fun
            if not pol.success:
                res = optimize.minimize(f, best_z, method="Nelder-Mead",
                                        options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 2000 * best_z.size,
                                                 "maxfev": 4000 * best_z.size, "adaptive": best_z.size > 2})
                if res.fun <= best_v:
                    best_z, best_v = res.x, res.fun
    if best_z is None or not np.isfinite(best_v) or best_v >= 1e300:
        raise Failure(f"{what}: the maximum likelihood fit did not converge (no finite likelihood)")
    return best_z, float(best_v)


def hessian(f, z: np.ndarray, rel_step: float = 1e-4) -> np.ndarray:
    """Central finite-difference Hessian of ``f`` at ``z``."""
    f = _safe(f)
    k = z.size
    h = rel_step * np.maximum(1.0, np.abs(z))
    f0 = f(z)
    H = np.empty((k, k))
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h[i]
        H[i, i] = (f(z + ei) - 2 * f0 + f(z - ei)) / h[i] ** 2
        for j in range(i + 1, k):
            ej = np.zeros(k)
            ej[j] = h[j]
            H[i, j] = H[j, i] = (f(z + ei + ej) - f(z + ei - ej) - f(z - ei + ej) + f(z - ei - ej)) / (4 * h[i] * h[j])
    return H


def covariance(nll, z_hat: np.ndarray, what: str) -> np.ndarray:
    """Inverse observed information at the optimum.

    Failure when it is not positive definite, or when the Newton decrement
    ``sqrt(g' H^-1 g)`` shows the optimizer stopped short of the maximum.
    """
    H = hessian(nll, z_hat)
    if not np.all(np.isfinite(H)):
        raise Failure(f"{what}: the information matrix is not finite at the optimum")
    try:
        np.linalg.cholesky(H)
    except np.linalg.LinAlgError:
        raise Failure(f"{what}: the information matrix is not positive definite at the optimum "
                      "(the fit did not converge or a parameter is not identifiable from these data)") from None
    cov = np.linalg.inv(H)
    g = gradient(nll, z_hat)
    decrement = float(np.sqrt(max(g @ cov @ g, 0.0)))
    if not np.isfinite(decrement) or decrement > 1e-2:
        raise Failure(f"{what}: the fit did not converge (the log-likelihood still rises at the last step; "
                      "a parameter runs off to the boundary of its range)")
    return cov


def gradient(f, z: np.ndarray, rel_step: float = 1e-6) -> np.ndarray:
    """Central finite-difference gradient of ``f`` at ``z``."""
    f = _safe(f)
    g = np.empty(z.size)
    for i in range(z.size):
        h = rel_step * max(1.0, abs(z[i]))
        e = np.zeros(z.size)
        e[i] = h
        g[i] = (f(z + e) - f(z - e)) / (2 * h)
    return g


def profile_bounds(nll, z_hat: np.ndarray, nll_hat: float, index: int, se: float, confidence: float,
                   what: str) -> tuple[float, float]:
    """Likelihood-ratio interval of ``z[index]``: where the profile rises chi2_{1,CL}/2 above the minimum.

    Returns (lower, upper) in z; an end is -inf/+inf when the profile never rises that far
    (the interval reaches the boundary of the parameter space).
    """
    f = _safe(nll)
    target = nll_hat + 0.5 * stats.chi2.ppf(confidence, 1)
    k = z_hat.size
    others = [j for j in range(k) if j != index]
    warm = {"z": z_hat[others].copy()}

    def profile(zi: float) -> float:
        if not others:
            return f(np.array([zi]))

        def g(zo):
            z = np.empty(k)
            z[index] = zi
            z[others] = zo
            return f(z)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = optimize.minimize(g, warm["z"], method="Nelder-Mead",
                                    options={"xatol": 1e-6, "fatol": 1e-8, "maxiter": 1000 * len(others),
                                             "adaptive": len(others) > 2})
        if res.fun < 1e300:
            warm["z"] = res.x
        return float(res.fun)

    step0 = 1.5 * se if np.isfinite(se) and se > 0 else 0.5
    out = []
    for sign in (-1.0, 1.0):
        warm["z"] = z_hat[others].copy()
        step, inside = step0, 0.0
        bound = None
        for _ in range(40):
            zi = z_hat[index] + sign * step
            v = profile(zi)
            if v >= target:
                a, b = sorted((z_hat[index] + sign * inside, zi))
                try:
                    warm["z"] = z_hat[others].copy()
                    bound = optimize.brentq(lambda x: profile(x) - target, a, b, xtol=1e-5)
                except ValueError:
                    bound = zi
                break
            inside = step
            step *= 1.6
            if step > 60:
                break
        out.append(bound if bound is not None else sign * np.inf)
    return out[0], out[1]


def check_ci_method(ci_method: str) -> str:
    if ci_method not in CI_METHODS:
        raise InputError(f"must be one of {CI_METHODS}, got {ci_method!r}", parameter="ci_method")
    return ci_method


def check_alpha(alpha: float) -> float:
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise InputError(f"must be in (0, 1), got {alpha!r}", parameter="alpha")
    return float(alpha)
