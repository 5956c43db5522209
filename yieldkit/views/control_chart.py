"""Trend of the failure rate by lot or by week with a p- or u-chart and the Western Electric rules.

p-chart: a proportion per subgroup (cores failing in burn-in per core
tested), limits ``p_bar +- 3 sqrt(p_bar (1 - p_bar) / n_i)``; u-chart: a
count per unit of exposure (failures per 1,000 core-hours), limits
``u_bar +- 3 sqrt(u_bar / n_i)`` (Montgomery, Introduction to Statistical
Quality Control, 7th ed., 2013, sec. 7.2 and 7.3). The Western Electric
rules (Western Electric Statistical Quality Control Handbook, 1956) run on
the standardised points ``z_i = (x_i - centre) / sigma_i``:

1. one point beyond 3 sigma;
2. two of three consecutive points beyond 2 sigma on the same side;
3. four of five consecutive points beyond 1 sigma on the same side;
4. eight consecutive points on the same side of the centre line.

A rule flags the point that completes its pattern (that point itself beyond
the zone). Input: ``db.analysis.failure_rate_by_period`` (one row per lot
or week: ``period``, ``cores_failed``, ``cores_tested``, ``failures``,
``core_hours``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from yieldkit.views._common import axes_or_new, legend_outside

__all__ = ["p_chart", "u_chart", "western_electric", "plot_control_chart"]


def western_electric(z) -> pd.DataFrame:
    """Western Electric rules 1-4 on standardised points ``z`` (module docstring).

    Returns
    -------
    DataFrame
        Boolean ``rule1`` .. ``rule4`` and ``out_of_control`` (any rule), one row per point.

    Examples
    --------
    >>> western_electric([0.1, 3.5, -0.2, 2.5, 2.2])[["rule1", "rule2"]].values.tolist()
    [[False, False], [True, False], [False, False], [False, True], [False, True]]
    """
    z = np.asarray(z, float)
    n = z.size
    out = {f"rule{k}": np.zeros(n, bool) for k in range(1, 5)}
    out["rule1"] = np.abs(z) > 3
    for sign in (1.0, -1.0):
        s = sign * z
        for rule, (window, need, limit) in (("rule2", (3, 2, 2.0)), ("rule3", (5, 4, 1.0)), ("rule4", (8, 8, 0.0))):
            beyond = (s > limit).astype(int)
            counts = np.convolve(beyond, np.ones(window, int))[:n]
            full = np.arange(n) >= window - 1
            out[rule] |= full & (counts >= need) & (s > limit)
    frame = pd.DataFrame(out)
    frame["out_of_control"] = frame.any(axis=1)
    return frame


def _chart(frame: pd.DataFrame, value: np.ndarray, centre: float, sigma: np.ndarray, kind: str) -> pd.DataFrame:
    out = frame.copy()
    out["value"] = value
    out["centre"] = centre
    out["sigma"] = sigma
    out["ucl"] = centre + 3 * sigma
    out["lcl"] = np.maximum(centre - 3 * sigma, 0.0)
    if kind == "p":
        out["ucl"] = np.minimum(out["ucl"], 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(sigma > 0, (value - centre) / np.where(sigma > 0, sigma, 1), 0.0)
    out["z"] = z
    out = pd.concat([out, western_electric(z)], axis=1)
    out.attrs["kind"] = kind
    return out


def p_chart(frame: pd.DataFrame, *, defectives: str = "cores_failed", n: str = "cores_tested") -> pd.DataFrame:
    """p-chart of ``defectives / n`` per row with its 3-sigma limits and the rules.

    ``p_bar = sum(defectives) / sum(n)``; ``sigma_i = sqrt(p_bar (1 - p_bar) / n_i)``.

    Returns
    -------
    DataFrame
        The input plus ``value`` (the proportion) [-], ``centre``, ``sigma``,
        ``ucl``, ``lcl`` (clipped to [0, 1]), ``z``, ``rule1`` .. ``rule4`` and ``out_of_control``.

    Examples
    --------
    >>> chart = p_chart(pd.DataFrame({"cores_failed": [5, 7, 40], "cores_tested": [1000, 1000, 1000]}))
    >>> round(float(chart["centre"].iloc[0]), 4), chart["out_of_control"].tolist()
    (0.0173, [False, False, True])
    """
    d = frame[defectives].to_numpy(float)
    size = frame[n].to_numpy(float)
    p_bar = d.sum() / size.sum()
    return _chart(frame, d / size, p_bar, np.sqrt(p_bar * (1 - p_bar) / size), "p")


def u_chart(frame: pd.DataFrame, *, count: str = "failures", exposure: str = "core_hours",
            per: float = 1000.0) -> pd.DataFrame:
    """u-chart of ``count`` per ``per`` units of ``exposure`` with its 3-sigma limits and the rules.

    ``n_i = exposure_i / per``; ``u_bar = sum(count) / sum(n)``; ``sigma_i = sqrt(u_bar / n_i)``.

    Examples
    --------
    >>> chart = u_chart(pd.DataFrame({"failures": [10, 12, 11], "core_hours": [1e4, 1e4, 1e4]}))
    >>> round(float(chart["centre"].iloc[0]), 3), bool(chart["out_of_control"].any())
    (1.1, False)
    """
    c = frame[count].to_numpy(float)
    size = frame[exposure].to_numpy(float) / per
    u_bar = c.sum() / size.sum()
    chart = _chart(frame, c / size, u_bar, np.sqrt(u_bar / size), "u")
    chart.attrs["per"] = per
    return chart


def plot_control_chart(chart: pd.DataFrame, ax: Axes | None = None, *, label: str = "period",
                       ylabel: str | None = None, title: str | None = None) -> Figure:
    """Points joined by a line, centre line, stepped 3-sigma limits; out-of-control points in red with their rules.

    Parameters
    ----------
    chart : DataFrame
        :func:`p_chart` or :func:`u_chart`.
    label : str
        Column naming the subgroups (lot or week) on the x axis.

    Returns
    -------
    Figure

    Examples
    --------
    >>> chart = p_chart(pd.DataFrame({"period": ["L1", "L2", "L3"], "cores_failed": [5, 7, 40],
    ...                               "cores_tested": [1000, 1000, 1000]}))
    >>> [t.get_text() for t in plot_control_chart(chart).axes[0].texts]
    ['1']
    """
    own_figure = ax is None
    fig, ax = axes_or_new(ax, (9.0, 4.2))
    x = np.arange(len(chart))
    kind = chart.attrs.get("kind", "p")
    ax.step(x, chart["ucl"], where="mid", color="#c0392b", lw=0.9, ls="--", label="UCL / LCL (3 sigma)")
    ax.step(x, chart["lcl"], where="mid", color="#c0392b", lw=0.9, ls="--")
    ax.axhline(chart["centre"].iloc[0] if len(chart) else 0, color="0.3", lw=0.9,
               label=f"centre {'p' if kind == 'p' else 'u'} = {chart['centre'].iloc[0]:.3g}" if len(chart) else None)
    ax.plot(x, chart["value"], "-", color="0.55", lw=0.8)
    ok = ~chart["out_of_control"].to_numpy()
    ax.plot(x[ok], chart["value"].to_numpy()[ok], "o", color="#1f4e9c", ms=4, label="in control")
    if (~ok).any():
        ax.plot(x[~ok], chart["value"].to_numpy()[~ok], "o", color="#c0392b", ms=6, label="out of control")
        for xi, (_, row) in zip(x[~ok], chart[~ok].iterrows()):
            rules = ",".join(str(k) for k in range(1, 5) if row[f"rule{k}"])
            ax.annotate(rules, (xi, row["value"]), textcoords="offset points", xytext=(0, 6), ha="center",
                        fontsize=7, color="#c0392b")
    if len(chart):
        top = float(np.nanmax(np.concatenate([chart["ucl"].to_numpy(float), chart["value"].to_numpy(float)])))
        ax.set_ylim(0, top * 1.12)  # headroom for the rule numbers
    names = [str(v) for v in chart[label]] if label in chart else [str(i) for i in x]
    step = max(1, len(x) // 25)
    ax.set_xticks(x[::step], names[::step], rotation=45, ha="right", fontsize=7)
    per = chart.attrs.get("per", 1000.0)
    default_y = "share of cores failing" if kind == "p" else f"failures per {per:,.0f} core-hours"
    ax.set(ylabel=ylabel or default_y, title=title or f"{kind}-chart with Western Electric rules (numbers: rules broken)")
    ax.title.set_fontsize(10)
    ax.grid(alpha=0.3)
    legend_outside(fig, ax, ax.get_legend_handles_labels()[0], own_figure, fontsize=7)
    return fig
