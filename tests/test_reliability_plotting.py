"""Plotting positions: Bernard median ranks, Kaplan-Meier and Turnbull against lifelines and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from lifelines import KaplanMeierFitter
from lifelines.datasets import load_waltons

from yieldkit.errors import InputError
from yieldkit.reliability import LifeData, WeibullFitter, kaplan_meier, median_ranks, nonparametric_cdf, turnbull


def test_bernard_on_complete_data_is_the_closed_form() -> None:
    n = 7
    d = LifeData.from_durations(np.arange(1.0, n + 1), np.ones(n))
    i = np.arange(1, n + 1)
    np.testing.assert_allclose(median_ranks(d)["probability"], (i - 0.3) / (n + 0.4), rtol=1e-12)


def test_johnson_adjusted_ranks_with_suspensions() -> None:
    # failures at 1, 3, 5; suspensions at 2 and 4; n = 5 (Johnson's increment (n + 1 - r) / (1 + units beyond))
    d = LifeData.from_durations([1.0, 2.0, 3.0, 4.0, 5.0], [1, 0, 1, 0, 1])
    r1 = 1.0
    r2 = r1 + (6 - r1) / (1 + 3)
    r3 = r2 + (6 - r2) / (1 + 1)
    out = median_ranks(d)
    np.testing.assert_allclose(out["rank"], [r1, r2, r3], rtol=1e-12)
    np.testing.assert_allclose(out["probability"], (np.array([r1, r2, r3]) - 0.3) / 5.4, rtol=1e-12)


def test_counts_are_units() -> None:
    grouped = LifeData.from_durations([1.0, 2.0, 3.0], [1, 0, 1], count=[2, 3, 1])
    flat = LifeData.from_durations([1.0, 1.0, 2.0, 2.0, 2.0, 3.0], [1, 1, 0, 0, 0, 1])
    pd_g, pd_f = median_ranks(grouped), median_ranks(flat)
    np.testing.assert_allclose(pd_g["probability"], pd_f["probability"])
    np.testing.assert_allclose(kaplan_meier(grouped)["probability"], kaplan_meier(flat)["probability"])


def test_kaplan_meier_matches_lifelines_on_waltons() -> None:
    w = load_waltons()
    ours = kaplan_meier(LifeData.from_durations(w["T"].to_numpy(), w["E"].to_numpy()))
    ref = KaplanMeierFitter().fit(w["T"], w["E"]).survival_function_["KM_estimate"]
    np.testing.assert_allclose(ours["probability"], 1.0 - ref.loc[ours["time_h"]].to_numpy(), rtol=1e-12)


def test_turnbull_is_kaplan_meier_on_right_censored_data() -> None:
    w = load_waltons()
    d = LifeData.from_durations(w["T"].to_numpy(), w["E"].to_numpy())
    km, tb = kaplan_meier(d), turnbull(d)
    np.testing.assert_allclose(tb["time_h"], km["time_h"])
    np.testing.assert_allclose(tb["probability"], km["probability"], atol=1e-7)


def test_turnbull_matches_lifelines_npmle_on_interval_data() -> None:
    # inspection data with distinct scan times (lifelines' closed intervals and our (l, u] then agree)
    rng = np.random.default_rng(0)
    n = 80
    t = 100.0 * rng.weibull(1.5, n)
    first = rng.uniform(0.0, 60.0, n)
    second = first + rng.uniform(5.0, 40.0, n)
    lower = np.where(t <= first, 0.0, np.where(t <= second, first, second))
    upper = np.where(t <= first, first, np.where(t <= second, second, np.inf))
    ours = turnbull(LifeData.from_intervals(lower, upper))
    ref = KaplanMeierFitter().fit_interval_censoring(lower, upper, tol=1e-12).survival_function_
    np.testing.assert_allclose(ours["probability"],
                               1.0 - ref["NPMLE_estimate_lower"].loc[ours["time_h"]].to_numpy(), atol=1e-5)
    assert ours["mass"].sum() <= 1.0 + 1e-9


def test_default_method_follows_the_censoring() -> None:
    assert nonparametric_cdf(LifeData.from_durations([1.0, 2.0], [1, 0]))["method"].iloc[0] == "bernard"
    assert nonparametric_cdf(LifeData([0.0, 1.0], [1.0, 2.0]))["method"].iloc[0] == "turnbull"
    with pytest.raises(InputError, match="turnbull"):
        median_ranks(LifeData([0.0, 1.0], [1.0, 2.0]))
    with pytest.raises(InputError, match="method"):
        nonparametric_cdf(LifeData.from_durations([1.0], [1]), "hazen")


def test_probability_plot_data_of_a_fit_follows_the_fit() -> None:
    t = 500.0 * np.random.default_rng(1).weibull(0.8, 200)
    fit = WeibullFitter().fit(np.minimum(t, 400.0), t < 400.0)
    plot = fit.probability_plot_data()
    assert (plot["method"] == "bernard").all()
    assert plot["time_h"].max() < 400.0
    # 200 units: the median ranks follow the fitted CDF within a few binomial standard errors
    se = np.sqrt(plot["fitted_probability"] * (1 - plot["fitted_probability"]) / 200)
    assert (np.abs(plot["probability"] - plot["fitted_probability"]) < 4.5 * se + 0.01).all()
