"""Simulation: censored data from known parameters; the 95 % intervals contain the truth at their rate.

Burn-in-like data: Weibull times of infant mortality (shape < 1), scanned
every 25 h up to 500 h (interval-censored failures, right-censored
survivors). With R replications the observed coverage of a 95 % interval is
binomial; the test accepts it within ``Z`` binomial standard errors of 0.95
(tests/stat_tolerance.py), so a correct method fails it with probability
about 7e-6 while intervals that cover e.g. 80 % fail it surely.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.stat_tolerance import proportion_tolerance
from yieldkit.reliability import LifeData, LogNormalFitter, WeibullFitter

SCANS = np.arange(0.0, 500.1, 25.0)


def _scanned(t: np.ndarray) -> LifeData:
    k = np.searchsorted(SCANS, t)
    failed = k < SCANS.size
    lower = np.where(failed, SCANS[np.maximum(k - 1, 0)], SCANS[-1])
    upper = np.where(failed, SCANS[np.minimum(k, SCANS.size - 1)], np.inf)
    return LifeData.from_intervals(lower, upper)


def _coverage(fitter, draw, truth: dict, reps: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    hits = dict.fromkeys(truth, 0)
    for _ in range(reps):
        s = fitter().fit(_scanned(draw(rng))).summary
        for name, value in truth.items():
            hits[name] += int(s.loc[name, "lower 95%"] <= value <= s.loc[name, "upper 95%"])
    return {name: h / reps for name, h in hits.items()}


@pytest.mark.slow
def test_weibull_fisher_intervals_cover_at_95_percent() -> None:
    reps = 200
    beta, eta = 0.7, 400.0
    cov = _coverage(WeibullFitter, lambda rng: eta * rng.weibull(beta, 60), {"beta": beta, "eta": eta}, reps, 20)
    tol = proportion_tolerance(0.95, reps)
    for name, c in cov.items():
        assert abs(c - 0.95) <= tol, f"{name}: coverage {c:.3f} outside 0.95 +- {tol:.3f}"


@pytest.mark.slow
def test_lognormal_fisher_intervals_cover_at_95_percent() -> None:
    reps = 80
    mu, sigma = np.log(300.0), 1.5
    cov = _coverage(LogNormalFitter, lambda rng: np.exp(mu + sigma * rng.standard_normal(60)),
                    {"mu": mu, "sigma": sigma}, reps, 21)
    tol = proportion_tolerance(0.95, reps)
    for name, c in cov.items():
        assert abs(c - 0.95) <= tol, f"{name}: coverage {c:.3f} outside 0.95 +- {tol:.3f}"
