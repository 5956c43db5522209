"""Tolerances for Monte-Carlo tests, derived from the sample size.

A test compares an estimate with its exact value within ``Z`` standard
errors; ``Z = 4.5`` makes a false failure a 7e-6 event per comparison, so the
suite stays honest (a wrong model shifts the estimate by many standard
errors at the sample sizes used) and does not flake.
"""

from __future__ import annotations

import math

Z = 4.5


def proportion_tolerance(p: float, n: int) -> float:
    """Z standard errors of a proportion p estimated from n trials."""
    return Z * math.sqrt(max(p * (1.0 - p), 1e-12) / n)


def mean_tolerance(std: float, n: int) -> float:
    """Z standard errors of a mean of n draws of standard deviation std."""
    return Z * std / math.sqrt(n)
