"""Wafer gallery of a lot: small multiples of wafer maps with one shared legend.

Input: a DataFrame with one row per wafer (``db.analysis.wafer_maps``):
``wafer`` (serial), ``dead_sites`` (flat sites, array) and optionally
``mapped_out`` (array) and ``label`` (e.g. the signature of
:func:`yieldkit.views.signatures.classify_wafers`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from yieldkit.defect_map import DefectMap
from yieldkit.design import Design
from yieldkit.views.wafer_map import legend_handles, plot_wafer_map

__all__ = ["plot_wafer_gallery"]


def plot_wafer_gallery(design: Design, wafers: pd.DataFrame, *, ncols: int = 5, panel_in: float = 2.3,
                       title: str | None = None, max_pixels: int = 240) -> Figure:
    """Small multiples of the wafers of a lot, one shared legend below them.

    Each panel is :func:`~yieldkit.views.wafer_map.plot_wafer_map` without
    axis labels or its own legend, titled with the serial, the dead and
    mapped-out counts and the ``label`` column when present.

    Parameters
    ----------
    design : Design
    wafers : DataFrame
        ``wafer``, ``dead_sites``, optional ``mapped_out``, ``label``.
    ncols : int
        Panels per row.
    panel_in : float
        Panel width [in].
    title : str, optional
        Figure title.
    max_pixels : int
        Raster side of each panel [px].

    Returns
    -------
    Figure

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> frame = pd.DataFrame({"wafer": ["W1", "W2"], "dead_sites": [np.array([5]), np.array([], np.int64)]})
    >>> fig = plot_wafer_gallery(load_design("small"), frame)
    >>> len([a for a in fig.axes if a.get_visible()]), len(fig.legends)
    (2, 1)
    """
    n = max(len(wafers), 1)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(panel_in * ncols, panel_in * nrows + 0.9), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    total = {}
    links = 0
    for ax, (_, row) in zip(axes, wafers.iterrows()):
        dead = np.asarray(row["dead_sites"], np.int64)
        mapped = np.asarray(row["mapped_out"], np.int64) if "mapped_out" in row and row["mapped_out"] is not None \
            else None
        defects = DefectMap(design.rows, design.cols, dead)
        label = f" {row['label']}" if "label" in row and isinstance(row["label"], str) else ""
        n_mapped = 0 if mapped is None else int(np.setdiff1d(mapped, dead).size)
        plot_wafer_map(design, defects, ax, mapped_out=mapped, legend=False, max_pixels=max_pixels, ring_max=300,
                       title=f"{row['wafer']}{label}\n{dead.size} dead, {n_mapped} mapped out")
        ax.title.set_fontsize(8)
        ax.set(xlabel="", ylabel="", xticks=[], yticks=[])
        total[4] = total.get(4, 0) + dead.size
        total[3] = total.get(3, 0) + n_mapped
        links += defects.n_dead_links
    for ax in axes[len(wafers):]:
        ax.set_visible(False)
    handles = legend_handles()
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig
