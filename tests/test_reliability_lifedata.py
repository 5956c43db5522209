"""LifeData: the four censoring kinds, validation, and the errors the fitters raise."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from yieldkit.errors import Failure, InputError
from yieldkit.reliability import (
    ExponentialFitter,
    GammaFitter,
    LFPWeibullFitter,
    LifeData,
    LogNormalFitter,
    Weibull3Fitter,
    WeibullFitter,
)
from yieldkit.reliability.distributions import DISTRIBUTIONS

INF = math.inf


def test_kinds_and_counts() -> None:
    d = LifeData([5.0, 0.0, 2.0, 7.0], [5.0, 3.0, 4.0, INF], count=[2, 1, 3, 10])
    assert d.kind.tolist() == ["exact", "left", "interval", "right"]
    assert (d.n_units, d.n_failures) == (16, 6)
    assert not d.only_exact_or_right
    assert repr(d) == "LifeData(16 units: 2 exact, 10 right, 1 left, 3 interval)"
    cd = d.to_censored_data()
    assert isinstance(cd, stats.CensoredData) and cd.num_censored() == 14 and len(cd) == 16


def test_from_durations_marks_survivors_right_censored() -> None:
    d = LifeData.from_durations([10.0, 20.0], [True, False])
    assert d.upper_h.tolist() == [10.0, INF]
    assert LifeData.from_durations([1.0, 2.0], [1, 0]).kind.tolist() == ["exact", "right"]


@pytest.mark.parametrize(("lower", "upper", "count", "parameter"), [
    ([-1.0], [2.0], None, "lower_h"),
    ([3.0], [2.0], None, "upper_h"),
    ([float("nan")], [2.0], None, "lower_h"),
    ([1.0], [float("nan")], None, "upper_h"),
    ([1.0, 2.0], [2.0], None, "upper_h"),
    ([], [], None, "lower_h"),
    ([1.0], [2.0], [0], "count"),
    ([1.0], [2.0], [1.5], "count"),
    ([0.0], [0.0], None, "upper_h"),
])
def test_invalid_input_names_the_parameter(lower, upper, count, parameter) -> None:
    with pytest.raises(InputError) as err:
        LifeData(lower, upper, count)
    assert err.value.parameter == parameter


def test_invalid_durations() -> None:
    with pytest.raises(InputError, match="time_h"):
        LifeData.from_durations([-1.0, 2.0], [1, 1])
    with pytest.raises(InputError, match="event"):
        LifeData.from_durations([1.0, 2.0], [1, 2])


@pytest.mark.parametrize("fitter", [WeibullFitter, LogNormalFitter, ExponentialFitter, GammaFitter,
                                    Weibull3Fitter, LFPWeibullFitter])
def test_a_fit_without_failures_is_an_input_error(fitter) -> None:
    with pytest.raises(InputError, match="failure"):
        fitter().fit([10.0, 20.0, 30.0], [0, 0, 0])


def test_non_converging_fits_raise_failure_naming_the_distribution() -> None:
    # all failures at one time: the Weibull shape runs off to infinity
    with pytest.raises(Failure, match="weibull"):
        WeibullFitter().fit([5.0, 5.0, 5.0, 5.0])
    # shape < 1 data: the 3-parameter likelihood is unbounded at the first failure
    t = 100.0 + 50.0 * np.random.default_rng(0).weibull(0.5, 40)
    with pytest.raises(Failure, match="weibull3"):
        Weibull3Fitter().fit(t)


def test_bad_options_are_input_errors() -> None:
    with pytest.raises(InputError, match="ci_method"):
        WeibullFitter().fit([1.0, 2.0, 3.0], ci_method="bootstrap")
    with pytest.raises(InputError, match="alpha"):
        WeibullFitter(alpha=1.5)
    with pytest.raises(Failure, match="not fitted"):
        WeibullFitter().summary  # noqa: B018
    with pytest.raises(Failure, match="not fitted"):
        WeibullFitter().to_dict()


def test_record_protocol_and_repr() -> None:
    d = LifeData([1.0, 2.0, 0.0, 4.0, 6.0], [1.0, 3.0, 2.5, 5.0, INF], count=[3, 2, 1, 2, 5])
    for fitter in (WeibullFitter(), LogNormalFitter(), ExponentialFitter(), GammaFitter()):
        fitter.fit(d)
        rec = fitter.to_dict()
        assert json.loads(json.dumps(rec)) == rec
        assert all(not isinstance(v, (dict, list)) for v in rec.values())
        assert rec["log_likelihood"] == pytest.approx(fitter.log_likelihood_)
        k = len(fitter.params_)
        assert fitter.aic_ == pytest.approx(2 * k - 2 * fitter.log_likelihood_)
        assert fitter.bic_ == pytest.approx(k * math.log(d.n_units) - 2 * fitter.log_likelihood_)
        assert "\n" not in repr(fitter) and repr(fitter).startswith(f"<{type(fitter).__name__}:")
        assert set(fitter.summary["ci_method"]) == {"fisher"}
        plot = fitter.probability_plot_data()
        assert list(plot.columns) == ["time_h", "probability", "method", "fitted_probability"]
        assert (plot["method"] == "turnbull").all()


@pytest.mark.parametrize(("name", "frozen", "params"), [
    ("weibull", lambda b, e: stats.weibull_min(b, scale=e), (0.7, 300.0)),
    ("lognormal", lambda m, s: stats.lognorm(s, scale=math.exp(m)), (4.0, 1.3)),
    ("exponential", lambda e: stats.expon(scale=e), (250.0,)),
    ("gamma", lambda k, th: stats.gamma(k, scale=th), (2.5, 80.0)),
])
def test_closed_forms_match_scipy_stats(name, frozen, params) -> None:
    dist, ref = DISTRIBUTIONS[name], frozen(*params)
    t = np.array([0.5, 3.0, 40.0, 200.0, 900.0])
    np.testing.assert_allclose(dist.logpdf(t, *params), ref.logpdf(t), rtol=1e-10)
    np.testing.assert_allclose(dist.logcdf(t, *params), ref.logcdf(t), rtol=1e-10)
    np.testing.assert_allclose(dist.logsf(t, *params), ref.logsf(t), rtol=1e-10)
    np.testing.assert_allclose(dist.ppf([0.1, 0.5, 0.9], *params), ref.ppf([0.1, 0.5, 0.9]), rtol=1e-10)


def test_percentile_cdf_round_trip() -> None:
    wf = WeibullFitter().fit([120.0, 190.0, 260.0, 300.0, 410.0], [1, 1, 1, 0, 1])
    assert float(wf.cdf(wf.percentile(0.1))) == pytest.approx(0.1, rel=1e-10)
    assert float(wf.sf(wf.eta_)) == pytest.approx(math.exp(-1.0), rel=1e-10)
    assert float(wf.hazard(100.0)) == pytest.approx(wf.beta_ / wf.eta_ * (100.0 / wf.eta_) ** (wf.beta_ - 1))
