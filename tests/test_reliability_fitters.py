"""The fitters against lifelines, surpyval and scipy.stats on their own example datasets.

The reference numbers are computed by the libraries in the test. lifelines
reports its fits to about 6 significant digits of agreement between
optimizers; the comparisons use rel=1e-4 on parameters and standard errors
and abs=1e-4 on the log-likelihood.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import surpyval
from lifelines import ExponentialFitter as LExponential
from lifelines import LogNormalFitter as LLogNormal
from lifelines import WeibullFitter as LWeibull
from lifelines.datasets import load_diabetes, load_waltons
from scipy import stats

from yieldkit.reliability import (
    ExponentialFitter,
    GammaFitter,
    LifeData,
    LogNormalFitter,
    Weibull3Fitter,
    WeibullFitter,
)

REL = 1e-4


@pytest.fixture(scope="module")
def waltons() -> LifeData:
    w = load_waltons()
    return LifeData.from_durations(w["T"].to_numpy(), w["E"].to_numpy())


@pytest.fixture(scope="module")
def diabetes() -> LifeData:
    d = load_diabetes()
    return LifeData.from_intervals(d["left"].to_numpy(float), d["right"].to_numpy(float))


# ours, lifelines', {our parameter: lifelines parameter}
PAIRS = [
    (WeibullFitter, LWeibull, {"beta": "rho_", "eta": "lambda_"}),
    (LogNormalFitter, LLogNormal, {"mu": "mu_", "sigma": "sigma_"}),
    (ExponentialFitter, LExponential, {"eta": "lambda_"}),
]


def _compare(ours, ref, names) -> None:
    assert ours.log_likelihood_ == pytest.approx(ref.log_likelihood_, abs=1e-4)
    se = ref.summary["se(coef)"]
    for mine, theirs in names.items():
        assert ours.params_[mine] == pytest.approx(getattr(ref, theirs), rel=REL)
        assert ours.summary.loc[mine, "se"] == pytest.approx(se[theirs], rel=1e-3)
    assert ours.aic_ == pytest.approx(ref.AIC_, abs=1e-3)


@pytest.mark.parametrize(("ours", "theirs", "names"), PAIRS, ids=lambda p: getattr(p, "__name__", ""))
def test_right_censored_waltons_matches_lifelines(waltons, ours, theirs, names) -> None:
    w = load_waltons()
    _compare(ours().fit(waltons), theirs().fit(w["T"], w["E"]), names)


@pytest.mark.parametrize(("ours", "theirs", "names"), PAIRS, ids=lambda p: getattr(p, "__name__", ""))
def test_interval_censored_diabetes_matches_lifelines(diabetes, ours, theirs, names) -> None:
    d = load_diabetes()
    assert set(diabetes.kind) == {"exact", "interval", "left"}  # the mixed case of burn-in scans
    _compare(ours().fit(diabetes), theirs().fit_interval_censoring(d["left"], d["right"]), names)


def test_gamma_matches_scipy_censored_fit(waltons) -> None:
    ours = GammaFitter().fit(waltons)
    k, _, theta = stats.gamma.fit(waltons.to_censored_data(), floc=0, method="MLE")
    # scipy's generic optimizer stops earlier than ours; compare the likelihoods it reaches
    ll_scipy = stats.gamma.logpdf(waltons.lower_h[waltons.is_exact], k, scale=theta).dot(
        waltons.count[waltons.is_exact]) + stats.gamma.logsf(waltons.lower_h[waltons.is_right], k, scale=theta).dot(
        waltons.count[waltons.is_right])
    assert ours.log_likelihood_ >= ll_scipy - 1e-6
    assert ours.k_ == pytest.approx(k, rel=1e-2)
    assert ours.theta_ == pytest.approx(theta, rel=1e-2)


def test_gamma_matches_surpyval(waltons) -> None:
    w = load_waltons()
    ref = surpyval.Gamma.fit(x=w["T"].to_numpy(), c=1 - w["E"].to_numpy())
    ours = GammaFitter().fit(waltons)
    alpha, beta = ref.params  # surpyval: shape alpha, rate beta
    assert ours.k_ == pytest.approx(alpha, rel=1e-3)
    assert ours.theta_ == pytest.approx(1.0 / beta, rel=1e-3)


def test_weibull_matches_scipy_censored_fit_on_mixed_censoring(diabetes) -> None:
    ours = WeibullFitter().fit(diabetes)
    beta, _, eta = stats.weibull_min.fit(diabetes.to_censored_data(), floc=0)
    assert ours.beta_ == pytest.approx(beta, rel=1e-3)
    assert ours.eta_ == pytest.approx(eta, rel=1e-3)


def test_three_parameter_weibull_matches_surpyval() -> None:
    t = 100.0 + 300.0 * np.random.default_rng(3).weibull(2.5, 30)
    ours = Weibull3Fitter().fit(t)
    ref = surpyval.Weibull.fit(t, offset=True)
    # the likelihood is flat along the location: compare the maxima, then the parameters loosely
    ll_ref = stats.weibull_min.logpdf(t, ref.params[1], loc=ref.gamma, scale=ref.params[0]).sum()
    assert ours.log_likelihood_ == pytest.approx(ll_ref, abs=1e-3)
    assert ours.gamma_ == pytest.approx(ref.gamma, rel=1e-2)
    assert ours.beta_ == pytest.approx(ref.params[1], rel=1e-2)
    assert ours.eta_ == pytest.approx(ref.params[0], rel=1e-2)
    assert ours.log_likelihood_ >= WeibullFitter().fit(t).log_likelihood_


def test_likelihood_ratio_intervals_invert_the_profile(waltons) -> None:
    fisher = WeibullFitter().fit(waltons)
    lr = WeibullFitter().fit(waltons, ci_method="likelihood-ratio")
    assert set(lr.summary["ci_method"]) == {"likelihood-ratio"}
    crit = stats.chi2.ppf(0.95, 1) / 2
    lo, hi = lr.summary.loc["beta", "lower 95%"], lr.summary.loc["beta", "upper 95%"]
    for end in (lo, hi):  # at each end the profile log-likelihood is chi2/2 below the maximum
        prof = -min((-WeibullFitter()._loglik(np.array([end, e]), waltons) for e in
                     np.linspace(0.9, 1.1, 401) * fisher.eta_))
        assert lr.log_likelihood_ - prof == pytest.approx(crit, abs=2e-3)
    # n = 163: the two methods nearly agree
    assert lo == pytest.approx(fisher.summary.loc["beta", "lower 95%"], rel=0.03)
    assert hi == pytest.approx(fisher.summary.loc["beta", "upper 95%"], rel=0.03)


def test_exponential_closed_form_with_censoring(waltons) -> None:
    ef = ExponentialFitter().fit(waltons)
    total = float(np.dot(waltons.count, waltons.lower_h))
    assert ef.eta_ == pytest.approx(total / waltons.n_failures, rel=1e-6)
    assert ef.summary.loc["eta", "se"] == pytest.approx(ef.eta_ / math.sqrt(waltons.n_failures), rel=1e-3)
