"""Fault Pareto: burn-in failures by fault class, most frequent first, with the cumulative share.

Input: ``db.queries.pareto`` (columns ``fault_class``, ``count``, ``share``,
``cumulative_share``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from yieldkit.views._common import axes_or_new, fault_colour

__all__ = ["plot_pareto"]


def plot_pareto(frame: pd.DataFrame, ax: Axes | None = None, *, title: str = "Burn-in failures by fault class",
                threshold: float = 0.8) -> Figure:
    """Bars of the failures per fault class and the cumulative share on a right-hand axis.

    Parameters
    ----------
    frame : DataFrame
        ``db.queries.pareto``: ``fault_class``, ``count``, ``cumulative_share`` [-].
    threshold : float
        Cumulative share drawn as a dashed reference (the "vital few") [-].

    Returns
    -------
    Figure
        Two axes: the counts and the cumulative share (0-100 %).

    Examples
    --------
    >>> frame = pd.DataFrame({"fault_class": ["sram", "thermal"], "count": [6, 3],
    ...                       "share": [2 / 3, 1 / 3], "cumulative_share": [2 / 3, 1.0]})
    >>> fig = plot_pareto(frame)
    >>> [round(float(v), 3) for v in fig.axes[1].lines[0].get_ydata()]
    [0.667, 1.0]
    """
    fig, ax = axes_or_new(ax, (8.0, 4.2))
    frame = frame.sort_values("count", ascending=False, kind="stable")
    x = np.arange(len(frame))
    labels = [str(c).replace("_", " ") for c in frame["fault_class"]]
    ax.bar(x, frame["count"], color=[fault_colour(c, i) for i, c in enumerate(frame["fault_class"])], width=0.7)
    for xi, n in zip(x, frame["count"]):
        ax.text(xi, n, f"{n:,}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, labels, rotation=25, ha="right", fontsize=8)
    ax.set(ylabel="failures", title=title, ylim=(0, max(frame["count"].max(), 1) * 1.12))
    right = ax.twinx()
    right.plot(x, frame["cumulative_share"], "o-", color="0.2", ms=4, label="cumulative share")
    right.axhline(threshold, ls="--", color="0.5", lw=0.8)
    right.text(x[-1] if len(x) else 0, threshold, f"{threshold:.0%}", va="bottom", ha="right", fontsize=7,
               color="0.4")
    right.set(ylim=(0, 1.05), ylabel="cumulative share")
    right.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(axis="y", alpha=0.3)
    return fig
