"""FIT and ELFR: chi-square bounds (JESD85, JESD74) and the ELFR of a fitted infant-mortality population."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from yieldkit.errors import InputError
from yieldkit.reliability import (
    LFPWeibullFitter,
    elfr_constant_rate,
    elfr_from_fit,
    elfr_weibull,
    failure_rate_fit,
    fit_to_per_hour,
    per_hour_to_fit,
)


def test_zero_failures_upper_bound_is_chi2_over_two() -> None:
    r = failure_rate_fit(0, 2.5e6, acceleration_factor=40.0, confidence=0.6)
    half_chi2 = stats.chi2.ppf(0.6, 2) / 2  # = -ln(0.4) = 0.916...
    assert half_chi2 == pytest.approx(-math.log(0.4), rel=1e-12)
    assert r.fit_upper == pytest.approx(1e9 * half_chi2 / (2.5e6 * 40.0), rel=1e-12)
    assert (r.failures, r.fit, r.fit_lower) == (0, 0.0, 0.0)
    assert r.mttf_lower_h == pytest.approx(2.5e6 * 40.0 / half_chi2, rel=1e-12)
    assert json.loads(json.dumps(r.to_dict())) == r.to_dict()


def test_failures_and_cells_combine_by_equivalent_hours() -> None:
    r = failure_rate_fit([2, 1], [1e6, 2e6], acceleration_factor=[50.0, 20.0], confidence=0.9)
    eq = 1e6 * 50.0 + 2e6 * 20.0
    assert r.equivalent_device_hours == pytest.approx(eq)
    assert r.fit == pytest.approx(1e9 * 3 / eq)
    assert r.fit_upper == pytest.approx(1e9 * stats.chi2.ppf(0.9, 8) / (2 * eq), rel=1e-12)
    assert r.fit_lower == pytest.approx(1e9 * stats.chi2.ppf(0.1, 6) / (2 * eq), rel=1e-12)
    assert r.fit_lower < r.fit < r.fit_upper


def test_upper_bound_covers_the_true_rate_at_its_confidence() -> None:
    # Poisson counts at a known rate: the one-sided 60 % bound is above the truth in at least 60 % of tests
    rng = np.random.default_rng(0)
    lam, hours, n = 2e-8, 1e8, 4000
    counts = rng.poisson(lam * hours, n)
    upper = {int(c): failure_rate_fit(int(c), hours).fit_upper for c in np.unique(counts)}
    covered = np.mean([upper[int(c)] >= per_hour_to_fit(lam) for c in counts])
    assert covered >= 0.6 - 4.5 * math.sqrt(0.6 * 0.4 / n)


def test_jesd74_elfr_when_the_stress_covers_the_window() -> None:
    n, window = 3000, 8760.0
    r = elfr_constant_rate(1, n, 48.0, window / 48.0, window, confidence=0.6)
    assert r["elfr_ppm"] == pytest.approx(1e6 * stats.chi2.ppf(0.6, 4) / (2 * n), rel=1e-12)
    assert r["elfr_point_ppm"] == pytest.approx(1e6 / n, rel=1e-12)


def test_elfr_of_a_weibull_is_the_conditional_probability() -> None:
    p, beta, eta, w, b = 2e-3, 0.5, 5e4, 8760.0, 2000.0
    F = stats.weibull_min(beta, scale=eta).cdf
    expected = 1e6 * p * (F(b + w) - F(b)) / (1 - p * F(b))
    assert elfr_weibull(p, beta, eta, w, b) == pytest.approx(expected, rel=1e-12)
    # shape < 1: the longer the burn-in, the lower the residual ELFR
    e = elfr_weibull(p, beta, eta, w, np.array([0.0, 100.0, 1000.0, 1e4]))
    assert np.all(np.diff(e) < 0)


def test_elfr_from_a_fit_agrees_with_the_closed_form() -> None:
    t = np.array([0.5, 1.0, 2.0, 4.0, 9.0, 20.0, 40.0, 100.0, 300.0])
    fit = LFPWeibullFitter().fit(np.append(t, 1000.0), event=[1] * 9 + [0], count=[1] * 9 + [4991],
                                 ci_method="fisher")
    r = elfr_from_fit(fit, field_window_h=8760.0, burn_in_equivalent_h=500.0, fit_acceleration_factor=10.0)
    closed = elfr_weibull(fit.p_, fit.beta_, fit.eta_ * 10.0, 8760.0, 500.0)
    assert r["elfr_ppm"] == pytest.approx(closed, rel=1e-9)
    assert r["elfr_upper_ppm"] > r["elfr_ppm"]
    assert fit.p_ == pytest.approx(fit.to_dict()["p"])  # the fit is left as it was


def test_units_and_input_errors() -> None:
    assert fit_to_per_hour(per_hour_to_fit(3e-9)) == pytest.approx(3e-9)
    with pytest.raises(InputError, match="failures"):
        failure_rate_fit(-1, 1e6)
    with pytest.raises(InputError, match="failures"):
        failure_rate_fit(1.5, 1e6)
    with pytest.raises(InputError, match="device_hours"):
        failure_rate_fit(0, 0.0)
    with pytest.raises(InputError, match="confidence"):
        failure_rate_fit(0, 1e6, confidence=1.0)
    with pytest.raises(InputError, match="p"):
        elfr_weibull(0.0, 1.0, 1.0, 1.0)
