"""Probability plots of life-data fits: data in, matplotlib Figure out.

:func:`plot_probability` draws a fitted distribution on its probability
paper with the data it was fitted on:

- the paper: Weibull paper (``ln(-ln(1 - F))`` against ``ln t``) for the
  Weibull family (2- and 3-parameter, the defective-subpopulation Weibull)
  and for the exponential and gamma fits, lognormal paper
  (``Phi^-1(F)`` against ``ln t``) for lognormal fits;
- the points: the nonparametric CDF of the data, Bernard median ranks
  (Johnson's adjusted ranks under right censoring) or Turnbull's NPMLE when
  there is left or interval censoring (the fit's own
  ``probability_plot_data()``, :mod:`~yieldkit.reliability.plotting_positions`);
- the fitted CDF (a straight line for a 2-parameter Weibull on Weibull paper
  or a lognormal on lognormal paper; a curve for the others, e.g. the
  defective subpopulation levelling off at ``p``);
- pointwise confidence bounds of the fitted CDF at the fit's level
  (``1 - alpha``, two-sided): the delta method on the paper's scale,
  ``g(F) +- z se`` with ``se^2 = grad' Cov grad``, the gradient taken
  numerically in the fitter's own (log / logit) parameter space with the
  fitter's covariance matrix (its Fisher information), then mapped back.
  A parameter at a boundary of its range (a defective fraction ``p = 1``)
  has no Fisher information and adds nothing to the bounds, as in
  :func:`~yieldkit.reliability.rates.elfr_from_fit`.

The legend sits outside the axes, to the right, so it never hides points.
Pure matplotlib (``Figure``, never pyplot: no display is needed).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy import special, stats

from yieldkit.errors import InputError
from yieldkit.reliability.alt import ALTFitter
from yieldkit.reliability.competing import CompetingRisksFitter
from yieldkit.reliability.fitters import ParametricFitter
from yieldkit.reliability.plotting_positions import nonparametric_cdf

__all__ = ["PAPERS", "confidence_band", "paper_of", "plot_probability"]

_LOG_PAPER = {"lognormal"}


def _weibull_paper_inverse(y: np.ndarray) -> np.ndarray:
    """F = 1 - exp(-exp(y)); exp overflows to inf far above the plot, where F is 1 exactly."""
    with np.errstate(over="ignore"):
        return -np.expm1(-np.exp(y))


#: Probability paper: name -> (transform of F, inverse transform, axis label).
PAPERS = {
    "weibull": (lambda f: np.log(-np.log1p(-f)), _weibull_paper_inverse, "ln(-ln(1 - F))"),
    "lognormal": (special.ndtri, special.ndtr, "Phi^-1(F)"),
}
_TICKS = [m * 10.0 ** e for e in range(-7, -1) for m in (1, 1.5, 2, 3, 5, 7)] + [0.1, 0.2, 0.3, 0.5, 0.9, 0.99, 0.999]
_DECADES = [10.0 ** e for e in range(-7, -1)] + [0.1, 0.5, 0.9, 0.99]


def paper_of(fit: ParametricFitter) -> str:
    """The probability paper of a fit: ``"lognormal"`` for lognormal fits, ``"weibull"`` otherwise.

    Examples
    --------
    >>> from yieldkit.reliability import LogNormalFitter, WeibullFitter
    >>> paper_of(WeibullFitter()), paper_of(LogNormalFitter())
    ('weibull', 'lognormal')
    """
    return "lognormal" if getattr(fit, "_distribution", "").split("-")[0] in _LOG_PAPER else "weibull"


def _at(fit: ParametricFitter, z: np.ndarray) -> ParametricFitter:
    """A shallow copy of ``fit`` at the parameters ``z`` of its optimization space."""
    other = copy.copy(fit)
    other.params_ = dict(zip(fit._param_names, [t.to_x(zi) for t, zi in zip(fit._tr, z, strict=True)], strict=True))
    for name, value in other.params_.items():
        setattr(other, f"{name}_", float(value))
    return other


def confidence_band(fit: ParametricFitter, t_h, paper: str | None = None, confidence: float | None = None,
                    conditions: Mapping | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fitted CDF at ``t_h`` [h] with pointwise delta-method bounds on the paper's scale.

    Parameters
    ----------
    fit : ParametricFitter
        A fitted distribution.
    t_h : array_like
        Times [h].
    paper : {"weibull", "lognormal"}, optional
        The scale of the bounds (default :func:`paper_of`).
    confidence : float, optional
        Two-sided level [-]; default the fit's ``1 - alpha``.
    conditions : mapping, optional
        For an :class:`~yieldkit.reliability.alt.ALTFitter`: the stresses
        (``temp_c``, ``voltage_v``) of the CDF (its ``cdf_at``).

    Returns
    -------
    (F, lower, upper) : tuple of ndarray
        NaN where the CDF is 0 or 1 (no bound on the paper's scale).

    Examples
    --------
    >>> from yieldkit.reliability import WeibullFitter
    >>> fit = WeibullFitter().fit([120.0, 190.0, 260.0, 300.0, 410.0], [1, 1, 1, 0, 1])
    >>> f, lo, hi = confidence_band(fit, [100.0, 300.0])
    >>> bool(((lo < f) & (f < hi)).all())
    True
    """
    fit._require_fitted()
    paper = paper or paper_of(fit)
    g, g_inv, _ = PAPERS[paper]
    level = 1.0 - fit.alpha if confidence is None else float(confidence)
    t = np.asarray(t_h, float)
    z = np.asarray(fit._z, float)
    jac = np.array([tr.dx_dz(zi) for tr, zi in zip(fit._tr, z, strict=True)])
    cov_z = np.nan_to_num(fit.variance_matrix_.to_numpy() / np.outer(jac, jac))  # nan: a parameter at its bound

    def cdf(f: ParametricFitter) -> np.ndarray:
        return np.asarray(f.cdf(t) if conditions is None else f.cdf_at(t, **conditions), float)

    def link(zz: np.ndarray) -> np.ndarray:
        f = np.clip(cdf(_at(fit, zz)), 0.0, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return g(f)

    y0 = link(z)
    grad = np.empty((t.size, z.size))
    for i in range(z.size):
        h = 1e-5 * max(1.0, abs(z[i]))
        e = np.zeros(z.size)
        e[i] = h
        grad[:, i] = (link(z + e) - link(z - e)) / (2 * h)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.einsum("ij,jk,ik->i", grad, cov_z, grad))
    q = stats.norm.ppf(0.5 + level / 2)
    finite = np.isfinite(y0) & np.isfinite(se)
    f0 = cdf(fit)
    lower = np.where(finite, g_inv(y0 - q * se), np.nan)
    upper = np.where(finite, g_inv(y0 + q * se), np.nan)
    return f0, lower, upper


