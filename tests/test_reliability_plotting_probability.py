"""The probability plot: paper, points, fitted line and delta-method bounds; the PNG is written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from yieldkit.reliability import (
    CompetingRisksFitter,
    LFPWeibullFitter,
    LifeData,
    LogNormalFitter,
    WeibullFitter,
    confidence_band,
    plot_probability,
)
from yieldkit.reliability.plotting import paper_of


@pytest.fixture(scope="module")
def weibull_fit() -> WeibullFitter:
    t = 500.0 * np.random.default_rng(1).weibull(0.8, 200)
    return WeibullFitter().fit(np.minimum(t, 400.0), t < 400.0)


def test_the_band_is_the_closed_form_delta_method_of_a_weibull(weibull_fit: WeibullFitter) -> None:
    # on Weibull paper y = beta (ln t - ln eta): gradient in (ln beta, ln eta) is (y, -beta)
    t = np.array([5.0, 50.0, 300.0])
    f, lo, hi = confidence_band(weibull_fit, t)
    beta, eta = weibull_fit.beta_, weibull_fit.eta_
    y = beta * (np.log(t) - np.log(eta))
    cov = weibull_fit.variance_matrix_.to_numpy() / np.outer([beta, eta], [beta, eta])
    grad = np.column_stack([y, -beta * np.ones_like(t)])
    se = np.sqrt(np.einsum("ij,jk,ik->i", grad, cov, grad))
    np.testing.assert_allclose(f, weibull_fit.cdf(t), rtol=1e-12)
    np.testing.assert_allclose(lo, -np.expm1(-np.exp(y - 1.959963984540054 * se)), rtol=1e-5)
    np.testing.assert_allclose(hi, -np.expm1(-np.exp(y + 1.959963984540054 * se)), rtol=1e-5)


def test_the_band_narrows_with_more_data() -> None:
    rng = np.random.default_rng(2)
    small = WeibullFitter().fit(100.0 * rng.weibull(1.5, 20))
    large = WeibullFitter().fit(100.0 * rng.weibull(1.5, 2000))
    width = [np.subtract(*confidence_band(f, [50.0])[2:0:-1]) for f in (small, large)]
    assert width[1] < width[0] / 5


def test_lognormal_fits_go_on_lognormal_paper() -> None:
    t = np.exp(np.random.default_rng(3).normal(4.0, 1.0, 100))
    fit = LogNormalFitter().fit(t)
    assert paper_of(fit) == "lognormal" and paper_of(WeibullFitter()) == "weibull"
    fig = plot_probability(fit)
    ax = fig.axes[0]
    line = next(ln for ln in ax.get_lines() if ln.get_linestyle() == "-")
    x, y = line.get_data()
    np.testing.assert_allclose(y, (np.log(x) - fit.mu_) / fit.sigma_, atol=1e-9)  # a straight line on this paper
    assert "Lognormal" in ax.get_title(loc="left")


def test_the_plot_has_points_line_bounds_and_the_legend_outside(weibull_fit: WeibullFitter, tmp_path: Path) -> None:
    fig = plot_probability(weibull_fit)
    ax = fig.axes[0]
    points = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    lines = [ln for ln in ax.get_lines() if ln.get_linestyle() == "-"]
    assert len(points) == 1 and len(lines) == 1 and len(ax.collections) == 1  # the band
    plot = weibull_fit.probability_plot_data()
    np.testing.assert_allclose(points[0].get_ydata(), np.log(-np.log1p(-plot["probability"].to_numpy())))
    x, y = lines[0].get_data()
    np.testing.assert_allclose(y, weibull_fit.beta_ * (np.log(x) - np.log(weibull_fit.eta_)), atol=1e-9)
    legend = ax.get_legend()
    assert legend is not None and [t.get_text() for t in legend.get_texts()][2].startswith("95% pointwise bounds")
    fig.canvas.draw()
    assert legend.get_window_extent().x0 >= ax.get_window_extent().x1  # beside the axes, never over the data
    path = tmp_path / "weibull.png"
    fig.savefig(path, dpi=80)
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_interval_censored_lfp_and_competing_risks_share_one_axes(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    n = 3000
    t = np.where(rng.random(n) < 0.03, 40.0 * rng.weibull(0.5, n), np.inf)
    scans = np.arange(0.0, 169.0, 12.0)
    k = np.searchsorted(scans, t)
    failed = k < scans.size
    lo = np.where(failed, scans[np.maximum(k - 1, 0)], 168.0)
    hi = np.where(failed, scans[np.minimum(k, scans.size - 1)], np.inf)
    data = LifeData.from_intervals(lo, hi)
    lfp = LFPWeibullFitter().fit(data)
    ax = plot_probability(lfp).axes[0]
    assert "turnbull" in ax.get_legend().get_texts()[0].get_text()
    cause = np.where(failed, np.where(rng.random(n) < 0.5, "oxide", "via"), None)
    cr = CompetingRisksFitter().fit(data, cause=cause)
    fig = plot_probability(cr, title="by class")
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert sum(t.startswith("oxide:") for t in texts) == 3 and sum(t.startswith("via:") for t in texts) == 3
    fig.savefig(tmp_path / "cr.png", dpi=80)


def test_bounds_are_ordered_and_inside_zero_one(weibull_fit: WeibullFitter) -> None:
    t = np.geomspace(0.1, 5000.0, 50)
    f, lo, hi = confidence_band(weibull_fit, t, confidence=0.9)
    assert ((0 < lo) & (lo < f) & (f < hi) & (hi < 1)).all()
    f95, lo95, hi95 = confidence_band(weibull_fit, t)
    assert (lo95 < lo).all() and (hi < hi95).all()


def test_an_alt_fit_has_one_line_per_stress_level_at_that_level() -> None:
    from yieldkit.reliability import BOLTZMANN_EV_PER_K, KELVIN_OFFSET, ALTFitter

    rng = np.random.default_rng(1)
    temp = np.repeat([125.0, 150.0, 175.0], 40)
    t = np.exp(-20.0 + 1.0 / (BOLTZMANN_EV_PER_K * (temp + KELVIN_OFFSET))) * rng.weibull(1.5, temp.size)
    alt = ALTFitter("weibull", "arrhenius").fit(np.minimum(t, 2000.0), t < 2000.0, temp_c=temp)
    ax = plot_probability(alt).axes[0]
    lines = [ln for ln in ax.get_lines() if ln.get_linestyle() == "-"]
    assert len(lines) == 3 and len(ax.collections) == 3
    x, y = lines[2].get_data()
    np.testing.assert_allclose(-np.expm1(-np.exp(y)), alt.cdf_at(x, temp_c=175.0), rtol=1e-9)
    f, lo, hi = confidence_band(alt, [100.0], conditions={"temp_c": 175.0})
    assert lo[0] < f[0] < hi[0]
