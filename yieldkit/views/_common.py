"""Shared helpers of the views: a figure or the caller's axes, raster pooling, wafer outline, colours."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Wedge

from yieldkit.design import Design

__all__ = ["axes_or_new", "max_pool", "mean_pool", "pool_factor", "draw_wafer_outline", "site_xy_mm",
           "NOTCH_DEPTH_MM", "FAULT_COLOURS", "fault_colour", "legend_outside"]

#: Depth [mm] at which the notch is drawn (a SEMI notch is about 1 mm deep: drawn deeper to be seen).
NOTCH_DEPTH_MM = 4.0

#: One colour per fault class, the same in every view.
FAULT_COLOURS = {
    "permanent_core": "#c0392b",
    "marginal_core": "#e67e22",
    "transient_bit_flip": "#8e44ad",
    "link_packet_loss": "#2471a3",
    "control_register_upset": "#16a085",
    "thermal": "#7f8c8d",
    "sram": "#d4ac0d",
}


def fault_colour(fault_class: str, index: int = 0) -> str:
    """Colour of a fault class (a tab10 colour for an unknown class)."""
    return FAULT_COLOURS.get(str(fault_class), f"C{index % 10}")


def axes_or_new(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """The caller's axes and their figure, or a new constrained-layout figure with one axes."""
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def legend_outside(fig: Figure, ax: Axes, handles: list, own_figure: bool, **kwargs) -> None:
    """A legend right of the axes, never over the data.

    On a figure the view made itself it is a figure legend placed
    ``outside right upper`` (constrained layout makes room for it, however the
    figure is saved); in the caller's axes it is anchored just right of them.
    """
    kwargs.setdefault("fontsize", 8)
    kwargs.setdefault("frameon", False)
    if own_figure:
        fig.legend(handles=handles, loc="outside right upper", **kwargs)
    else:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kwargs)


def pool_factor(shape: tuple[int, int], max_pixels: int) -> int:
    """Smallest integer block size that brings the larger side of ``shape`` to ``max_pixels`` or fewer."""
    return max(1, math.ceil(max(shape) / max(1, max_pixels)))


def _blocks(array: np.ndarray, factor: int, fill) -> np.ndarray:
    rows, cols = array.shape
    pr, pc = (-rows) % factor, (-cols) % factor
    if pr or pc:
        array = np.pad(array, ((0, pr), (0, pc)), constant_values=fill)
    r, c = array.shape
    return array.reshape(r // factor, factor, c // factor, factor)


def max_pool(array: np.ndarray, factor: int) -> np.ndarray:
    """Block maximum of a 2-D array (blocks of ``factor`` x ``factor``; edges padded with the minimum).

    With category codes ordered by importance, a pooled pixel shows the most
    important site of its block: one dead core among 100 alive ones stays visible.

    Examples
    --------
    >>> max_pool(np.array([[0, 1, 0], [0, 0, 4], [1, 0, 0]]), 2)
    array([[1, 4],
           [1, 0]])
    """
    if factor == 1:
        return array
    return _blocks(array, factor, array.min()).max(axis=(1, 3))


def mean_pool(values: np.ndarray, weights: np.ndarray, factor: int) -> np.ndarray:
    """Weighted block mean (``sum(values * weights) / sum(weights)``; NaN where a block has no weight)."""
    if factor == 1:
        out = np.where(weights > 0, values, np.nan)
        return out.astype(float)
    num = _blocks(np.where(weights > 0, values * weights, 0.0), factor, 0.0).sum(axis=(1, 3))
    den = _blocks(weights.astype(float), factor, 0.0).sum(axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def site_xy_mm(design: Design, sites: np.ndarray, sign: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Centre (x, y) [mm] of flat site indices, wafer centre at (0, 0), row 0 at the top (``sign=-1``: bottom)."""
    r, c = np.divmod(np.asarray(sites, np.int64), design.cols)
    return design.x0_mm + (c + 0.5) * design.pitch_x_mm, sign * (design.y0_mm - (r + 0.5) * design.pitch_y_mm)


def draw_wafer_outline(ax: Axes, design: Design, *, notch_down: bool = True, shade_exclusion: bool = True,
                       lw: float = 0.8) -> None:
    """Wafer edge with its notch, the edge-exclusion ring shaded and the usable circle dotted."""
    radius = design.wafer_diameter_mm / 2
    half = math.radians(4.0)  # half-angle of the drawn notch
    base = -math.pi / 2 if notch_down else math.pi / 2
    theta = np.linspace(base + half, base + 2 * math.pi - half, 720)
    pts = np.column_stack([radius * np.cos(theta), radius * np.sin(theta)])
    tip = np.array([[0.0, (radius - NOTCH_DEPTH_MM) * (-1 if notch_down else 1)]])
    ax.add_patch(Polygon(np.vstack([pts, tip]), closed=True, fill=False, edgecolor="0.3", lw=lw, zorder=3))
    if shade_exclusion and design.edge_exclusion_mm > 0:
        ax.add_patch(Wedge((0, 0), radius, 0, 360, width=design.edge_exclusion_mm, facecolor="0.85",
                           edgecolor="none", zorder=0.5))
    usable = np.linspace(0, 2 * math.pi, 361)
    ax.plot(design.usable_radius_mm * np.cos(usable), design.usable_radius_mm * np.sin(usable), ":",
            color="0.45", lw=lw * 0.8, zorder=3)
