"""Clopper-Pearson interval: known values and exact coverage."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from yieldkit.errors import InputError
from yieldkit.stats import clopper_pearson


def test_edges_have_closed_forms() -> None:
    low, high = clopper_pearson(0, 10)
    assert low == 0.0 and high == pytest.approx(1 - 0.025 ** (1 / 10), rel=1e-12)
    low, high = clopper_pearson(10, 10)
    assert high == 1.0 and low == pytest.approx(0.025 ** (1 / 10), rel=1e-12)


def test_known_value_and_symmetry() -> None:
    low, high = clopper_pearson(5, 10)
    assert (round(low, 4), round(high, 4)) == (0.1871, 0.8129)
    low3, high3 = clopper_pearson(3, 20)
    low17, high17 = clopper_pearson(17, 20)
    assert low3 == pytest.approx(1 - high17) and high3 == pytest.approx(1 - low17)


def test_exact_coverage_is_at_least_nominal() -> None:
    n = 30
    k = np.arange(n + 1)
    low, high = clopper_pearson(k, np.full(n + 1, n))
    for p in np.linspace(0.01, 0.99, 99):
        covered = (low <= p) & (p <= high)
        assert stats.binom.pmf(k, n, p)[covered].sum() >= 0.95 - 1e-12


@pytest.mark.parametrize(("args", "parameter"), [
    ((3, 0), "n"), ((3, 2), "k"), ((-1, 5), "k"), ((1.5, 5), "k"), ((1, float("nan")), "n"),
    ((1, 5, 1.0), "confidence"), ((1, 5, float("nan")), "confidence"),
])
def test_bad_arguments_name_the_parameter(args: tuple, parameter: str) -> None:
    with pytest.raises(InputError) as caught:
        clopper_pearson(*args)
    assert caught.value.parameter == parameter