def _fits(fit) -> dict:
    if isinstance(fit, CompetingRisksFitter):
        fit._require_fitted()
        return dict(fit.fits_)
    if isinstance(fit, Mapping):
        return dict(fit)
    if isinstance(fit, ALTFitter):
        fit._require_fitted()
        frame = pd.DataFrame(fit.stresses_)
        levels = frame.drop_duplicates().sort_values(list(frame.columns)).to_dict(orient="records")
        return {_level_label(level): (fit, {k: float(v) for k, v in level.items()}) for level in levels}
    if isinstance(fit, ParametricFitter):
        return {None: fit}
    raise InputError(f"must be a fitted ParametricFitter, CompetingRisksFitter or a mapping of them, "
                     f"got {type(fit).__name__}", parameter="fit")


def _level_label(level: Mapping) -> str:
    return ", ".join(f"{v:g} {'C' if k == 'temp_c' else 'V'}" for k, v in level.items())


def _level_points(fit, conditions: Mapping) -> pd.DataFrame:
    """The nonparametric CDF of the units of one stress level of an ALT fit."""
    mask = np.ones(len(fit.data_), bool)
    for k, v in conditions.items():
        mask &= fit.stresses_[k] == v
    sub = fit.data_.subset(mask)
    if sub.n_failures == 0:
        return pd.DataFrame({"time_h": [], "probability": [], "method": []})
    return nonparametric_cdf(sub)


def _describe(fit: ParametricFitter) -> str:
    return ", ".join(f"{k}={v:.3g}" for k, v in fit.params_.items())


