"""Wafer map of one wafer: the clipped square of sites, dead and mapped-out cores, spares in use, dead links.

Drawn as one raster (``imshow`` of a category per site, block-maximum pooled
to the figure's resolution so no dead core disappears), never one patch per
core: a 10^6-site ``wse`` wafer draws in well under 2 s
(``benchmarks/bench_views.py``). Inputs are core types only: a
:class:`~yieldkit.design.Design`, a :class:`~yieldkit.defect_map.DefectMap`
(the fab-out dead sites, e.g. :func:`db.wafer_maps.load_defect_map`), the flat
sites mapped out in burn-in (``db.analysis.wafer_maps`` column
``mapped_out``) and a :class:`~yieldkit.repair_map.RepairMap`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from yieldkit.defect_map import DefectMap, link_endpoints
from yieldkit.design import Design
from yieldkit.repair import spare_sites_in_use
from yieldkit.repair_map import RepairMap
from yieldkit.views._common import axes_or_new, draw_wafer_outline, legend_outside, max_pool, pool_factor, site_xy_mm

__all__ = ["ABSENT", "ALIVE", "SPARE_IN_USE", "MAPPED_OUT", "DEAD", "CATEGORY_NAMES", "CATEGORY_COLOURS",
           "site_categories", "legend_handles", "plot_wafer_map"]

#: Site categories, in increasing order of importance (pooling keeps the largest code of a block).
ABSENT, ALIVE, SPARE_IN_USE, MAPPED_OUT, DEAD = 0, 1, 2, 3, 4
CATEGORY_NAMES = ("outside the usable circle", "alive", "spare in use (row shifted)", "mapped out in burn-in",
                  "dead at fab-out")
CATEGORY_COLOURS = ("#ffffff", "#d5e8d4", "#3b7dd8", "#f39c12", "#c0392b")
LINK_COLOUR = "#4a235a"
_CMAP = ListedColormap(CATEGORY_COLOURS)


def site_categories(design: Design, defects: DefectMap, mapped_out: Sequence[int] | np.ndarray | None = None,
                    spares_in_use: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
    """int8 (rows, cols) array of :data:`ABSENT`, :data:`ALIVE`, :data:`SPARE_IN_USE`, :data:`MAPPED_OUT`, :data:`DEAD`.

    A site dead at fab-out stays :data:`DEAD` even if it is also listed as mapped out.

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> design = load_design("small")
    >>> cats = site_categories(design, DefectMap(design.rows, design.cols, [2100]), mapped_out=[2101])
    >>> int(cats.flat[2100]), int(cats.flat[2101]), int(cats[0, 0])
    (4, 3, 1)
    """
    state = np.where(design.site_exists, ALIVE, ABSENT).astype(np.int8)
    flat = state.reshape(-1)
    if spares_in_use is not None:
        flat[np.asarray(spares_in_use, np.int64)] = SPARE_IN_USE
    if mapped_out is not None:
        flat[np.asarray(mapped_out, np.int64)] = MAPPED_OUT
    flat[defects.dead_sites] = DEAD
    return state


def legend_handles(counts: dict[int, int] | None = None, dead_links: int | None = None) -> list:
    """Legend entries of the site categories (with counts when given) and of dead links.

    With ``counts``, a category missing from it is left out: the map was
    drawn without what would show it (no repair map: spares in use unknown,
    not zero).
    """
    handles = []
    for code in (DEAD, MAPPED_OUT, SPARE_IN_USE, ALIVE):
        if counts is not None and code not in counts:
            continue
        label = CATEGORY_NAMES[code] + (f" ({counts[code]:,})" if counts is not None else "")
        handles.append(Patch(facecolor=CATEGORY_COLOURS[code], edgecolor="0.4", lw=0.5, label=label))
    handles.append(Patch(facecolor="0.85", edgecolor="none", label="edge exclusion"))
    if dead_links is not None:
        handles.append(Line2D([], [], ls="none", marker="x", color=LINK_COLOUR, label=f"dead links ({dead_links:,})"))
    return handles


def plot_wafer_map(design: Design, defects: DefectMap, ax: Axes | None = None, *,
                   mapped_out: Sequence[int] | np.ndarray | None = None, repair_map: RepairMap | None = None,
                   region: tuple[int, int, int, int] | None = None, origin: str = "upper",
                   show_wafer_edge: bool = True, title: str | None = None, max_pixels: int = 700,
                   legend: bool = True, ring_max: int = 3000) -> Figure:
    """Wafer map of one wafer: outline, edge exclusion and notch, sites by category, dead links.

    Shows the clipped square of sites (white: outside the usable circle),
    alive sites, cores dead at fab-out (red), cores mapped out during burn-in
    (orange, distinct from fab-out dead ones), spare sites in use (blue, from
    the repair map) and dead links (crosses, or segments when zoomed in).
    Dead and mapped-out cores are also ringed on the whole-wafer view while
    there are few of them, as a single core is one pixel or less on a
    10^6-site wafer. The legend sits outside the axes, so it never hides data
    (a figure legend when the view makes its own figure).

    Parameters
    ----------
    design : Design
        Physical grid, pitch [mm] and wafer geometry [mm].
    defects : DefectMap
        Dead sites and links at fab-out (``db.wafer_maps.load_defect_map``).
    ax : Axes, optional
        Draw into these axes instead of a new figure.
    mapped_out : array of int, optional
        Flat sites mapped out in burn-in (``db.analysis.wafer_maps`` ``mapped_out``).
    repair_map : RepairMap, optional
        The wafer's repair: its displaced logical cores mark the spares in use.
    region : (row_start, row_stop, col_start, col_stop), optional
        Zoom to these physical sites (stop exclusive).
    origin : {"upper", "lower"}
        Where row 0 is drawn (``upper``: top, the yieldkit convention, notch at the bottom).
    show_wafer_edge : bool
        Draw the wafer edge, notch, edge-exclusion ring and usable circle.
    title : str, optional
        Axes title (default: design name and counts).
    max_pixels : int
        Largest raster side [px]; bigger grids are block-maximum pooled.
    legend : bool
        Draw the legend (a gallery draws one shared legend instead).
    ring_max : int
        Ring dead and mapped-out cores when there are at most this many.

    Returns
    -------
    Figure

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> design = load_design("small")
    >>> fig = plot_wafer_map(design, DefectMap(design.rows, design.cols, [2100, 2200]), mapped_out=[2300])
    >>> [t.get_text() for t in fig.legends[0].get_texts()][:2]
    ['dead at fab-out (2)', 'mapped out in burn-in (1)']
    """
    if origin not in ("upper", "lower"):
        raise ValueError(f"origin must be 'upper' or 'lower', got {origin!r}")
    own_figure = ax is None
    fig, ax = axes_or_new(ax, (8.0, 6.0))
    sign = 1.0 if origin == "upper" else -1.0
    spares = spare_sites_in_use(design, repair_map) if repair_map is not None else None
    mapped = np.unique(np.asarray(mapped_out, np.int64)) if mapped_out is not None else np.zeros(0, np.int64)
    state = site_categories(design, defects, mapped, spares)
    r0, r1, c0, c1 = region if region is not None else (0, design.rows, 0, design.cols)
    if not (0 <= r0 < r1 <= design.rows and 0 <= c0 < c1 <= design.cols):
        raise ValueError(f"region {region} is outside the {design.rows} x {design.cols} grid")
    crop = state[r0:r1, c0:c1]
    factor = pool_factor(crop.shape, max_pixels)
    shown = max_pool(crop, factor)
    # Extent of the pooled raster (padding blocks may reach past the crop; the limits clip them).
    x_left = design.x0_mm + c0 * design.pitch_x_mm
    x_right = x_left + shown.shape[1] * factor * design.pitch_x_mm
    y_top = design.y0_mm - r0 * design.pitch_y_mm
    y_bottom = y_top - shown.shape[0] * factor * design.pitch_y_mm
    ax.imshow(shown, cmap=_CMAP, vmin=0, vmax=len(CATEGORY_COLOURS) - 1, interpolation="nearest",
              origin="upper", extent=(x_left, x_right, sign * y_bottom, sign * y_top), aspect="equal",
              zorder=1)
    zoomed = region is not None
    counts = {code: int(np.count_nonzero(state == code)) for code in (ALIVE, SPARE_IN_USE, MAPPED_OUT, DEAD)}
    counts[MAPPED_OUT] = int(np.count_nonzero(state.reshape(-1)[mapped] == MAPPED_OUT)) if mapped.size else 0
    if spares is None:  # no repair map: which spares serve is unknown (the legend does not say 0)
        del counts[SPARE_IN_USE]

    def in_region(sites: np.ndarray) -> np.ndarray:
        r, c = np.divmod(sites, design.cols)
        return sites[(r >= r0) & (r < r1) & (c >= c0) & (c < c1)]

    for code, sites in ((DEAD, defects.dead_sites), (MAPPED_OUT, mapped[state.reshape(-1)[mapped] == MAPPED_OUT])):
        sites = in_region(sites)
        if 0 < sites.size <= ring_max and (factor > 1 or not zoomed):
            x, y = site_xy_mm(design, sites, sign)
            ax.scatter(x, y, s=28, facecolors="none", edgecolors=CATEGORY_COLOURS[code], lw=0.7, zorder=4)
    if defects.dead_links.size:
        a, b = link_endpoints(defects.dead_links, design.cols)
        keep = np.isin(a, in_region(a)) | np.isin(b, in_region(b))
        xa, ya = site_xy_mm(design, a[keep], sign)
        xb, yb = site_xy_mm(design, b[keep], sign)
        if factor > 1:
            ax.scatter((xa + xb) / 2, (ya + yb) / 2, marker="x", s=30, color=LINK_COLOUR, lw=1.0, zorder=5)
        else:
            from matplotlib.collections import LineCollection

            segments = np.stack([np.column_stack([xa, ya]), np.column_stack([xb, yb])], axis=1)
            ax.add_collection(LineCollection(segments, colors=LINK_COLOUR, lw=2.5, zorder=5))
            ax.scatter((xa + xb) / 2, (ya + yb) / 2, marker="x", s=30, color=LINK_COLOUR, lw=1.0, zorder=5)
    if show_wafer_edge:
        draw_wafer_outline(ax, design, notch_down=origin == "upper")
    if zoomed:
        ys = sorted([sign * (design.y0_mm - r0 * design.pitch_y_mm), sign * (design.y0_mm - r1 * design.pitch_y_mm)])
        ax.set(xlim=(x_left, design.x0_mm + c1 * design.pitch_x_mm), ylim=tuple(ys))
    else:
        lim = design.wafer_diameter_mm / 2 * 1.02
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim))
    ax.set_aspect("equal")
    ax.set_anchor("W")  # with a centred anchor, constrained layout can push the y label off the figure
    where = f", rows {r0}-{r1 - 1}, cols {c0}-{c1 - 1}" if zoomed else ""
    ax.set(xlabel="x [mm]", ylabel="y [mm]",
           title=title if title is not None else f"{design.name}{where}: {defects.n_dead_sites:,} dead at fab-out, "
           f"{counts[MAPPED_OUT]:,} mapped out, {defects.n_dead_links:,} dead links")
    ax.title.set_fontsize(10)
    if legend:
        handles = legend_handles(counts, defects.n_dead_links)
        if factor > 1:
            handles.append(Line2D([], [], ls="none", label=f"1 pixel = {factor} x {factor} sites\n(most severe shown)"))
        legend_outside(fig, ax, handles, own_figure)
    return fig
