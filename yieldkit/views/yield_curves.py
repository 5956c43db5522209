"""Yield curves against defect density: the sweep table in, a Figure out.

Input: ``yieldkit sweep`` output (:func:`yieldkit.sweep.sweep`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from yieldkit.views._common import axes_or_new as _axes

__all__ = ["plot_yield_curves", "spares_label"]


def spares_label(spares: float | None, design_spares: tuple[int, int] | None = None) -> str:
    """Legend text of a row-spare count: ``1 spare/row``, ``4 spares/row``, ``12-48 spares/row (design)``.

    Parameters
    ----------
    spares : float or None
        Spare sites per row of the curve [-]; ignored with ``design_spares``.
    design_spares : (int, int), optional
        Least and most spare sites per row of the design's own rows, when
        the curve uses them (the ``wse`` rows have 12 to 48).

    Examples
    --------
    >>> spares_label(1), spares_label(4), spares_label(None, (12, 48))
    ('1 spare/row', '4 spares/row', '12-48 spares/row (design)')
    """
    if design_spares is not None:
        low, high = design_spares
        count = f"{low}" if low == high else f"{low}-{high}"
        return f"{count} spare{'' if count == '1' else 's'}/row (design)"
    if spares is None or (isinstance(spares, float) and np.isnan(spares)):
        return "design's spares"
    return f"{spares:g} spare{'' if spares == 1 else 's'}/row"


def plot_yield_curves(table: pd.DataFrame, ax: Axes | None = None, closed_form: pd.DataFrame | None = None,
                      design_spares: tuple[int, int] | None = None) -> Figure:
    """Full-fabric yield against D0, one line per (alpha, spares) with its CI band.

    Parameters
    ----------
    table : DataFrame
        ``yieldkit sweep`` output: ``design``, ``d0_per_cm2`` [cm^-2],
        ``full_fabric_yield``, ``ci_low``, ``ci_high``, ``confidence`` [-],
        ``alpha`` (NaN: Poisson), ``spares_per_row``.
    ax : Axes, optional
        Draw into these axes instead of a new figure.
    closed_form : DataFrame, optional
        Extra reference curves: columns ``d0_per_cm2``, ``yield``, ``label``.
    design_spares : (int, int), optional
        The table used the design's own spare sites per row, from the least
        to the most of its rows: say so in the legend.

    Returns
    -------
    Figure

    Examples
    --------
    >>> table = pd.DataFrame({"design": "small", "d0_per_cm2": [0.5, 1.0], "full_fabric_yield": [0.9, 0.7],
    ...                       "ci_low": [0.85, 0.65], "ci_high": [0.95, 0.75], "confidence": 0.95,
    ...                       "alpha": [np.nan, np.nan], "spares_per_row": [4, 4]})
    >>> [t.get_text() for t in plot_yield_curves(table).axes[0].get_legend().get_texts()]
    ['Poisson, 4 spares/row']
    """
    fig, ax = _axes(ax, (7.0, 4.5))
    groups = table.groupby([table["alpha"].astype(float).fillna(np.inf), "spares_per_row"], sort=True, dropna=False)
    for (alpha, spares), part in groups:
        part = part.sort_values("d0_per_cm2")
        label = f"{'Poisson' if np.isinf(alpha) else f'NB alpha={alpha:g}'}, {spares_label(spares, design_spares)}"
        (line,) = ax.plot(part["d0_per_cm2"], part["full_fabric_yield"], marker="o", ms=3, label=label)
        ax.fill_between(part["d0_per_cm2"], part["ci_low"], part["ci_high"], color=line.get_color(), alpha=0.2)
    if closed_form is not None:
        for style, (label, part) in zip(["--", ":", "-.", (0, (5, 1, 1, 1))], closed_form.groupby("label", sort=False)):
            ax.plot(part["d0_per_cm2"], part["yield"], ls=style, lw=1.2, color="0.25", label=str(label))
    design = ", ".join(sorted(set(map(str, table["design"]))))
    ax.set(xlabel="defect density D0 [cm$^{-2}$]", ylabel="full-fabric yield", ylim=(-0.02, 1.02),
           title=f"{design}: full-fabric yield (shaded: {table['confidence'].iloc[0]:.0%} Clopper-Pearson CI)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig
