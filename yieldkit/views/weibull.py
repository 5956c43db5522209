"""Weibull probability plot: the nonparametric CDF of failure times, the fitted line and its confidence bounds.

Input: a fitted :class:`~yieldkit.reliability.WeibullFitter` (its
``probability_plot_data`` and ``variance_matrix_``), e.g. on the first
failure time of each core from ``db.analysis.first_failure_times`` with the
surviving cores right-censored at the burn-in duration.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy import stats

from yieldkit.views._common import axes_or_new

__all__ = ["weibull_bounds", "plot_weibull_probability"]

_TICKS = (0.0001, 0.001, 0.01, 0.05, 0.1, 0.2, 0.5, 0.632, 0.9, 0.99, 0.999)


def _lin(p):
    return np.log(-np.log1p(-np.asarray(p, float)))


def weibull_bounds(fitter, t_h, confidence: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fitted CDF and its two-sided Fisher-matrix bounds at ``t_h`` [h].

    On the linearised scale ``u = beta (ln t - ln eta)``, with the delta
    method ``Var u = g' V g``, ``g = (ln t - ln eta, -beta / eta)`` and ``V``
    the fit's covariance of (beta, eta); ``F = 1 - exp(-exp(u +- z sd))``
    (Nelson, Applied Life Data Analysis, 1982, ch. 8).

    Returns
    -------
    (F, lower, upper) : ndarrays [-]

    Examples
    --------
    >>> from yieldkit.reliability import WeibullFitter
    >>> wf = WeibullFitter().fit([120.0, 190.0, 260.0, 300.0, 410.0], [1, 1, 1, 0, 1])
    >>> f, lo, hi = weibull_bounds(wf, [200.0])
    >>> bool(lo[0] < f[0] < hi[0])
    True
    """
    conf = 1 - fitter.alpha if confidence is None else confidence
    t = np.asarray(t_h, float)
    beta, eta = fitter.beta_, fitter.eta_
    v = fitter.variance_matrix_.loc[["beta", "eta"], ["beta", "eta"]].to_numpy()
    g = np.stack([np.log(t) - np.log(eta), np.full_like(t, -beta / eta)])
    var = np.einsum("in,ij,jn->n", g, v, g)
    u = beta * (np.log(t) - np.log(eta))
    z = stats.norm.ppf(0.5 + conf / 2) * np.sqrt(np.maximum(var, 0))

    def cdf(x):
        return -np.expm1(-np.exp(x))

    return cdf(u), cdf(u - z), cdf(u + z)


def plot_weibull_probability(fitter, ax: Axes | None = None, *, title: str | None = None) -> Figure:
    """Weibull paper: log time against ``ln(-ln(1 - F))``, data points, fitted line, confidence band.

    Parameters
    ----------
    fitter : WeibullFitter
        Fitted (``beta_`` [-], ``eta_`` [h], ``alpha`` for the band).

    Returns
    -------
    Figure

    Examples
    --------
    >>> from yieldkit.reliability import WeibullFitter
    >>> wf = WeibullFitter().fit([120.0, 190.0, 260.0, 300.0, 410.0], [1, 1, 1, 0, 1])
    >>> plot_weibull_probability(wf).axes[0].get_xscale()
    'log'
    """
    fig, ax = axes_or_new(ax, (7.0, 5.0))
    data = fitter.probability_plot_data()
    data = data[(data["probability"] > 0) & (data["probability"] < 1)]
    t_min = max(float(data["time_h"].min()) / 3, 1e-6) if len(data) else fitter.eta_ / 100
    t_max = float(data["time_h"].max()) * 3 if len(data) else fitter.eta_ * 3
    t = np.geomspace(t_min, t_max, 200)
    f, lo, hi = weibull_bounds(fitter, t)
    level = f"{1 - fitter.alpha:.0%}"
    ax.fill_between(t, _lin(np.clip(lo, 1e-12, 1 - 1e-12)), _lin(np.clip(hi, 1e-12, 1 - 1e-12)), color="C0",
                    alpha=0.2, label=f"{level} Fisher bounds")
    ax.plot(t, _lin(f), color="C0", lw=1.5,
            label=f"Weibull fit: beta = {fitter.beta_:.3g}, eta = {fitter.eta_:.4g} h")
    method = str(data["method"].iloc[0]) if len(data) and "method" in data else "median ranks"
    ax.plot(data["time_h"], _lin(data["probability"]), "o", ms=4, color="0.15", mfc="none",
            label=f"failures ({method})")
    ax.set_xscale("log")
    lo_y, hi_y = _lin(max(min(f.min(), data["probability"].min() if len(data) else 1), 1e-6)), _lin(0.999)
    ticks = [p for p in _TICKS if lo_y - 0.5 <= _lin(p) <= hi_y]
    ax.set_yticks(_lin(ticks), [f"{100 * p:g}%" for p in ticks])
    ax.set_ylim(lo_y - 0.5, hi_y)
    ax.set(xlabel="time [h]", ylabel="unreliability F(t)",
           title=title or f"Weibull probability plot ({fitter.n_failures_} failures of {fitter.n_units_} units)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper left")
    return fig
