"""Competing risks: each class is the fit with the other classes' failures censored."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from lifelines import WeibullFitter as LWeibull

from yieldkit.errors import InputError
from yieldkit.reliability import CompetingRisksFitter, LifeData, LogNormalFitter, WeibullFitter, censor_other_causes


@pytest.fixture(scope="module")
def two_modes():
    rng = np.random.default_rng(7)
    n = 300
    t_oxide = 400.0 * rng.weibull(0.7, n)
    t_via = 900.0 * rng.weibull(2.0, n)
    t = np.minimum(t_oxide, t_via)
    end = 1000.0
    event = t < end
    cause = np.where(~event, None, np.where(t_oxide < t_via, "oxide", "via"))
    return np.minimum(t, end), event, cause


def test_each_class_matches_lifelines_with_the_others_censored(two_modes) -> None:
    t, event, cause = two_modes
    cr = CompetingRisksFitter().fit(t, event, cause=cause)
    for c in ("oxide", "via"):
        ref = LWeibull().fit(t, event & (cause == c))
        assert cr.fits_[c].beta_ == pytest.approx(ref.rho_, rel=1e-4)
        assert cr.fits_[c].eta_ == pytest.approx(ref.lambda_, rel=1e-4)
    assert cr.log_likelihood_ == pytest.approx(sum(f.log_likelihood_ for f in cr.fits_.values()))
    assert float(cr.sf(300.0)) == pytest.approx(float(cr.fits_["oxide"].sf(300.0) * cr.fits_["via"].sf(300.0)))


def test_classes_recover_their_true_shapes(two_modes) -> None:
    t, event, cause = two_modes
    s = CompetingRisksFitter().fit(t, event, cause=cause).summary
    for c, beta in (("oxide", 0.7), ("via", 2.0)):
        lo, hi = s.loc[(c, "beta"), "lower 95%"], s.loc[(c, "beta"), "upper 95%"]
        width = hi - lo
        assert lo - width < beta < hi + width  # well inside; coverage itself is tested elsewhere


def test_interval_failures_of_other_classes_are_censored_at_the_last_good_scan() -> None:
    d = LifeData([10.0, 20.0, 0.0, 40.0], [12.0, 25.0, 5.0, math.inf])
    out = censor_other_causes(d, ["a", "b", "b", None], "a")
    assert out.lower_h.tolist() == [10.0, 20.0, 0.0, 40.0]
    assert out.upper_h.tolist() == [12.0, math.inf, math.inf, math.inf]


def test_record_and_plot_data(two_modes) -> None:
    t, event, cause = two_modes
    cr = CompetingRisksFitter(LogNormalFitter).fit(t, event, cause=cause)
    rec = cr.to_dict()
    assert json.loads(json.dumps(rec)) == rec
    assert rec["fault_classes"] == "oxide,via" and "via.sigma" in rec
    plot = cr.probability_plot_data()
    assert set(plot["fault_class"]) == {"oxide", "via"}
    assert "\n" not in repr(cr)


def test_a_failure_without_a_class_is_an_input_error() -> None:
    with pytest.raises(InputError, match="cause"):
        CompetingRisksFitter().fit([1.0, 2.0, 3.0], [1, 1, 0], cause=["a", None, None])
    with pytest.raises(InputError, match="fitter"):
        CompetingRisksFitter(fitter=WeibullFitter())
