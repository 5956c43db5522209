"""Defective-subpopulation (LFP) Weibull against surpyval on Meeker's circuit data, and its likelihood by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import surpyval
from scipy import stats

from tests.stat_tolerance import Z
from yieldkit.reliability import LFPWeibullFitter, LifeData, WeibullFitter


@pytest.fixture(scope="module")
def meeker():
    d = surpyval.datasets.load_meeker_lfp()
    data = LifeData.from_durations(d["x"].to_numpy(float), 1 - d["c"].to_numpy(), d["n"].to_numpy())
    ref = surpyval.Weibull.fit(x=d["x"].to_numpy(), c=d["c"].to_numpy(), n=d["n"].to_numpy(), lfp=True)
    return data, ref


def test_meeker_circuit_data_matches_surpyval(meeker) -> None:
    data, ref = meeker
    fit = LFPWeibullFitter().fit(data, ci_method="fisher")
    assert (data.n_units, data.n_failures) == (4156, 28)
    assert fit.p_ == pytest.approx(ref.lfp_p, rel=1e-3)
    assert fit.eta_ == pytest.approx(ref.params[0], rel=1e-3)
    assert fit.beta_ == pytest.approx(ref.params[1], rel=1e-3)
    assert fit.log_likelihood_ == pytest.approx(ref.log_likelihood, abs=1e-3)
    # Meeker (1987): about 0.7 % of the circuits are defective, with a decreasing hazard
    assert 0.004 < fit.p_ < 0.01 and fit.beta_ < 1


def test_profile_interval_of_p_contains_the_estimate_and_is_asymmetric(meeker) -> None:
    data, _ = meeker
    fit = LFPWeibullFitter().fit(data)
    row = fit.summary.loc["p"]
    assert row["ci_method"] == "likelihood-ratio"
    assert row["lower 95%"] < fit.p_ < row["upper 95%"]
    assert row["upper 95%"] - fit.p_ > fit.p_ - row["lower 95%"]  # skewed towards large p


def test_loglik_matches_the_formula_with_every_censoring_kind() -> None:
    d = LifeData([2.0, 0.0, 3.0, 50.0], [2.0, 4.0, 7.0, math.inf], count=[2, 1, 3, 40])
    p, beta, eta = 0.2, 0.7, 9.0
    F = stats.weibull_min(beta, scale=eta)
    expected = (2 * math.log(p * F.pdf(2.0)) + math.log(p * F.cdf(4.0)) + 3 * math.log(p * (F.cdf(7.0) - F.cdf(3.0)))
                + 40 * math.log(1 - p * F.cdf(50.0)))
    assert LFPWeibullFitter()._loglik(np.array([p, beta, eta]), d) == pytest.approx(expected, rel=1e-12)


def test_p_near_one_reduces_to_the_weibull_and_the_profile_reaches_one() -> None:
    t = 100.0 * np.random.default_rng(5).weibull(1.2, 60)
    lfp = LFPWeibullFitter().fit(t)
    w = WeibullFitter().fit(t)
    assert lfp.p_ > 0.999
    assert lfp.summary.loc["p", "upper 95%"] == pytest.approx(1.0)
    assert lfp.log_likelihood_ == pytest.approx(w.log_likelihood_, abs=1e-3)


def test_interval_censored_lfp_recovers_the_truth() -> None:
    # burn-in scans every 4 h to 96 h, then every 24 h to 480 h; 20 000 cores, 0.5 % defective
    rng = np.random.default_rng(11)
    n, p, beta, eta = 20_000, 0.005, 0.6, 150.0
    defective = rng.random(n) < p
    t = np.where(defective, eta * rng.weibull(beta, n), np.inf)
    scans = np.r_[np.arange(0.0, 96.0, 4.0), np.arange(96.0, 481.0, 24.0)]
    k = np.searchsorted(scans, t)
    failed = k < scans.size
    lower = np.where(failed, scans[np.maximum(k - 1, 0)], scans[-1])
    upper = np.where(failed, scans[np.minimum(k, scans.size - 1)], np.inf)
    fit = LFPWeibullFitter().fit(LifeData.from_intervals(lower, upper))
    for name, truth in (("p", p), ("beta", beta), ("eta", eta)):
        row = fit.summary.loc[name]
        # a 95 % interval; widened to Z standard errors so that one draw cannot flake
        half = (row["upper 95%"] - row["lower 95%"]) / 2 * Z / stats.norm.ppf(0.975)
        assert abs(row["estimate"] - truth) < half, name
