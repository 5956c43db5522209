"""Stress acceleration models: Arrhenius, Eyring, inverse power law, exponential voltage.

Pure functions of the use and stress conditions. An acceleration factor
``AF`` converts hours at stress into equivalent hours at use conditions:
``t_use = AF * t_stress``. The combined factor of independent temperature and
voltage mechanisms is the product ``AF = AF_T * AF_V`` (JEDEC JESD85,
JEP122). :class:`AccelerationModel` bundles one temperature and one voltage
law with their reference (use) conditions, for the rate and burn-in policy
functions.

Everything here is closed-form numpy; no library is needed.

References
----------
JEDEC JESD85, "Methods for Calculating Failure Rates in Units of FITs" (2001).
JEDEC JEP122, "Failure Mechanisms and Models for Semiconductor Devices".
W. Nelson, *Accelerated Testing: Statistical Models, Test Plans and Data
Analyses*, Wiley 1990, chapter 2 (Arrhenius, Eyring, inverse power law).
W. Q. Meeker, L. A. Escobar, *Statistical Methods for Reliability Data*,
Wiley 1998, chapter 18.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from yieldkit.errors import InputError

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


def eyring_af(activation_energy_ev, use_temp_c, stress_temp_c):
    """Eyring temperature acceleration factor [-].

    The Eyring life model ``L(T) = (A / T) exp(Ea / (k T))`` gives
    ``AF_T = (T_stress / T_use) * exp(Ea / k * (1 / T_use - 1 / T_stress))``
    (temperatures in kelvin): the Arrhenius factor times the ratio of the
    absolute temperatures.

    Parameters
    ----------
    activation_energy_ev : float or array_like
        Activation enthalpy Ea [eV].
    use_temp_c, stress_temp_c : float or array_like
        Temperature at use and at stress [degC].

    Returns
    -------
    float or ndarray
        AF_T [-].

    References
    ----------
    Nelson (1990), section 2.9; Meeker & Escobar (1998), section 18.3.

    Examples
    --------
    >>> round(float(eyring_af(0.7, 55.0, 125.0) / arrhenius_af(0.7, 55.0, 125.0)), 4)
    1.2133
    """
    t_use = np.asarray(use_temp_c, dtype=float) + KELVIN_OFFSET
    t_stress = np.asarray(stress_temp_c, dtype=float) + KELVIN_OFFSET
    return t_stress / t_use * arrhenius_af(activation_energy_ev, use_temp_c, stress_temp_c)


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
    """Power-law (inverse power law) voltage acceleration factor [-].

    The inverse power law life model ``L(V) = A / V ** n`` gives
    ``AF_V = (V_stress / V_use) ** n``.

    Parameters
    ----------
    exponent : float or array_like
        Power-law exponent n [-].
    use_voltage_v, stress_voltage_v : float or array_like
        Supply voltage (or any positive stress) at use and at stress [V]; > 0.

    Returns
    -------
    float or ndarray
        AF_V [-].

    References
    ----------
    JEDEC JEP122 (power-law voltage model of oxide breakdown); Nelson (1990),
    section 2.8 (inverse power law).

    Examples
    --------
    >>> float(voltage_af_power(2.0, 1.0, 2.0))
    4.0
    """
    ratio = np.asarray(stress_voltage_v, float) / np.asarray(use_voltage_v, float)
    return ratio ** np.asarray(exponent, float)


inverse_power_law_af = voltage_af_power
"""The inverse power law acceleration factor ``(S_stress / S_use) ** n``; same function as :func:`voltage_af_power`."""

_TEMPERATURE_LAWS = ("arrhenius", "eyring", "none")
_VOLTAGE_LAWS = ("exponential", "power", "none")


def combined_af(use_temp_c, stress_temp_c, use_voltage_v, stress_voltage_v, *, activation_energy_ev=0.7,
                temperature_law="arrhenius", voltage_law="exponential", voltage_gamma_per_v=10.0,
                voltage_exponent=8.0):
    """Combined temperature-voltage acceleration factor ``AF = AF_T * AF_V`` [-].

    Parameters
    ----------
    use_temp_c, stress_temp_c : float or array_like
        Temperature at use and at stress [degC].
    use_voltage_v, stress_voltage_v : float or array_like
        Supply voltage at use and at stress [V].
    activation_energy_ev : float
        Ea [eV] of the temperature law.
    temperature_law : {"arrhenius", "eyring", "none"}
        Temperature law; "none" makes AF_T = 1.
    voltage_law : {"exponential", "power", "none"}
        Voltage law; "none" makes AF_V = 1.
    voltage_gamma_per_v : float
        gamma [1/V] of the exponential law.
    voltage_exponent : float
        n [-] of the power law.

    Returns
    -------
    float or ndarray
        AF [-].

    References
    ----------
    JEDEC JESD85 (2001); JEDEC JEP122.

    Examples
    --------
    >>> af = combined_af(55.0, 125.0, 0.8, 0.9)
    >>> round(float(af / arrhenius_af(0.7, 55.0, 125.0)), 4)
    2.7183
    """
    if temperature_law not in _TEMPERATURE_LAWS:
        raise InputError(f"must be one of {_TEMPERATURE_LAWS}, got {temperature_law!r}", parameter="temperature_law")
    if voltage_law not in _VOLTAGE_LAWS:
        raise InputError(f"must be one of {_VOLTAGE_LAWS}, got {voltage_law!r}", parameter="voltage_law")
    if temperature_law == "arrhenius":
        af_t = arrhenius_af(activation_energy_ev, use_temp_c, stress_temp_c)
    elif temperature_law == "eyring":
        af_t = eyring_af(activation_energy_ev, use_temp_c, stress_temp_c)
    else:
        af_t = np.ones_like(np.asarray(stress_temp_c, float))
    if voltage_law == "exponential":
        af_v = voltage_af_exponential(voltage_gamma_per_v, use_voltage_v, stress_voltage_v)
    elif voltage_law == "power":
        af_v = voltage_af_power(voltage_exponent, use_voltage_v, stress_voltage_v)
    else:
        af_v = np.ones_like(np.asarray(stress_voltage_v, float))
    return af_t * af_v


@dataclass(frozen=True)
class AccelerationModel:
    """A temperature law and a voltage law relative to use (reference) conditions.

    Parameters
    ----------
    activation_energy_ev : float
        Ea [eV]; 0.7 eV, the JESD85 default for an unknown mechanism.
    use_temp_c : float
        Use junction temperature [degC]; 55 degC.
    use_voltage_v : float
        Use supply voltage [V].
    temperature_law : {"arrhenius", "eyring", "none"}
    voltage_law : {"exponential", "power", "none"}
    voltage_gamma_per_v : float
        gamma [1/V] of the exponential law.
    voltage_exponent : float
        n [-] of the power law.

    Examples
    --------
    >>> m = AccelerationModel(use_temp_c=55.0, use_voltage_v=0.8)
    >>> m.af(55.0, 0.8)
    1.0
    >>> round(m.af(125.0, 0.8), 1)
    77.6
    """

    activation_energy_ev: float = 0.7
    use_temp_c: float = 55.0
    use_voltage_v: float = 0.8
    temperature_law: str = "arrhenius"
    voltage_law: str = "exponential"
    voltage_gamma_per_v: float = 10.0
    voltage_exponent: float = 8.0

    def __post_init__(self) -> None:
        if self.temperature_law not in _TEMPERATURE_LAWS:
            raise InputError(f"must be one of {_TEMPERATURE_LAWS}, got {self.temperature_law!r}",
                             parameter="temperature_law")
        if self.voltage_law not in _VOLTAGE_LAWS:
            raise InputError(f"must be one of {_VOLTAGE_LAWS}, got {self.voltage_law!r}", parameter="voltage_law")
        for name in ("activation_energy_ev", "voltage_gamma_per_v", "voltage_exponent"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise InputError(f"must be finite and >= 0, got {v!r}", parameter=name)
        if not (math.isfinite(self.use_temp_c) and self.use_temp_c > -KELVIN_OFFSET):
            raise InputError(f"must be above 0 K, got {self.use_temp_c!r}", parameter="use_temp_c")
        if not (math.isfinite(self.use_voltage_v) and self.use_voltage_v > 0):
            raise InputError(f"must be finite and > 0, got {self.use_voltage_v!r}", parameter="use_voltage_v")

    def af(self, stress_temp_c, stress_voltage_v):
        """Acceleration factor of the stress conditions relative to use [-] (float for scalar input)."""
        out = combined_af(self.use_temp_c, stress_temp_c, self.use_voltage_v, stress_voltage_v,
                          activation_energy_ev=self.activation_energy_ev, temperature_law=self.temperature_law,
                          voltage_law=self.voltage_law, voltage_gamma_per_v=self.voltage_gamma_per_v,
                          voltage_exponent=self.voltage_exponent)
        return float(out) if np.ndim(out) == 0 else out

    def to_dict(self) -> dict:
        """The parameters as a flat JSON-safe dict."""
        return asdict(self)
