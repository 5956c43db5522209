"""Stress acceleration factors: temperature (Arrhenius) and voltage (exponential, power law).

Pure functions of the use and stress conditions. An acceleration factor
``AF`` converts hours at stress into equivalent hours at use conditions:
``t_use = AF * t_stress``. The combined factor of independent mechanisms is
the product ``AF_T * AF_V`` (JEDEC JESD85, JEP122).

References
----------
JEDEC JESD85, "Methods for Calculating Failure Rates in Units of FITs" (2001).
JEDEC JEP122, "Failure Mechanisms and Models for Semiconductor Devices".
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "BOLTZMANN_EV_PER_K",
    "KELVIN_OFFSET",
    "arrhenius_af",
    "voltage_af_exponential",
    "voltage_af_power",
]

BOLTZMANN_EV_PER_K = 8.617333262e-5
"""Boltzmann constant k [eV/K] (CODATA 2018, exact in the 2019 SI)."""

KELVIN_OFFSET = 273.15
"""0 degC in kelvin [K]."""


def arrhenius_af(activation_energy_ev, use_temp_c, stress_temp_c):
    """Arrhenius temperature acceleration factor [-].

    ``AF_T = exp(Ea / k * (1 / T_use - 1 / T_stress))`` with temperatures in
    kelvin, ``k = 8.617333262e-5`` eV/K.

    Parameters
    ----------
    activation_energy_ev : float or array_like
        Activation energy Ea [eV]; 0.7 eV is the JESD85 default when the
        mechanism is unknown.
    use_temp_c, stress_temp_c : float or array_like
        Junction temperature at use and at stress [degC].

    Returns
    -------
    float or ndarray
        AF_T [-]; > 1 when the stress is hotter than use.

    References
    ----------
    JEDEC JESD85 (2001), section 4; JEDEC JEP122.

    Examples
    --------
    >>> round(float(arrhenius_af(0.7, 55.0, 125.0)), 1)
    77.6
    >>> float(arrhenius_af(0.7, 85.0, 85.0))
    1.0
    """
    t_use = np.asarray(use_temp_c, dtype=float) + KELVIN_OFFSET
    t_stress = np.asarray(stress_temp_c, dtype=float) + KELVIN_OFFSET
    return np.exp(np.asarray(activation_energy_ev, float) / BOLTZMANN_EV_PER_K * (1.0 / t_use - 1.0 / t_stress))


def voltage_af_exponential(gamma_per_v, use_voltage_v, stress_voltage_v):
    """Exponential (E-model) voltage acceleration factor [-].

    ``AF_V = exp(gamma * (V_stress - V_use))``.

    Parameters
    ----------
    gamma_per_v : float or array_like
        Voltage acceleration parameter gamma [1/V].
    use_voltage_v, stress_voltage_v : float or array_like
        Supply voltage at use and at stress [V].

    Returns
    -------
    float or ndarray
        AF_V [-].

    References
    ----------
    JEDEC JEP122 (time-dependent dielectric breakdown, E-model).

    Examples
    --------
    >>> round(float(voltage_af_exponential(10.0, 0.8, 0.9)), 4)
    2.7183
    """
    dv = np.asarray(stress_voltage_v, float) - np.asarray(use_voltage_v, float)
    return np.exp(np.asarray(gamma_per_v, float) * dv)


def voltage_af_power(exponent, use_voltage_v, stress_voltage_v):
    """Power-law voltage acceleration factor [-].

    ``AF_V = (V_stress / V_use) ** n``.

    Parameters
    ----------
    exponent : float or array_like
        Power-law exponent n [-].
    use_voltage_v, stress_voltage_v : float or array_like
        Supply voltage at use and at stress [V]; > 0.

    Returns
    -------
    float or ndarray
        AF_V [-].

    References
    ----------
    JEDEC JEP122 (power-law voltage model of oxide breakdown).

    Examples
    --------
    >>> float(voltage_af_power(2.0, 1.0, 2.0))
    4.0
    """
    ratio = np.asarray(stress_voltage_v, float) / np.asarray(use_voltage_v, float)
    return ratio ** np.asarray(exponent, float)
