"""The views draw what they say: categories, zoom, legends outside the data, one raster at 10^6 sites."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from yieldkit import plots, views
from yieldkit.defect_map import DefectMap
from yieldkit.design import load_design
from yieldkit.repair import repair_wafer, spare_sites_in_use
from yieldkit.reliability import WeibullFitter
from yieldkit.views.wafer_map import DEAD, MAPPED_OUT, SPARE_IN_USE

SMALL = load_design("small")


def _render(fig):
    FigureCanvasAgg(fig).draw()
    return fig.canvas.get_renderer()


def _legend_outside(fig, ax) -> bool:
    """The legend lies outside the axes, and inside the figure (nothing clipped when saved as is)."""
    renderer = _render(fig)
    legend = (ax.get_legend() or fig.legends[0]).get_window_extent(renderer)
    inside = fig.bbox.x0 <= legend.x0 and legend.x1 <= fig.bbox.x1 and fig.bbox.y0 <= legend.y0 <= fig.bbox.y1
    label = ax.yaxis.label.get_window_extent(renderer)
    return not legend.overlaps(ax.get_window_extent(renderer)) and inside and label.x0 >= fig.bbox.x0


def test_wafer_map_categories_and_legend_outside():
    defects = DefectMap(SMALL.rows, SMALL.cols, [SMALL.cols * 10 + 5], dead_links=[2 * (SMALL.cols * 20 + 7)])
    repair = repair_wafer(SMALL, defects).repair_map
    spares = spare_sites_in_use(SMALL, repair)
    # one spare in the row of the dead core, one in the row whose dead link is mapped out at its cheaper end
    assert (spares // SMALL.cols).tolist() == [10, 20]
    cats = views.site_categories(SMALL, defects, mapped_out=[5], spares_in_use=spares)
    assert cats.flat[SMALL.cols * 10 + 5] == DEAD and cats.flat[5] == MAPPED_OUT
    assert (cats.reshape(-1)[spares] == SPARE_IN_USE).all()
    fig = views.plot_wafer_map(SMALL, defects, mapped_out=[5], repair_map=repair)
    ax = fig.axes[0]
    assert len(ax.images) == 1
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts[:3] == ["dead at fab-out (1)", "mapped out in burn-in (1)", f"spare in use (row shifted) ({spares.size})"]
    assert "dead links (1)" in texts
    assert _legend_outside(fig, ax)
    assert plots.plot_wafer_map is views.plot_wafer_map


def test_wafer_map_without_a_repair_map_does_not_claim_zero_spares_in_use():
    defects = DefectMap(SMALL.rows, SMALL.cols, [SMALL.cols * 10 + 5])
    texts = [t.get_text() for t in views.plot_wafer_map(SMALL, defects).legends[0].get_texts()]
    assert not any(t.startswith("spare in use") for t in texts) and "dead at fab-out (1)" in texts


def test_wafer_map_zoom_limits():
    fig = views.plot_wafer_map(SMALL, DefectMap.empty(SMALL), region=(10, 20, 30, 50))
    ax = fig.axes[0]
    x0 = SMALL.x0_mm + 30 * SMALL.pitch_x_mm
    assert ax.get_xlim() == pytest.approx((x0, x0 + 20 * SMALL.pitch_x_mm))
    assert ax.get_ylim() == pytest.approx(sorted([SMALL.y0_mm - 10, SMALL.y0_mm - 20]))
    assert ax.images[0].get_array().shape == (10, 20)
    with pytest.raises(ValueError):
        views.plot_wafer_map(SMALL, DefectMap.empty(SMALL), region=(0, 999, 0, 5))


def test_wse_wafer_map_is_one_pooled_raster_that_keeps_every_dead_core():
    wse = load_design("wse")
    exist = np.flatnonzero(wse.site_exists.reshape(-1))
    dead = np.random.default_rng(1).choice(exist, 500, replace=False)
    fig = views.plot_wafer_map(wse, DefectMap(wse.rows, wse.cols, dead))
    ax = fig.axes[0]
    assert len(ax.images) == 1 and len(ax.patches) <= 3  # outline, exclusion ring: no patch per core
    raster = np.asarray(ax.images[0].get_array())
    assert max(raster.shape) <= 700 and (raster == DEAD).sum() == 500  # pooled, none lost
    assert _legend_outside(fig, ax)


def test_max_pool_keeps_the_most_severe_site():
    a = np.zeros((10, 10), np.int8)
    a[3, 7] = DEAD
    assert views.wafer_map.max_pool(a, 4)[0, 1] == DEAD


def test_stacked_map():
    freq, n = views.stack_frequency(SMALL, [[0, 1], [0], []])
    assert n == 3 and freq.flat[0] == pytest.approx(2 / 3) and np.nanmax(freq) == pytest.approx(2 / 3)
    fig = views.plot_stacked_map(SMALL, freq, n)
    assert len(fig.axes) == 2 and fig.axes[0].images[0].get_array().max() == pytest.approx(2 / 3)


def test_gallery_shared_legend():
    frame = pd.DataFrame({"wafer": [f"W{k}" for k in range(7)], "dead_sites": [np.array([k]) for k in range(7)],
                          "mapped_out": [np.array([100 + k]) for k in range(7)], "label": "random"})
    fig = views.plot_wafer_gallery(SMALL, frame, ncols=4)
    visible = [a for a in fig.axes if a.get_visible()]
    assert len(visible) == 7 and all(a.get_legend() is None for a in visible) and len(fig.legends) == 1
    assert visible[0].get_title().startswith("W0 random")


def test_waterfall_plot_bars():
    fig = views.plot_waterfall(views.waterfall_steps(SMALL, 10, 3))
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == [4352, 0, 10, 243, 3, 4096]


def test_pareto_plot():
    frame = pd.DataFrame({"fault_class": ["thermal", "sram"], "count": [3, 6], "share": [1 / 3, 2 / 3],
                          "cumulative_share": [1.0, 2 / 3]})
    fig = views.plot_pareto(frame)
    assert [p.get_height() for p in fig.axes[0].patches] == [6, 3]  # most frequent first


def test_failures_per_hour_with_fitted_hazard():
    fit = WeibullFitter().fit([1.0, 2.0, 3.0, 5.0, 8.0, 13.0], [1, 1, 1, 1, 1, 0])
    frame = pd.DataFrame({"bin_start_h": [0.0, 2.0], "bin_end_h": [2.0, 4.0], "fault_class": "sram",
                          "failures": [10, 4]})
    fig = views.plot_failures_per_hour(frame, fits={"sram": fit}, units_at_risk=100)
    ax = fig.axes[0]
    assert ax.patches[0].get_data()[0].tolist() == [5.0, 2.0]  # failures per hour
    t, y = ax.lines[0].get_data()
    np.testing.assert_allclose(y, 100 * fit.hazard(t))
    with pytest.raises(ValueError):
        views.plot_failures_per_hour(frame, fits={"sram": fit})


def test_weibull_bounds_cover_the_fit():
    rng = np.random.default_rng(2)
    times = 50 * rng.weibull(0.7, 80)
    fit = WeibullFitter().fit(np.minimum(times, 100), times < 100)
    t = np.geomspace(1, 100, 20)
    f, lo, hi = views.weibull_bounds(fit, t)
    np.testing.assert_allclose(f, fit.cdf(t))
    assert np.all(lo < f) and np.all(f < hi)
    fig = views.plot_weibull_probability(fit)
    assert fig.axes[0].get_xscale() == "log"


def test_commonality_and_control_chart_plots():
    runs = pd.DataFrame({"station": ["S1", "S2"] * 10, "failures": [9, 2] * 10, "hours": 24.0})
    fig = views.plot_commonality(views.commonality(runs, ["station"]), runs)
    assert [p.get_height() for p in fig.axes[1].patches] == pytest.approx([180 / 110, 40 / 110])
    chart = views.p_chart(pd.DataFrame({"period": list("ABCDEFGH"), "cores_failed": [10, 11, 9, 10, 25, 10, 9, 11],
                                        "cores_tested": 1000}))
    fig = views.plot_control_chart(chart)
    assert [t.get_text() for t in fig.axes[0].texts] == ["1"]


def test_legend_in_callers_axes_is_outside_them():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 5), layout="constrained")
    ax = fig.add_subplot()
    views.plot_wafer_map(SMALL, DefectMap(SMALL.rows, SMALL.cols, [3]), ax)
    assert not fig.legends and _legend_outside(fig, ax)
