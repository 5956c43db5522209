"""Closed-form yield models against known values and identities."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from yieldkit import models
from yieldkit.errors import InputError


def test_poisson_known_value() -> None:
    assert models.poisson_yield(0.5, 2.0) == pytest.approx(math.exp(-1.0), rel=1e-15)


def test_murphy_known_value_and_limit() -> None:
    assert models.murphy_yield(1.0, 1.0) == pytest.approx((1 - math.exp(-1)) ** 2, rel=1e-14)
    assert models.murphy_yield(0.0, 5.0) == 1.0
    assert models.murphy_yield(1e-9, 1.0) == pytest.approx(1.0, abs=1e-8)


def test_seeds_known_value() -> None:
    assert models.seeds_yield(2.0, 2.0) == pytest.approx(math.exp(-2.0), rel=1e-15)


def test_negative_binomial_known_values_and_poisson_limit() -> None:
    assert models.negative_binomial_yield(1.0, 2.0, 2.0) == pytest.approx(0.25, rel=1e-15)
    assert models.negative_binomial_yield(1.0, 3.0, 1.0) == pytest.approx(0.25, rel=1e-15)
    assert models.negative_binomial_yield(0.3, 2.0, 1e9) == pytest.approx(models.poisson_yield(0.3, 2.0), rel=1e-7)


def test_bose_einstein_one_layer_is_nb_alpha_one() -> None:
    ad = np.linspace(0, 5, 11)
    np.testing.assert_allclose(models.bose_einstein_yield(ad, 1.0, 1), models.negative_binomial_yield(ad, 1.0, 1.0))
    assert models.bose_einstein_yield(1.0, 1.0, 3) == pytest.approx(1 / 8)


def test_murphy_is_above_poisson() -> None:
    ad = np.geomspace(1e-3, 20, 50)
    assert np.all(models.murphy_yield(ad, 1.0) >= models.poisson_yield(ad, 1.0))


def test_vectorised_over_arrays_and_series() -> None:
    d0 = pd.Series([0.1, 0.2, 0.4])
    out = models.negative_binomial_yield(d0, 10.0, np.array([[1.0], [2.0]]))
    assert out.shape == (2, 3)
    assert np.all(np.diff(out, axis=1) < 0)


@pytest.mark.parametrize("func", [models.poisson_yield, models.murphy_yield, models.seeds_yield])
def test_negative_inputs_rejected(func) -> None:  # noqa: ANN001
    with pytest.raises(ValueError):
        func(-0.1, 1.0)


def test_site_failure_probability() -> None:
    assert models.site_failure_probability(1.0, 100.0) == pytest.approx(1 - math.exp(-1.0))


def test_row_spare_yield_closed_forms() -> None:
    p = 0.01
    # no spares: every site must live
    assert models.row_spare_yield(p, [5, 7], 0) == pytest.approx((1 - p) ** 12, rel=1e-12)
    # one row of 3 sites, one spare
    assert models.row_spare_yield(p, [3], 1) == pytest.approx((1 - p) ** 3 + 3 * p * (1 - p) ** 2, rel=1e-12)
    # as many spares as sites: always repairable
    assert models.row_spare_yield(0.9, [4, 4], [4, 4]) == pytest.approx(1.0)
    # vector p gives one yield per p, matching scipy's binomial CDF
    ps = np.array([0.001, 0.01, 0.1])
    expected = stats.binom.cdf(2, 50, ps) ** 10
    np.testing.assert_allclose(models.row_spare_yield(ps, np.full(10, 50), 2), expected, rtol=1e-12)


@pytest.mark.parametrize(("call", "parameter"), [
    (lambda: models.poisson_yield(float("nan"), 1.0), "d0_per_cm2"),
    (lambda: models.murphy_yield(0.1, float("inf")), "area_cm2"),
    (lambda: models.seeds_yield(-0.1, 1.0), "d0_per_cm2"),
    (lambda: models.negative_binomial_yield(0.1, 1.0, 0.0), "alpha"),
    (lambda: models.negative_binomial_yield(0.1, 1.0, float("nan")), "alpha"),
    (lambda: models.bose_einstein_yield(0.1, 1.0, 0), "n_layers"),
    (lambda: models.site_failure_probability(float("inf"), 1.0), "d0_per_cm2"),
    (lambda: models.row_spare_yield(1.5, [3], 1), "p_dead"),
    (lambda: models.row_spare_yield(0.1, [3], -1), "spares_per_row"),
])
def test_bad_arguments_are_input_errors_naming_the_parameter(call, parameter: str) -> None:  # noqa: ANN001
    with pytest.raises(InputError) as caught:
        call()
    assert caught.value.parameter == parameter
