"""Maximum likelihood fitters of life distributions to censored data.

:class:`WeibullFitter`, :class:`Weibull3Fitter` (with a location, the
failure-free time), :class:`LogNormalFitter`, :class:`ExponentialFitter` and
:class:`GammaFitter` fit right-, left- and interval-censored and exact times
mixed in one :class:`~yieldkit.reliability.lifedata.LifeData`, lifelines
style: ``fit`` returns the fitter, fitted attributes end in ``_``.

Which library does what
-----------------------
- The log-likelihoods are written here in closed form
  (:mod:`yieldkit.reliability.distributions`, numpy and scipy.special) and
  maximized with scipy.optimize (Nelder-Mead, then BFGS), in log space for
  positive parameters. One engine serves every fitter, the defective
  subpopulation (:mod:`~yieldkit.reliability.lfp`) and the accelerated life
  models (:mod:`~yieldkit.reliability.alt`), with Fisher-matrix and
  profile likelihood-ratio intervals for all of them.
- Why not a library at run time: ``scipy.stats`` (``CensoredData`` with
  ``rv_continuous.fit``) gives point estimates only, with no intervals or
  log-likelihood; ``lifelines`` fits the 2-parameter Weibull, lognormal and
  exponential with interval censoring and Fisher intervals, but has no
  3-parameter Weibull, plain gamma, limited-failure population or
  stress-dependent scale with profile intervals, and pins ``pandas < 3``;
  ``surpyval`` has the limited-failure population and the location but
  brings autograd, pint and numdifftools. Both are used by the tests, which
  check these fits against ``lifelines``, ``surpyval`` and ``scipy.stats``
  on their own example datasets.

Intervals: ``ci_method="fisher"`` (default) uses the observed information in
the transformed (log) space, transformed back; ``"likelihood-ratio"``
inverts the profile likelihood. ``aic_ = 2k - 2 LL``, ``bic_ = k ln(n) - 2 LL``
with n the number of units (censored ones included).

References
----------
W. Q. Meeker, L. A. Escobar, *Statistical Methods for Reliability Data*,
Wiley 1998 (2nd ed. 2021), chapters 7-8 (ML and intervals), 11 (threshold
parameter).
W. Nelson, *Applied Life Data Analysis*, Wiley 1982.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from yieldkit.errors import Failure, InputError
from yieldkit.reliability import _mle
from yieldkit.reliability._mle import Transform
from yieldkit.reliability.distributions import DISTRIBUTIONS, censored_loglik
from yieldkit.reliability.lifedata import LifeData
from yieldkit.reliability.plotting_positions import nonparametric_cdf

__all__ = [
    "ExponentialFitter",
    "GammaFitter",
    "LogNormalFitter",
    "ParametricFitter",
    "Weibull3Fitter",
    "WeibullFitter",
    "coerce_life_data",
]


def coerce_life_data(data, event=None, count=None) -> LifeData:
    """A LifeData from a LifeData, or from durations [h] with optional event flags (default: all failed)."""
    if isinstance(data, LifeData):
        if event is not None or count is not None:
            raise InputError("give event and count only with durations, not with a LifeData", parameter="event")
        return data
    t = np.asarray(data, dtype=float) if not isinstance(data, (str, bytes)) else None
    if t is None:
        raise InputError("must be a LifeData or durations [h]", parameter="data")
    return LifeData.from_durations(t, np.ones(t.shape, bool) if event is None else event, count)


def representative_times(data: LifeData) -> np.ndarray:
    """One time per row for starting values: exact/right at the time, interval mid-point, left half-way."""
    t = np.where(data.is_right | data.is_exact, data.lower_h, 0.5 * (data.lower_h + data.upper_h))
    return np.where(data.is_left, 0.5 * data.upper_h, t)


def _json(v):
    if isinstance(v, (np.floating, float)):
        v = float(v)
        return v if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    return v


class ParametricFitter:
    """Base of the maximum likelihood fitters (one engine, many likelihoods).

    Subclasses define ``_param_names``, ``_units``, ``_loglik(theta, data)``,
    ``_transforms(data)`` and ``_starts(data)``.

    Parameters
    ----------
    alpha : float
        The intervals are ``100 (1 - alpha)`` % two-sided [-]; 0.05.
    """

    _param_names: tuple[str, ...] = ()
    _units: tuple[str, ...] = ()
    _distribution = ""
    _ci_default = "fisher"
    _min_failures = 2
    _collapse = True  # merge identical rows before the likelihood (not when rows carry stresses)

    def __init__(self, alpha: float = 0.05) -> None:
        self.alpha = _mle.check_alpha(alpha)
        self._fitted = False

    # --- to define in subclasses -----------------------------------------------------------------

    def _loglik(self, theta: np.ndarray, data: LifeData) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _transforms(self, data: LifeData) -> list[Transform]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _starts(self, data: LifeData) -> list[list[float]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_optimum(self, theta: np.ndarray, data: LifeData) -> None:
        """Hook: raise Failure when the optimum is on a boundary of the parameter space."""

    def _check_fit(self) -> None:
        """Hook: derived attributes after a fit."""

    def _at_boundary(self, theta: np.ndarray) -> list[int]:
        """Hook: indices of parameters whose optimum is at a boundary of their range."""
        return []

    # --- fitting ---------------------------------------------------------------------------------

    def fit(self, data, event=None, count=None, *, ci_method: str | None = None):
        """Fit by maximum likelihood; returns self.

        Parameters
        ----------
        data : LifeData or array_like
            The life data, or durations [h] (then ``event`` flags: true = failed, default all).
        event, count : array_like, optional
            With durations: failure flags and unit counts per row.
        ci_method : {"fisher", "likelihood-ratio"}, optional
            How the intervals are computed; the fitter's default when omitted.

        Raises
        ------
        yieldkit.errors.InputError
            Invalid data or too few failures for this distribution.
        yieldkit.errors.Failure
            The fit did not converge; the message names the distribution.
        """
        data = coerce_life_data(data, event, count)
        return self._fit(data, ci_method)

    def fit_interval_censoring(self, lower_h, upper_h, count=None, *, ci_method: str | None = None):
        """Fit failures known only to lie in ``(lower_h, upper_h]`` [h] (``inf`` upper: right-censored)."""
        return self._fit(LifeData.from_intervals(lower_h, upper_h, count), ci_method)

    def _what(self) -> str:
        return f"{self._distribution} fit"

    def _fit(self, data: LifeData, ci_method: str | None):
        method = _mle.check_ci_method(ci_method or self._ci_default)
        data.require_failures(f"a {self._distribution} fit", self._min_failures)
        self._fitted = False
        work = data.collapsed() if self._collapse else data
        tr = self._transforms(work)
        what = self._what()

        def theta_of(z):
            return np.array([t.to_x(zi) for t, zi in zip(tr, z, strict=True)])

        def nll(z):
            return -self._loglik(theta_of(z), work)

        starts = [[t.to_z(x) for t, x in zip(tr, s, strict=True)] for s in self._starts(work)]
        z, v = _mle.minimize_nll(nll, starts, what)
        self._check_optimum(theta_of(z), work)
        # parameters at a boundary of their range (an LFP fraction p -> 1) have no Fisher information:
        # the others get the information of the reduced model, these a profile interval
        fixed = sorted(self._at_boundary(theta_of(z)))
        free = [i for i in range(z.size) if i not in fixed]

        def nll_free(zf):
            full = z.copy()
            full[free] = zf
            return nll(full)

        cov_z = np.full((z.size, z.size), np.nan)
        cov_z[np.ix_(free, free)] = _mle.covariance(nll_free, z[free], what)
        se_z = np.sqrt(np.diag(cov_z))
        q = stats.norm.ppf(1 - self.alpha / 2)
        lo_z, hi_z = z - q * se_z, z + q * se_z
        row_method = [method] * z.size
        for i in range(z.size):
            if method == "likelihood-ratio" or i in fixed:
                lo_z[i], hi_z[i] = _mle.profile_bounds(nll, z, v, i, se_z[i], 1 - self.alpha, what)
                row_method[i] = "likelihood-ratio"
        jac = np.array([t.dx_dz(zi) for t, zi in zip(tr, z, strict=True)])
        self._tr, self._z = tr, z
        self.data_ = data
        self.params_ = dict(zip(self._param_names, theta_of(z), strict=True))
        for name, value in self.params_.items():
            setattr(self, f"{name}_", float(value))
        with np.errstate(over="ignore"):
            lower = [float(t.to_x(x)) for t, x in zip(tr, lo_z, strict=True)]
            upper = [float(t.to_x(x)) for t, x in zip(tr, hi_z, strict=True)]
        self.variance_matrix_ = pd.DataFrame(cov_z * np.outer(jac, jac), index=list(self._param_names),
                                             columns=list(self._param_names))
        self.ci_method_ = method
        self.log_likelihood_ = -float(v)
        k, n = len(self._param_names), data.n_units
        self.aic_ = 2 * k - 2 * self.log_likelihood_
        self.bic_ = k * math.log(n) - 2 * self.log_likelihood_
        self.n_units_, self.n_failures_ = n, data.n_failures
        level = f"{100 * (1 - self.alpha):g}%"
        self._summary = pd.DataFrame({
            "estimate": [float(x) for x in self.params_.values()],
            "se": se_z * np.abs(jac),
            f"lower {level}": lower,
            f"upper {level}": upper,
            "unit": list(self._units),
            "ci_method": row_method,
        }, index=pd.Index(list(self._param_names), name="parameter"))
        self._fitted = True
        self._check_fit()
        return self

    # --- results ---------------------------------------------------------------------------------

    def _require_fitted(self) -> None:
        if not getattr(self, "_fitted", False):
            raise Failure(f"{type(self).__name__} is not fitted; call fit() first")

    @property
    def summary(self) -> pd.DataFrame:
        """Parameters: ``estimate``, ``se``, the interval bounds, ``unit`` and ``ci_method`` (index: parameter)."""
        self._require_fitted()
        return self._summary

    @property
    def confidence_intervals_(self) -> pd.DataFrame:
        """The lower and upper bounds of the parameters (the interval columns of ``summary``)."""
        self._require_fitted()
        return self.summary.iloc[:, 2:4]

    def _theta(self) -> tuple[float, ...]:
        return tuple(self.params_[p] for p in self._param_names)

    def cdf(self, t_h):
        """Fitted probability of failure by ``t_h`` [h] [-]."""
        self._require_fitted()
        return np.exp(self._dist.logcdf(np.asarray(t_h, float), *self._theta()))

    def sf(self, t_h):
        """Fitted survival probability at ``t_h`` [h] [-]."""
        self._require_fitted()
        return np.exp(self._dist.logsf(np.asarray(t_h, float), *self._theta()))

    def hazard(self, t_h):
        """Fitted hazard rate at ``t_h`` [h] [1/h]."""
        self._require_fitted()
        t = np.asarray(t_h, float)
        return np.exp(self._dist.logpdf(t, *self._theta()) - self._dist.logsf(t, *self._theta()))

    def percentile(self, q):
        """Time [h] by which a fraction ``q`` [-] has failed (B10 life: ``percentile(0.1)``)."""
        self._require_fitted()
        q = np.asarray(q, float)
        if ((q <= 0) | (q >= 1)).any():
            raise InputError("must be in (0, 1)", parameter="q")
        return self._dist.ppf(q, *self._theta())

    def probability_plot_data(self, method: str | None = None) -> pd.DataFrame:
        """Nonparametric CDF of the data with the fitted CDF at the same times.

        Parameters
        ----------
        method : {"bernard", "kaplan-meier", "turnbull"}, optional
            Bernard median ranks (Johnson's adjusted ranks under right
            censoring) when the data have only exact and right-censored
            times, Turnbull otherwise (the default).

        Returns
        -------
        pandas.DataFrame
            ``time_h`` [h], ``probability`` [-] (nonparametric F),
            ``fitted_probability`` [-], ``method``.
        """
        self._require_fitted()
        out = nonparametric_cdf(self.data_, method)
        out["fitted_probability"] = self.cdf(out["time_h"].to_numpy())
        return out

    def to_dict(self) -> dict:
        """The fit as a flat JSON-safe dict (the project's record protocol)."""
        self._require_fitted()
        out = {"model": type(self).__name__, "distribution": self._distribution, "ci_method": self.ci_method_,
               "confidence": 1 - self.alpha, "n_units": self.n_units_, "n_failures": self.n_failures_,
               "log_likelihood": self.log_likelihood_, "aic": self.aic_, "bic": self.bic_}
        for name, row in self.summary.iterrows():
            out[name] = row["estimate"]
            out[f"{name}_se"] = row["se"]
            out[f"{name}_lower"] = row.iloc[2]
            out[f"{name}_upper"] = row.iloc[3]
        return {k: _json(v) for k, v in out.items()}

    def __repr__(self) -> str:
        if not getattr(self, "_fitted", False):
            return f"<{type(self).__name__}: not fitted>"
        ps = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return (f"<{type(self).__name__}: {ps}; LL={self.log_likelihood_:.4g}, "
                f"{self.n_failures_}/{self.n_units_} failed, {self.ci_method_} {100 * (1 - self.alpha):g}%>")


class _DistributionFitter(ParametricFitter):
    """A fitter of one of :data:`~yieldkit.reliability.distributions.DISTRIBUTIONS`."""

    def __init__(self, alpha: float = 0.05) -> None:
        super().__init__(alpha)
        self._dist = DISTRIBUTIONS[self._distribution]

    def _loglik(self, theta, data):
        return censored_loglik(self._dist, data, *theta)


def _scale_start(data: LifeData, beta: float) -> float:
    """Weibull scale that maximizes the likelihood at shape ``beta`` for the representative times."""
    t = representative_times(data)
    r = max(data.n_failures, 1)
    return float((np.dot(data.count, t ** beta) / r) ** (1.0 / beta))


class WeibullFitter(_DistributionFitter):
    """Two-parameter Weibull: ``F(t) = 1 - exp(-(t / eta) ** beta)``.

    Fitted: ``beta_`` (shape [-]; < 1 infant mortality), ``eta_`` (scale,
    the 63.2 % life [h]).

    Examples
    --------
    >>> wf = WeibullFitter().fit([120.0, 190.0, 260.0, 300.0, 410.0], [1, 1, 1, 0, 1])
    >>> round(wf.beta_, 2), round(wf.eta_, 1)
    (2.58, 309.4)
    >>> list(wf.summary.columns)
    ['estimate', 'se', 'lower 95%', 'upper 95%', 'unit', 'ci_method']
    """

    _param_names = ("beta", "eta")
    _units = ("-", "h")
    _distribution = "weibull"

    def _transforms(self, data):
        return [Transform("log"), Transform("log")]

    def _starts(self, data):
        return [[b, _scale_start(data, b)] for b in (1.0, 0.5, 2.0)]


class ExponentialFitter(_DistributionFitter):
    """Exponential: ``F(t) = 1 - exp(-t / eta)``; ``eta_`` is the mean life [h], ``rate_per_h_`` = 1 / eta.

    Examples
    --------
    >>> ef = ExponentialFitter().fit([100.0, 200.0, 300.0], [1, 1, 0])
    >>> round(ef.eta_, 4)
    300.0
    """

    _param_names = ("eta",)
    _units = ("h",)
    _distribution = "exponential"
    _min_failures = 1

    def _transforms(self, data):
        return [Transform("log")]

    def _starts(self, data):
        return [[_scale_start(data, 1.0)]]

    def _check_fit(self):
        self.rate_per_h_ = 1.0 / self.eta_


class LogNormalFitter(_DistributionFitter):
    """Lognormal: ``ln T ~ Normal(mu, sigma)``; ``mu_`` [ln h], ``sigma_`` [-]; median life ``exp(mu)`` [h].

    Examples
    --------
    >>> lf = LogNormalFitter().fit(np.exp([1.0, 2.0, 3.0]))
    >>> round(lf.mu_, 6), round(lf.sigma_, 4)
    (2.0, 0.8165)
    """

    _param_names = ("mu", "sigma")
    _units = ("ln h", "-")
    _distribution = "lognormal"

    def _transforms(self, data):
        return [Transform("identity"), Transform("log")]

    def _starts(self, data):
        mu0 = math.log(_scale_start(data, 1.0))
        t = representative_times(data)[~data.is_right]
        med = float(np.log(np.median(t)))
        return [[mu0, 1.0], [med, 1.0], [mu0, 2.0], [med, 0.5]]


class GammaFitter(_DistributionFitter):
    """Gamma: shape ``k_`` [-] and scale ``theta_`` [h]; mean life ``k * theta``.

    Examples
    --------
    >>> gf = GammaFitter().fit([1.0, 2.0, 3.0, 4.0, 5.0])
    >>> round(gf.k_ * gf.theta_, 4)
    3.0
    """

    _param_names = ("k", "theta")
    _units = ("-", "h")
    _distribution = "gamma"

    def _transforms(self, data):
        return [Transform("log"), Transform("log")]

    def _starts(self, data):
        m = _scale_start(data, 1.0)
        return [[k, m / k] for k in (1.0, 0.5, 2.0, 5.0)]


class Weibull3Fitter(WeibullFitter):
    """Three-parameter Weibull: ``F(t) = 1 - exp(-((t - gamma) / eta) ** beta)`` for t > gamma.

    ``gamma_`` [h] is the failure-free time, constrained to
    ``[0, first failure)``. When the likelihood is maximal at the first
    failure (shape < 1 makes it unbounded there) the fit raises
    :class:`~yieldkit.errors.Failure`: use the 2-parameter fit.

    Examples
    --------
    >>> t = 100.0 + 300.0 * np.random.default_rng(3).weibull(2.5, 30)
    >>> w3 = Weibull3Fitter().fit(t)
    >>> round(w3.beta_, 2), round(w3.eta_), round(w3.gamma_)
    (3.02, 327, 56)
    """

    _param_names = ("beta", "eta", "gamma")
    _units = ("-", "h", "h")
    _distribution = "weibull3"
    _min_failures = 3

    def __init__(self, alpha: float = 0.05) -> None:
        ParametricFitter.__init__(self, alpha)
        self._dist = DISTRIBUTIONS["weibull"]

    def _first_failure(self, data) -> float:
        return float(data.upper_h[~data.is_right].min())

    def _transforms(self, data):
        return [Transform("log"), Transform("log"), Transform("logit", 0.0, self._first_failure(data))]

    def _starts(self, data):
        t1 = self._first_failure(data)
        out = []
        for frac in (0.5, 0.9):
            g = frac * t1
            shifted = LifeData(np.clip(data.lower_h - g, 0, None), data.upper_h - g, data.count)
            out += [[b, _scale_start(shifted, b), g] for b in (1.0, 2.0)]
        return out

    def _check_optimum(self, theta, data):
        beta, _, gamma = theta
        t1 = self._first_failure(data)
        if gamma > t1 * (1 - 1e-5):
            raise Failure(f"{self._distribution} fit: the location converges to the first failure at {t1:g} h "
                          f"(shape {beta:.3g}); the 3-parameter MLE does not exist, use the 2-parameter fit")
        if gamma < t1 * 1e-5:
            raise Failure(f"{self._distribution} fit: the location converges to 0; "
                          "the 2-parameter Weibull is the maximum likelihood fit, use it")
