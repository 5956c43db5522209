"""Yield-loss waterfall: physical sites -> edge loss -> dead at fab-out -> given to repair -> mapped out -> logical fabric.

Numbers from core types (:func:`waterfall_steps`) or, for a lot, from the
per-wafer counts of ``db.analysis.waterfall_counts`` (:func:`lot_waterfall`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from yieldkit.design import Design
from yieldkit.views._common import axes_or_new

__all__ = ["waterfall_steps", "lot_waterfall", "plot_waterfall"]

_STEPS = ("physical sites", "edge loss", "dead at fab-out", "given to repair", "mapped out in burn-in",
          "logical fabric")


def waterfall_steps(design: Design, dead_at_fab_out: int, mapped_out_in_burn_in: int,
                    logical_cores: int | None = None) -> pd.DataFrame:
    """Where the sites of one wafer go, in cores.

    ``given to repair`` are the alive sites the redundancy holds back (spares
    not serving a logical core), the balance of the others:
    ``physical - edge - dead - given - mapped out = logical``.

    Parameters
    ----------
    design : Design
        Grid (rows x cols sites) and the existing sites.
    dead_at_fab_out : int
        Dead sites of the fab-out defect map.
    mapped_out_in_burn_in : int
        Cores mapped out during burn-in (alive at fab-out).
    logical_cores : int, optional
        Logical cores presented (default: the design's full logical grid;
        smaller for a degraded part).

    Returns
    -------
    DataFrame
        ``step``, ``cores`` (signed: losses negative), ``level`` (cores left
        after the step) and ``share`` (of the physical sites) [-].

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> w = waterfall_steps(load_design("small"), 10, 3)
    >>> w["cores"].tolist()
    [4352, 0, -10, -243, -3, 4096]
    """
    logical = design.logical_cores if logical_cores is None else int(logical_cores)
    physical = design.n_sites
    edge = physical - design.existing_sites
    given = design.existing_sites - dead_at_fab_out - mapped_out_in_burn_in - logical
    cores = [physical, -edge, -int(dead_at_fab_out), -int(given), -int(mapped_out_in_burn_in), logical]
    level = [physical, physical - edge, physical - edge - dead_at_fab_out,
             physical - edge - dead_at_fab_out - given, logical, logical]
    return pd.DataFrame({"step": _STEPS, "cores": cores, "level": level,
                         "share": np.asarray(cores, float) / physical})


def lot_waterfall(design: Design, counts: pd.DataFrame) -> pd.DataFrame:
    """Mean waterfall per wafer of a lot from ``db.analysis.waterfall_counts``.

    ``counts`` columns: ``dead_at_fab_out``, ``mapped_out`` and
    ``logical_cores`` (NaN: the design's full grid) per wafer.
    """
    frames = [waterfall_steps(design, int(r.dead_at_fab_out), int(r.mapped_out),
                              None if pd.isna(r.logical_cores) else int(r.logical_cores))
              for r in counts.itertuples()]
    mean = pd.concat(frames).groupby("step", sort=False)[["cores", "level", "share"]].mean().reset_index()
    return mean


def plot_waterfall(steps: pd.DataFrame, ax: Axes | None = None, *, title: str = "Yield-loss waterfall") -> Figure:
    """Waterfall bars: the physical sites, each loss as a floating bar, the logical fabric.

    Parameters
    ----------
    steps : DataFrame
        :func:`waterfall_steps` or :func:`lot_waterfall`.

    Returns
    -------
    Figure

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> fig = plot_waterfall(waterfall_steps(load_design("small"), 10, 3))
    >>> len(fig.axes[0].patches)
    6
    """
    fig, ax = axes_or_new(ax, (8.0, 4.2))
    x = np.arange(len(steps))
    cores = steps["cores"].to_numpy(float)
    level = steps["level"].to_numpy(float)
    bottoms = np.where(cores < 0, level, 0.0)
    heights = np.abs(cores)
    colours = ["#4f7cac"] + ["#d98c5f"] * (len(steps) - 2) + ["#3c9d5d"]
    ax.bar(x, heights, bottom=bottoms, color=colours, width=0.65)
    physical = cores[0]
    for xi, b, h, c in zip(x, bottoms, heights, cores):
        ax.text(xi, b + h + physical * 0.01, f"{c:+,.0f}" if 0 < xi < len(steps) - 1 else f"{c:,.0f}",
                ha="center", va="bottom", fontsize=8)
        ax.text(xi, b + h + physical * 0.05, f"{abs(c) / physical:.1%}", ha="center", va="bottom", fontsize=7,
                color="0.4")
    for xi in x[:-1]:
        ax.plot([xi + 0.33, xi + 0.67], [level[xi], level[xi]], color="0.5", lw=0.6)
    ax.set_xticks(x, [s.replace(" ", "\n", 1) if len(s) > 12 else s for s in steps["step"]], fontsize=8)
    ax.set(ylabel="cores per wafer", ylim=(0, physical * 1.13), title=title)
    ax.grid(axis="y", alpha=0.3)
    return fig
