"""Accelerated life test fits: a life distribution whose scale depends on stress.

The log of the scale (Weibull ``eta``, lognormal ``exp(mu)``) is linear in
transformed stresses, the shape is common to all stress levels (Nelson
1990, chapter 5; Meeker & Escobar 1998, chapter 19):

============================  ===================================================
``life_stress``               ``ln scale(T, V)``
============================  ===================================================
``"arrhenius"``               ``a + Ea / (k T)``
``"eyring"``                  ``a - ln T + Ea / (k T)``
``"power"`` (inverse power)   ``a - n ln V``
``"exponential"``             ``a - gamma V``
``"arrhenius-power"``         ``a + Ea / (k T) - n ln V``
``"arrhenius-exponential"``   ``a + Ea / (k T) - gamma V``
============================  ===================================================

with ``T`` in kelvin, ``k`` in eV/K. The stresses are centred on the data
(``a`` is the log scale at the centre, fitted as ``scale_center`` [h]), which
keeps the information matrix well conditioned. Fitted by the shared engine
of :mod:`~yieldkit.reliability.fitters` with any mix of censoring;
extrapolation to use conditions (:meth:`ALTFitter.predict`) has Fisher
(delta-method) intervals on the log scale. A Weibull or lognormal ALT with
a log-linear scale is lifelines' ``WeibullAFTFitter`` / ``LogNormalAFTFitter``
with the transformed stress as covariate; the tests check these fits
against them (lifelines has no profile intervals, no extrapolation helper and
pins pandas < 3, so it is not used at run time).

References
----------
W. Nelson, *Accelerated Testing: Statistical Models, Test Plans and Data
Analyses*, Wiley 1990, chapters 2 and 5.
W. Q. Meeker, L. A. Escobar, *Statistical Methods for Reliability Data*,
Wiley 1998, chapters 17-19.
JEDEC JEP122, "Failure Mechanisms and Models for Semiconductor Devices".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

from yieldkit.errors import InputError
from yieldkit.reliability._mle import Transform
from yieldkit.reliability.acceleration import BOLTZMANN_EV_PER_K, KELVIN_OFFSET
from yieldkit.reliability.distributions import LogNormal, Weibull, censored_loglik
from yieldkit.reliability.fitters import ParametricFitter, _json, _scale_start, coerce_life_data
from yieldkit.reliability.plotting_positions import nonparametric_cdf

__all__ = ["LIFE_STRESS_MODELS", "ALTFitter"]

# term name -> (stress, coefficient name, unit, transform of the stress, sign in ln scale)
_TERMS = {
    "arrhenius": ("temp_c", "Ea", "eV", lambda t: 1.0 / (BOLTZMANN_EV_PER_K * (t + KELVIN_OFFSET)), 1.0),
    "power": ("voltage_v", "n", "-", np.log, -1.0),
    "exponential": ("voltage_v", "gamma", "1/V", lambda v: v, -1.0),
}
LIFE_STRESS_MODELS = {
    "arrhenius": ("arrhenius",),
    "eyring": ("arrhenius",),
    "power": ("power",),
    "exponential": ("exponential",),
    "arrhenius-power": ("arrhenius", "power"),
    "arrhenius-exponential": ("arrhenius", "exponential"),
}
"""The life-stress relations: name -> stress terms."""


class ALTFitter(ParametricFitter):
    """Weibull or lognormal life with a stress-dependent scale, fitted on several stress levels.

    Parameters
    ----------
    distribution : {"weibull", "lognormal"}
    life_stress : str
        One of :data:`LIFE_STRESS_MODELS`.
    alpha : float
        Intervals are ``100 (1 - alpha)`` % [-].

    Fitted: the shape (``beta_`` [-] or ``sigma_`` [-]), ``scale_center_``
    [h] (the scale at the centre stress ``center_``) and the coefficients
    ``Ea_`` [eV], ``n_`` [-], ``gamma_`` [1/V] of the terms.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> temp = np.repeat([125.0, 150.0, 175.0], 40)
    >>> eta = np.exp(-20.0 + 1.0 / (BOLTZMANN_EV_PER_K * (temp + KELVIN_OFFSET)))
    >>> t = eta * rng.weibull(1.5, temp.size)
    >>> alt = ALTFitter("weibull", "arrhenius").fit(np.minimum(t, 2000.0), t < 2000.0, temp_c=temp)
    >>> round(alt.Ea_, 1), round(alt.beta_, 1)
    (1.0, 1.6)
    >>> use = alt.predict(temp_c=55.0)
    >>> bool(use["lower"].iloc[0] < use["estimate"].iloc[0] < use["upper"].iloc[0])
    True
    """

    _ci_default = "fisher"
    _min_failures = 3
    _collapse = False

    def __init__(self, distribution: str = "weibull", life_stress: str = "arrhenius", alpha: float = 0.05) -> None:
        super().__init__(alpha)
        if distribution not in ("weibull", "lognormal"):
            raise InputError(f"must be 'weibull' or 'lognormal', got {distribution!r}", parameter="distribution")
        if life_stress not in LIFE_STRESS_MODELS:
            raise InputError(f"must be one of {tuple(LIFE_STRESS_MODELS)}, got {life_stress!r}",
                             parameter="life_stress")
        self.distribution, self.life_stress = distribution, life_stress
        self._terms = LIFE_STRESS_MODELS[life_stress]
        shape = "beta" if distribution == "weibull" else "sigma"
        self._param_names = (shape, "scale_center") + tuple(_TERMS[t][1] for t in self._terms)
        self._units = ("-", "h") + tuple(_TERMS[t][2] for t in self._terms)
        self._distribution = f"{distribution}-{life_stress}"

    # --- stresses --------------------------------------------------------------------------------

    def _stress_arrays(self, n_rows: int, temp_c, voltage_v) -> dict:
        given = {"temp_c": temp_c, "voltage_v": voltage_v}
        out = {}
        for term in self._terms:
            name = _TERMS[term][0]
            v = given[name]
            if v is None:
                raise InputError(f"the {self.life_stress} model needs it", parameter=name)
            arr = np.broadcast_to(np.asarray(v, float), (n_rows,)).copy() if np.ndim(v) == 0 else np.asarray(v, float)
            if arr.shape != (n_rows,):
                raise InputError(f"has {arr.size} values but the data have {n_rows} rows", parameter=name)
            if not np.isfinite(arr).all():
                raise InputError("must be finite", parameter=name)
            if name == "temp_c" and (arr <= -KELVIN_OFFSET).any():
                raise InputError("must be above 0 K", parameter=name)
            if name == "voltage_v" and (arr <= 0).any():
                raise InputError("must be > 0", parameter=name)
            out[name] = arr
        return out

    def _design(self, stresses: dict) -> tuple[np.ndarray, np.ndarray]:
        """(centred covariate columns times their sign, Eyring offset) for each row."""
        cols = []
        for term in self._terms:
            name, _, _, f, sign = _TERMS[term]
            cols.append(sign * (f(stresses[name]) - self._xbar[term]))
        offset = np.zeros(len(next(iter(stresses.values()))))
        if self.life_stress == "eyring":
            offset = -(np.log(stresses["temp_c"] + KELVIN_OFFSET) - self._logtbar)
        return np.column_stack(cols), offset

    def _log_scale(self, theta, X, offset):
        return np.log(theta[1]) + X @ np.asarray(theta[2:], float) + offset

    # --- fitting ---------------------------------------------------------------------------------

    def fit(self, data, event=None, count=None, *, temp_c=None, voltage_v=None, ci_method: str | None = None):
        """Fit on units at several stress levels; returns self.

        Parameters
        ----------
        data, event, count
            As :meth:`ParametricFitter.fit`.
        temp_c : array_like, optional
            Junction temperature of each row [degC] (Arrhenius, Eyring terms).
        voltage_v : array_like, optional
            Voltage (or other stress) of each row [V] (power, exponential terms).
        ci_method : {"fisher", "likelihood-ratio"}, optional
        """
        data = coerce_life_data(data, event, count)
        stresses = self._stress_arrays(len(data), temp_c, voltage_v)
        w = data.count
        self._xbar = {t: float(np.average(_TERMS[t][3](stresses[_TERMS[t][0]]), weights=w)) for t in self._terms}
        self._logtbar = (float(np.average(np.log(stresses["temp_c"] + KELVIN_OFFSET), weights=w))
                         if "temp_c" in stresses else 0.0)
        for name, arr in stresses.items():
            if np.unique(arr[~data.is_right]).size < 2 and np.unique(arr).size < 2:
                raise InputError("needs at least two stress levels", parameter=name)
        self.center_ = self._center(stresses, w)
        self.stresses_ = stresses
        self._X, self._offset = self._design(stresses)
        return self._fit(data, ci_method)

    def _center(self, stresses, w) -> dict:
        out = {}
        if "temp_c" in stresses:
            x = self._xbar["arrhenius"]
            out["temp_c"] = 1.0 / (BOLTZMANN_EV_PER_K * x) - KELVIN_OFFSET
        if "voltage_v" in stresses:
            term = [t for t in self._terms if _TERMS[t][0] == "voltage_v"][0]
            out["voltage_v"] = float(np.exp(self._xbar[term])) if term == "power" else self._xbar[term]
        return out

    def _transforms(self, data):
        return [Transform("log"), Transform("log")] + [Transform("identity")] * len(self._terms)

    def _starts(self, data):
        k = len(self._terms)
        eta0 = _scale_start(data, 1.0)
        if self.distribution == "weibull":
            return [[b, _scale_start(data, b)] + [0.0] * k for b in (1.0, 0.5, 2.0)]
        return [[s, eta0] + [0.0] * k for s in (1.0, 0.5, 2.0)]

    def _loglik(self, theta, data):
        ls = self._log_scale(theta, self._X, self._offset)
        if self.distribution == "weibull":
            return censored_loglik(Weibull, data, theta[0], np.exp(ls))
        return censored_loglik(LogNormal, data, ls, theta[0])

    # --- extrapolation ---------------------------------------------------------------------------

    def _grad_log_scale(self, stresses) -> tuple[np.ndarray, np.ndarray]:
        """ln scale at the stresses and its gradient in the optimization space (rows = conditions)."""
        X, offset = self._design(stresses)
        ls = self._log_scale(self._theta(), X, offset)
        g = np.column_stack([np.zeros(len(ls)), np.ones(len(ls)), X])
        return ls, g

    def _interval(self, est, g):
        cov_z = self._cov_z()
        se = np.sqrt(np.einsum("ij,jk,ik->i", g, cov_z, g))
        q = stats.norm.ppf(1 - self.alpha / 2)
        return est, se, est - q * se, est + q * se

    def _cov_z(self):
        jac = np.array([t.dx_dz(z) for t, z in zip(self._tr, self._z, strict=True)])
        return self.variance_matrix_.to_numpy() / np.outer(jac, jac)

    def _conditions(self, temp_c, voltage_v):
        n = max(np.size(temp_c) if temp_c is not None else 1, np.size(voltage_v) if voltage_v is not None else 1)
        return self._stress_arrays(n, temp_c, voltage_v)

    def predict(self, temp_c=None, voltage_v=None, q: float | None = None) -> pd.DataFrame:
        """Scale (or the ``q`` quantile) of life at the given conditions, with Fisher intervals [h].

        Parameters
        ----------
        temp_c, voltage_v : float or array_like
            Conditions [degC], [V] (use conditions for an extrapolation).
        q : float, optional
            Fraction failing [-]: the ``q`` quantile (``0.1``: B10 life)
            instead of the scale (Weibull ``eta``, lognormal median).

        Returns
        -------
        pandas.DataFrame
            One row per condition: the stresses, ``estimate``, ``lower``,
            ``upper`` [h], ``quantity``.
        """
        self._require_fitted()
        stresses = self._conditions(temp_c, voltage_v)
        ls, g = self._grad_log_scale(stresses)
        quantity = "scale"
        if q is not None:
            if not 0 < q < 1:
                raise InputError(f"must be in (0, 1), got {q!r}", parameter="q")
            shape = self._theta()[0]
            if self.distribution == "weibull":
                w = np.log(-np.log1p(-q))
                ls, g[:, 0] = ls + w / shape, -w / shape
            else:
                zq = special.ndtri(q)
                ls, g[:, 0] = ls + shape * zq, shape * zq
            quantity = f"quantile {q:g}"
        est, _, lo, hi = self._interval(ls, g)
        out = pd.DataFrame(stresses)
        out["estimate"], out["lower"], out["upper"] = np.exp(est), np.exp(lo), np.exp(hi)
        out["quantity"] = quantity
        return out

    def acceleration_factor(self, use: dict, stress: dict) -> dict:
        """Fitted acceleration factor of ``stress`` relative to ``use`` conditions, with a Fisher interval [-].

        ``use`` and ``stress`` are dicts with ``temp_c`` and/or ``voltage_v``.
        """
        self._require_fitted()
        lu, gu = self._grad_log_scale(self._conditions(use.get("temp_c"), use.get("voltage_v")))
        ls, gs = self._grad_log_scale(self._conditions(stress.get("temp_c"), stress.get("voltage_v")))
        est, _, lo, hi = self._interval(lu - ls, gu - gs)
        return {"estimate": float(np.exp(est[0])), "lower": float(np.exp(lo[0])), "upper": float(np.exp(hi[0]))}

    def cdf_at(self, t_h, temp_c=None, voltage_v=None):
        """Fitted probability of failure by ``t_h`` [h] at the given conditions [-]."""
        self._require_fitted()
        stresses = self._conditions(temp_c, voltage_v)
        X, offset = self._design(stresses)
        ls = self._log_scale(self._theta(), X, offset)
        t = np.asarray(t_h, float)
        if self.distribution == "weibull":
            return np.exp(Weibull.logcdf(t, self._theta()[0], np.exp(ls)))
        return np.exp(LogNormal.logcdf(t, ls, self._theta()[0]))

    def cdf(self, t_h):
        """Fitted probability of failure by ``t_h`` [h] at the centre stress [-]."""
        return self.cdf_at(t_h, **self.center_)

    def sf(self, t_h):
        """Fitted survival at the centre stress [-]."""
        return 1.0 - self.cdf(t_h)

    def percentile(self, q):
        """Quantile of life at the centre stress [h]."""
        return self.predict(q=float(q), **self.center_)["estimate"].to_numpy()

    def hazard(self, t_h):  # pragma: no cover - not meaningful without conditions
        raise InputError("give conditions: use cdf_at/predict", parameter="t_h")

    def probability_plot_data(self, method: str | None = None) -> pd.DataFrame:
        """Nonparametric and fitted CDF at each stress level (columns as the fitters', plus the stresses)."""
        self._require_fitted()
        frame = pd.DataFrame(self.stresses_)
        frames = []
        for key, idx in frame.groupby(list(frame.columns)).indices.items():
            sub = self.data_.subset(np.isin(np.arange(len(self.data_)), idx))
            if sub.n_failures == 0:
                continue
            d = nonparametric_cdf(sub, method)
            cond = dict(zip(frame.columns, key if isinstance(key, tuple) else (key,), strict=True))
            d["fitted_probability"] = self.cdf_at(d["time_h"].to_numpy(), **{k: float(v) for k, v in cond.items()})
            for k, v in cond.items():
                d[k] = v
            frames.append(d)
        return pd.concat(frames, ignore_index=True)

    def to_dict(self) -> dict:
        """The fit as a flat JSON-safe dict (adds the life-stress relation and the centre stress)."""
        out = super().to_dict()
        out["life_stress"] = self.life_stress
        out.update({f"center_{k}": _json(v) for k, v in self.center_.items()})
        return out
