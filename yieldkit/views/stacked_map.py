"""Stacked (composite) map of a lot: per-site failure frequency across its wafers.

Spatial signatures that no single wafer shows (an edge ring, a hot reticle
field, a repeated scratch) stand out when the dead-core maps of a lot are
stacked. Input: the dead sites of each wafer (``db.analysis.wafer_maps``,
column ``dead_sites``, or ``mapped_out`` for burn-in failures) through
:func:`stack_frequency`, or the per-core counts of burn-in failures
(``db.analysis.burn_in_site_counts``) through :func:`frequency_from_counts`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from yieldkit.design import Design
from yieldkit.views._common import axes_or_new, draw_wafer_outline, mean_pool, pool_factor

__all__ = ["stack_frequency", "frequency_from_counts", "plot_stacked_map"]


def stack_frequency(design: Design, site_lists: Iterable[Iterable[int]]) -> tuple[np.ndarray, int]:
    """Share of wafers on which each site is dead, and the number of wafers.

    Parameters
    ----------
    design : Design
    site_lists : iterable of arrays of int
        Flat dead sites of each wafer (one entry per wafer, empty for a clean wafer).

    Returns
    -------
    (ndarray, int)
        (rows, cols) float array of frequencies [-] (NaN outside the usable
        circle) and the number of wafers stacked.

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> freq, n = stack_frequency(load_design("small"), [[2100], [2100, 2101], []])
    >>> n, float(freq.flat[2100]), float(freq.flat[2101])
    (3, 0.6666666666666666, 0.3333333333333333)
    """
    counts = np.zeros(design.n_sites, np.int64)
    n = 0
    for sites in site_lists:
        sites = np.unique(np.asarray(list(sites) if not isinstance(sites, np.ndarray) else sites, np.int64))
        counts[sites] += 1
        n += 1
    freq = counts.reshape(design.rows, design.cols) / max(n, 1)
    return np.where(design.site_exists, freq, np.nan), n


def frequency_from_counts(design: Design, counts: pd.DataFrame, n_wafers: int) -> np.ndarray:
    """Stacked-map frequencies from per-core wafer counts (``db.analysis.burn_in_site_counts``).

    Parameters
    ----------
    counts : DataFrame
        ``core_row``, ``core_col``, ``wafers`` (wafers with a burn-in failure on that core).
    n_wafers : int
        Wafers in the lot (those with no failure included).

    Returns
    -------
    ndarray
        (rows, cols) share of wafers [-], NaN outside the usable circle.

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> counts = pd.DataFrame({"core_row": [0], "core_col": [3], "wafers": [2]})
    >>> float(frequency_from_counts(load_design("small"), counts, 4)[0, 3])
    0.5
    """
    if n_wafers < 1:
        raise ValueError(f"n_wafers must be >= 1, got {n_wafers}")
    freq = np.zeros((design.rows, design.cols))
    freq[counts["core_row"].to_numpy(np.int64), counts["core_col"].to_numpy(np.int64)] = (
        counts["wafers"].to_numpy(float) / n_wafers)
    return np.where(design.site_exists, freq, np.nan)


def plot_stacked_map(design: Design, frequency: np.ndarray, n_wafers: int, ax: Axes | None = None, *,
                     title: str | None = None, max_pixels: int = 160, cmap: str = "inferno_r") -> Figure:
    """Stacked map: the share of a lot's wafers on which each site (or block of sites) is dead.

    Large grids are averaged over square blocks (``max_pixels`` per side), so
    the colour is the mean failure frequency of the block's sites: at 10^6
    sites a single-core signature is invisible, a spatial one is not.

    Parameters
    ----------
    design : Design
    frequency : ndarray
        From :func:`stack_frequency` [-].
    n_wafers : int
        Wafers stacked (for the title).
    ax : Axes, optional
    title : str, optional
    max_pixels : int
        Largest side of the averaged raster [px].
    cmap : str
        Matplotlib colour map (outside the usable circle is white).

    Returns
    -------
    Figure

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> design = load_design("small")
    >>> freq, n = stack_frequency(design, [[2100], [2100]])
    >>> plot_stacked_map(design, freq, n).axes[1].get_ylabel()
    'share of wafers with the site dead'
    """
    fig, ax = axes_or_new(ax, (6.8, 5.6))
    factor = pool_factor(frequency.shape, max_pixels)
    weights = np.isfinite(frequency).astype(float)
    shown = mean_pool(np.nan_to_num(frequency), weights, factor)
    x_right = design.x0_mm + shown.shape[1] * factor * design.pitch_x_mm
    y_bottom = design.y0_mm - shown.shape[0] * factor * design.pitch_y_mm
    import matplotlib

    colours = matplotlib.colormaps[cmap].with_extremes(bad="white")
    image = ax.imshow(np.ma.masked_invalid(shown), cmap=colours, vmin=0, interpolation="nearest", origin="upper",
                      extent=(design.x0_mm, x_right, y_bottom, design.y0_mm), aspect="equal", zorder=1)
    draw_wafer_outline(ax, design)
    lim = design.wafer_diameter_mm / 2 * 1.02
    block = f"; blocks of {factor} x {factor} sites" if factor > 1 else ""
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), xlabel="x [mm]", ylabel="y [mm]",
           title=title if title is not None else f"{design.name}: stacked map of {n_wafers} wafers{block}")
    ax.title.set_fontsize(10)
    bar = fig.colorbar(image, ax=ax, shrink=0.85)
    bar.set_label("share of wafers with the site dead")
    return fig