def plot_probability(fit, ax: Axes | None = None, *, paper: str | None = None, title: str | None = None) -> Figure:
    """Probability plot of a fit: nonparametric points, the fitted CDF and its confidence bounds.

    Parameters
    ----------
    fit : ParametricFitter, CompetingRisksFitter, ALTFitter or mapping of label -> ParametricFitter
        Fitted distribution(s); several (fault classes, groups, the stress
        levels of an accelerated life test) share the axes, one colour each.
    ax : matplotlib Axes, optional
        Where to draw; a new Figure when omitted.
    paper : {"weibull", "lognormal"}, optional
        Default: lognormal paper when every fit is lognormal, Weibull paper otherwise.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from yieldkit.reliability import WeibullFitter
    >>> fit = WeibullFitter().fit([120.0, 190.0, 260.0, 300.0, 410.0], [1, 1, 1, 0, 1])
    >>> fig = plot_probability(fit)
    >>> fig.axes[0].get_xscale()
    'log'
    """
    fits = _fits(fit)
    if not fits:
        raise InputError("no fit to plot", parameter="fit")
    for item in fits.values():
        f = item[0] if isinstance(item, tuple) else item
        if not isinstance(f, ParametricFitter):
            raise InputError(f"must be fitted distributions, got {type(f).__name__}", parameter="fit")
        f._require_fitted()
    if paper is None:
        paper = "lognormal" if all(paper_of(item[0] if isinstance(item, tuple) else item) == "lognormal"
                                   for item in fits.values()) else "weibull"
    if paper not in PAPERS:
        raise InputError(f"must be one of {tuple(PAPERS)}, got {paper!r}", parameter="paper")
    g, _, ylabel = PAPERS[paper]
    if ax is None:
        fig = Figure(figsize=(8.0, 5.0), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure  # type: ignore[assignment]
    ax.set_xscale("log")
    ys, ts = [], []
    for i, (label, item) in enumerate(fits.items()):
        f, conditions = item if isinstance(item, tuple) else (item, None)
        color = f"C{i % 10}"
        name = "" if label is None else f"{label}: "
        points = f.probability_plot_data() if conditions is None else _level_points(f, conditions)
        keep = (points["probability"] > 0) & (points["probability"] < 1) & (points["time_h"] > 0)
        pt, pf = points["time_h"].to_numpy()[keep], points["probability"].to_numpy()[keep]
        method = points["method"].iloc[0] if len(points) else "data"
        ax.plot(pt, g(pf), "o", color=color, markersize=4, label=f"{name}data ({method})")
        lo_t = float(pt.min()) if pt.size else float(np.min(f.data_.upper_h[~f.data_.is_right]))
        hi_t = float(pt.max()) if pt.size else lo_t
        grid = np.geomspace(lo_t / 2.0, hi_t * 2.0, 200)
        cdf, lower, upper = confidence_band(f, grid, paper, conditions=conditions)
        with np.errstate(divide="ignore", invalid="ignore"):
            y, ylo, yhi = g(cdf), g(lower), g(upper)
        level = f"{100 * (1 - f.alpha):g}%"
        params = f" ({_describe(f)})" if conditions is None else ""  # an ALT's parameters go in the title
        ax.plot(grid, y, "-", color=color, linewidth=1.6, label=f"{name}{f._distribution} fit{params}")
        ax.fill_between(grid, ylo, yhi, color=color, alpha=0.15, linewidth=0,
                        label=f"{name}{level} pointwise bounds (delta method)")
        ys.append(g(pf) if pf.size else y[np.isfinite(y)])  # the data set the range; lines run to the edges
        ts.append(pt)
    all_y = np.concatenate([v for v in ys if v.size]) if any(v.size for v in ys) else np.array([-3.0, 1.0])
    ymin, ymax = float(np.min(all_y)), float(np.max(all_y))
    candidates = sorted(_TICKS + ([0.632] if paper == "weibull" else []))  # 63.2 %: the Weibull scale eta
    below = [float(g(p)) for p in candidates if g(p) <= ymin]
    above = [float(g(p)) for p in candidates if g(p) >= ymax]
    pad = 0.1 * max(ymax - ymin, 1.0)
    y0 = below[-1] if below else ymin - pad  # the axis starts and ends at a labelled probability
    y1 = above[0] if above else ymax + pad
    margin = 0.04 * (y1 - y0)
    ax.set_ylim(y0 - margin, y1 + margin)
    ticks = [p for p in candidates if y0 - 1e-9 <= g(p) <= y1 + 1e-9]
    if len(ticks) > 12:  # a wide range: decades only, so the labels do not overlap
        ticks = [p for p in _DECADES if y0 - 1e-9 <= g(p) <= y1 + 1e-9]
    ax.set_yticks([float(g(p)) for p in ticks], [_percent(p) for p in ticks])
    _label_log_axis(ax, ts)
    ax.set_xlabel("time [h]")
    ax.set_ylabel(f"unreliability F(t)  (scale {ylabel})")
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(title or f"{paper.capitalize()} probability plot", loc="left", fontsize="medium")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize="small", frameon=False)
    return fig


def _label_log_axis(ax: Axes, times: list) -> None:
    """Plain numbers on the time axis (1, 2, 5 of each decade when it spans few decades; never 2x10^1)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    t = np.concatenate([v for v in times if v.size]) if any(v.size for v in times) else np.array([1.0])
    span = math.log10(max(float(t.max()), 1e-300) / max(float(t.min()), 1e-300)) + math.log10(4.0)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    if span <= 2.5:
        ax.xaxis.set_minor_formatter(FuncFormatter(
            lambda x, _: f"{x:g}" if round(x / 10 ** math.floor(math.log10(x) + 1e-9)) in (2, 5) else ""))
    else:
        ax.xaxis.set_minor_formatter(NullFormatter())


def _percent(p: float) -> str:
    v = 100 * p
    return f"{v:.{max(0, -math.floor(math.log10(v)))}f}%" if v < 1 else f"{v:g}%"
