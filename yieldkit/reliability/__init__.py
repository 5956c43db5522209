"""Reliability statistics: censored life-data fits, acceleration, failure rates, burn-in policy."""

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

__all__ = [
    "BOLTZMANN_EV_PER_K",
    "KELVIN_OFFSET",
    "AccelerationModel",
    "arrhenius_af",
    "combined_af",
    "eyring_af",
    "inverse_power_law_af",
    "voltage_af_exponential",
    "voltage_af_power",
]
