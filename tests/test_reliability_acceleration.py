"""Acceleration factors against their closed forms (computed here from the formulas)."""

from __future__ import annotations

import math

import pytest

from burnin.fault_model import FaultModel
from yieldkit.errors import InputError
from yieldkit.reliability import (
    BOLTZMANN_EV_PER_K,
    AccelerationModel,
    arrhenius_af,
    combined_af,
    eyring_af,
    inverse_power_law_af,
    voltage_af_exponential,
    voltage_af_power,
)

K = 8.617333262e-5


def test_eyring_is_arrhenius_times_the_temperature_ratio() -> None:
    t_use, t_stress = 55.0 + 273.15, 150.0 + 273.15
    expected = t_stress / t_use * math.exp(0.8 / K * (1 / t_use - 1 / t_stress))
    assert float(eyring_af(0.8, 55.0, 150.0)) == pytest.approx(expected, rel=1e-12)


def test_inverse_power_law_is_the_power_voltage_law() -> None:
    assert float(inverse_power_law_af(3.0, 2.0, 5.0)) == pytest.approx((5.0 / 2.0) ** 3, rel=1e-12)
    assert inverse_power_law_af is voltage_af_power


def test_combined_factor_is_the_product() -> None:
    expected = math.exp(0.7 / K * (1 / 328.15 - 1 / 398.15)) * math.exp(10.0 * (0.9 - 0.8))
    assert float(combined_af(55.0, 125.0, 0.8, 0.9)) == pytest.approx(expected, rel=1e-12)
    power = combined_af(55.0, 125.0, 0.8, 0.9, voltage_law="power", voltage_exponent=8.0,
                        temperature_law="eyring", activation_energy_ev=0.9)
    assert float(power) == pytest.approx(float(eyring_af(0.9, 55.0, 125.0) * (0.9 / 0.8) ** 8), rel=1e-12)
    assert float(combined_af(55.0, 125.0, 0.8, 0.9, temperature_law="none", voltage_law="none")) == 1.0


def test_acceleration_model_matches_the_fault_model_of_the_burn_in_simulator() -> None:
    fm = FaultModel()
    am = AccelerationModel(activation_energy_ev=fm.activation_energy_ev, use_temp_c=fm.reference_temp_c,
                           use_voltage_v=fm.reference_voltage_v, voltage_law=fm.voltage_model,
                           voltage_gamma_per_v=fm.voltage_gamma_per_v)
    assert am.af(125.0, 0.88) == pytest.approx(fm.acceleration(125.0, 0.88), rel=1e-12)
    assert am.to_dict()["use_temp_c"] == 55.0
    assert BOLTZMANN_EV_PER_K == K
    assert float(arrhenius_af(0.7, 55.0, 125.0) * voltage_af_exponential(10.0, 0.8, 0.88)) == pytest.approx(
        am.af(125.0, 0.88), rel=1e-12)


@pytest.mark.parametrize(("kwargs", "parameter"), [
    ({"temperature_law": "peck"}, "temperature_law"),
    ({"voltage_law": "linear"}, "voltage_law"),
    ({"activation_energy_ev": -0.1}, "activation_energy_ev"),
    ({"use_voltage_v": 0.0}, "use_voltage_v"),
    ({"use_temp_c": -300.0}, "use_temp_c"),
])
def test_invalid_models_name_the_parameter(kwargs, parameter) -> None:
    with pytest.raises(InputError) as err:
        AccelerationModel(**kwargs)
    assert err.value.parameter == parameter
