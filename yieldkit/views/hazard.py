"""Failures per burn-in hour by fault class (the early part of the bathtub), with the fitted hazard.

Input: ``db.queries.failures_per_hour(engine, by_class=True)`` (columns
``bin_start_h``, ``bin_end_h``, ``fault_class``, ``failures``) and, where the
reliability fits exist, fitted :mod:`yieldkit.reliability` objects per class
(e.g. :class:`~yieldkit.reliability.WeibullFitter` on
``db.analysis.first_failure_times``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from yieldkit.views._common import axes_or_new, fault_colour, legend_outside

__all__ = ["plot_failures_per_hour"]


def plot_failures_per_hour(frame: pd.DataFrame, ax: Axes | None = None, *, fits: Mapping[str, object] | None = None,
                           units_at_risk: float | None = None, log: bool = True,
                           title: str = "Burn-in failures per hour by fault class") -> Figure:
    """Step lines of failures per hour per class; dashed, the fitted hazard times the units at risk.

    Parameters
    ----------
    frame : DataFrame
        ``db.queries.failures_per_hour(by_class=True)``; without a
        ``fault_class`` column one line of all failures is drawn.
    fits : mapping of fault class -> fitted reliability object, optional
        Anything with ``hazard(t_h)`` [1/h]; drawn as ``units_at_risk * hazard``.
    units_at_risk : float, optional
        Units (cores) under test [-]; required with ``fits``.
    log : bool
        Logarithmic failure axis (the bathtub's early decline reads as a slope).

    Returns
    -------
    Figure

    Examples
    --------
    >>> frame = pd.DataFrame({"bin_start_h": [0.0, 1.0, 0.0, 1.0], "bin_end_h": [1.0, 2.0, 1.0, 2.0],
    ...                       "fault_class": ["sram", "sram", "thermal", "thermal"], "failures": [8, 3, 2, 1]})
    >>> [t.get_text() for t in plot_failures_per_hour(frame).legends[0].get_texts()]
    ['sram (11)', 'thermal (3)']
    """
    if fits and units_at_risk is None:
        raise ValueError("units_at_risk is needed to draw fitted hazards")
    own_figure = ax is None
    fig, ax = axes_or_new(ax, (8.0, 4.5))
    frame = frame if "fault_class" in frame else frame.assign(fault_class="all")
    totals = frame.groupby("fault_class")["failures"].sum().sort_values(ascending=False)
    for i, cls in enumerate(totals.index):
        part = frame[frame["fault_class"] == cls].sort_values("bin_start_h")
        width = (part["bin_end_h"] - part["bin_start_h"]).to_numpy(float)
        rate = part["failures"].to_numpy(float) / width
        edges = np.append(part["bin_start_h"].to_numpy(float), part["bin_end_h"].to_numpy(float)[-1:])
        colour = fault_colour(cls, i)
        ax.stairs(np.where(rate > 0, rate, np.nan) if log else rate, edges, color=colour, lw=1.4,
                  label=f"{str(cls).replace('_', ' ')} ({int(totals[cls]):,})")
        if fits and cls in fits:
            t = np.linspace(max(edges[0], 1e-3), edges[-1], 200)
            ax.plot(t, units_at_risk * np.asarray(fits[cls].hazard(t)), "--", color=colour, lw=1.0,
                    label=f"{str(cls).replace('_', ' ')} fitted hazard")
    if log:
        ax.set_yscale("log")
    ax.set(xlabel="cumulative burn-in time [h]", ylabel="failures per hour", title=title)
    ax.grid(alpha=0.3, which="both")
    legend_outside(fig, ax, ax.get_legend_handles_labels()[0], own_figure, fontsize=7)
    return fig
