"""Reliability statistics: censored life-data fits, acceleration, failure rates, burn-in policy.

A library of pure functions and fitter objects, usable from a notebook:

- :mod:`~yieldkit.reliability.lifedata`: :class:`LifeData`, exact, right-,
  left- and interval-censored times in one set.
- :mod:`~yieldkit.reliability.fitters`: maximum likelihood Weibull (2- and
  3-parameter), lognormal, exponential, gamma fitters with Fisher-matrix or
  likelihood-ratio intervals, AIC/BIC and probability-plot data.
- :mod:`~yieldkit.reliability.lfp`: the limited failure population
  (defective subpopulation) Weibull.
- :mod:`~yieldkit.reliability.competing`: competing risks, one fit per fault class.
- :mod:`~yieldkit.reliability.plotting_positions`: Bernard median ranks,
  Kaplan-Meier, Turnbull.
- :mod:`~yieldkit.reliability.acceleration`: Arrhenius, Eyring, inverse
  power law, exponential voltage and combined acceleration factors.
- :mod:`~yieldkit.reliability.alt`: accelerated life test fits with
  extrapolation to use conditions.
- :mod:`~yieldkit.reliability.rates`: FIT with chi-square bounds (JESD85)
  and early-life failure rate (JESD74).
- :mod:`~yieldkit.reliability.policy`: the burn-in duration, temperature and
  voltage meeting a target ELFR at least cost.
- :mod:`~yieldkit.reliability.plotting`: the probability plot of a fit (Weibull
  or lognormal paper, data points, fitted line, confidence bounds);
  ``plot_probability`` and ``confidence_band`` are imported on first use, so
  importing this package does not import matplotlib.

Each module's docstring says which library does what.
"""

from yieldkit.reliability.acceleration import (
    BOLTZMANN_EV_PER_K,
    KELVIN_OFFSET,
    AccelerationModel,
    arrhenius_af,
    combined_af,
    eyring_af,
    inverse_power_law_af,
    voltage_af_exponential,
    voltage_af_power,
)
from yieldkit.reliability.alt import LIFE_STRESS_MODELS, ALTFitter
from yieldkit.reliability.competing import CompetingRisksFitter, censor_other_causes
from yieldkit.reliability.fitters import (
    ExponentialFitter,
    GammaFitter,
    LogNormalFitter,
    ParametricFitter,
    Weibull3Fitter,
    WeibullFitter,
)
from yieldkit.reliability.lfp import LFPWeibullFitter
from yieldkit.reliability.lifedata import LifeData
from yieldkit.reliability.plotting_positions import kaplan_meier, median_ranks, nonparametric_cdf, turnbull
from yieldkit.reliability.policy import BurnInCosts, PolicyResult, burn_in_policy, defect_population
from yieldkit.reliability.rates import (
    FailureRate,
    elfr_constant_rate,
    elfr_from_fit,
    elfr_weibull,
    failure_rate_fit,
    fit_to_per_hour,
    per_hour_to_fit,
)

__all__ = [
    "BOLTZMANN_EV_PER_K",
    "KELVIN_OFFSET",
    "LIFE_STRESS_MODELS",
    "ALTFitter",
    "AccelerationModel",
    "BurnInCosts",
    "CompetingRisksFitter",
    "ExponentialFitter",
    "FailureRate",
    "GammaFitter",
    "LFPWeibullFitter",
    "LifeData",
    "LogNormalFitter",
    "ParametricFitter",
    "PolicyResult",
    "Weibull3Fitter",
    "WeibullFitter",
    "arrhenius_af",
    "burn_in_policy",
    "censor_other_causes",
    "combined_af",
    "defect_population",
    "elfr_constant_rate",
    "elfr_from_fit",
    "elfr_weibull",
    "eyring_af",
    "failure_rate_fit",
    "fit_to_per_hour",
    "inverse_power_law_af",
    "kaplan_meier",
    "median_ranks",
    "nonparametric_cdf",
    "per_hour_to_fit",
    "turnbull",
    "voltage_af_exponential",
    "voltage_af_power",
    "confidence_band",
    "plot_probability",
]

_LAZY = {"plot_probability", "confidence_band"}


def __getattr__(name: str):
    """``plot_probability`` and ``confidence_band`` from :mod:`~yieldkit.reliability.plotting`, imported lazily."""
    if name in _LAZY:
        from yieldkit.reliability import plotting

        return getattr(plotting, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
