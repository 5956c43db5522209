"""Accelerated life test fits against lifelines' AFT regressions (the log-linear scale with a covariate)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from lifelines import LogNormalAFTFitter, WeibullAFTFitter
from lifelines.datasets import load_rossi

from yieldkit.errors import InputError
from yieldkit.reliability import (
    BOLTZMANN_EV_PER_K,
    KELVIN_OFFSET,
    ALTFitter,
    LifeData,
    arrhenius_af,
    voltage_af_power,
)


def _arrhenius_data(seed=2, ea=0.9, beta=1.4, end=3000.0):
    rng = np.random.default_rng(seed)
    temp = np.repeat([110.0, 130.0, 150.0, 170.0], 50)
    eta = np.exp(-19.0 + ea / (BOLTZMANN_EV_PER_K * (temp + KELVIN_OFFSET)))
    t = eta * rng.weibull(beta, temp.size)
    return np.minimum(t, end), t < end, temp


def _lifelines_frame(t, event, x):
    return pd.DataFrame({"T": t, "E": event.astype(int), "x": x})


def test_weibull_arrhenius_matches_lifelines_weibull_aft() -> None:
    t, event, temp = _arrhenius_data()
    fit = ALTFitter("weibull", "arrhenius").fit(t, event, temp_c=temp)
    x = 1.0 / (BOLTZMANN_EV_PER_K * (temp + KELVIN_OFFSET))
    ref = WeibullAFTFitter().fit(_lifelines_frame(t, event, x), "T", "E")
    p = ref.params_
    assert fit.Ea_ == pytest.approx(p[("lambda_", "x")], rel=1e-4)
    assert fit.beta_ == pytest.approx(math.exp(p[("rho_", "Intercept")]), rel=1e-4)
    assert fit.log_likelihood_ == pytest.approx(ref.log_likelihood_, abs=1e-4)
    se = ref.summary["se(coef)"]
    assert fit.summary.loc["Ea", "se"] == pytest.approx(se[("lambda_", "x")], rel=1e-3)
    # the scale at the centre stress is lifelines' linear predictor there
    eta_c = math.exp(p[("lambda_", "Intercept")] + p[("lambda_", "x")] * np.mean(x))
    assert fit.scale_center_ == pytest.approx(eta_c, rel=1e-4)


def test_lognormal_power_matches_lifelines_lognormal_aft() -> None:
    rng = np.random.default_rng(4)
    volt = np.repeat([1.0, 1.1, 1.2, 1.3], 40)
    mu = 30.0 - 12.0 * np.log(volt) - 23.0
    t = np.exp(mu + 0.8 * rng.standard_normal(volt.size))
    end = 5000.0
    event = t < end
    fit = ALTFitter("lognormal", "power").fit(np.minimum(t, end), event, voltage_v=volt)
    ref = LogNormalAFTFitter().fit(_lifelines_frame(np.minimum(t, end), event, np.log(volt)), "T", "E")
    p = ref.params_
    assert fit.n_ == pytest.approx(-p[("mu_", "x")], rel=1e-4)
    assert fit.sigma_ == pytest.approx(math.exp(p[("sigma_", "Intercept")]), rel=1e-4)
    assert fit.log_likelihood_ == pytest.approx(ref.log_likelihood_, abs=1e-4)


def test_exponential_life_stress_on_the_rossi_dataset_matches_lifelines() -> None:
    # lifelines' own example: Weibull AFT of weeks to re-arrest on age; "age" plays the stress
    rossi = load_rossi()
    ref = WeibullAFTFitter().fit(rossi[["week", "arrest", "age"]], "week", "arrest")
    fit = ALTFitter("weibull", "exponential").fit(rossi["week"].to_numpy(float), rossi["arrest"].to_numpy(),
                                                  voltage_v=rossi["age"].to_numpy(float))
    assert fit.gamma_ == pytest.approx(-ref.params_[("lambda_", "age")], rel=1e-4)
    assert fit.beta_ == pytest.approx(math.exp(ref.params_[("rho_", "Intercept")]), rel=1e-4)
    assert fit.log_likelihood_ == pytest.approx(ref.log_likelihood_, abs=1e-4)


def test_extrapolation_to_use_conditions() -> None:
    t, event, temp = _arrhenius_data()
    fit = ALTFitter("weibull", "arrhenius").fit(t, event, temp_c=temp)
    use = fit.predict(temp_c=55.0)
    af = float(arrhenius_af(fit.Ea_, 55.0, fit.center_["temp_c"]))
    assert use["estimate"].iloc[0] == pytest.approx(fit.scale_center_ * af, rel=1e-9)
    assert use["lower"].iloc[0] < use["estimate"].iloc[0] < use["upper"].iloc[0]
    # farther from the data, wider (on the log scale)
    far = fit.predict(temp_c=25.0)
    assert (math.log(far["upper"].iloc[0] / far["lower"].iloc[0])
            > math.log(use["upper"].iloc[0] / use["lower"].iloc[0]))
    # the B10 life: eta * (-ln 0.9) ** (1 / beta)
    b10 = fit.predict(temp_c=55.0, q=0.1)["estimate"].iloc[0]
    assert b10 == pytest.approx(use["estimate"].iloc[0] * (-math.log(0.9)) ** (1 / fit.beta_), rel=1e-9)
    acc = fit.acceleration_factor({"temp_c": 55.0}, {"temp_c": 150.0})
    assert acc["estimate"] == pytest.approx(float(arrhenius_af(fit.Ea_, 55.0, 150.0)), rel=1e-9)
    assert acc["lower"] < acc["estimate"] < acc["upper"]
    assert abs(fit.Ea_ - 0.9) < 4.5 * fit.summary.loc["Ea", "se"]


def test_combined_temperature_voltage_model() -> None:
    rng = np.random.default_rng(9)
    temp = np.tile(np.repeat([125.0, 150.0], 40), 2)
    volt = np.repeat([0.9, 1.1], 80)
    ea, n = 0.7, 10.0
    eta = 1e3 * arrhenius_af(ea, temp, 150.0) * voltage_af_power(n, volt, 1.1)  # life at (T, V)
    t = eta * rng.weibull(1.5, temp.size)
    fit = ALTFitter("weibull", "arrhenius-power").fit(t, temp_c=temp, voltage_v=volt)
    assert abs(fit.Ea_ - ea) < 4.5 * fit.summary.loc["Ea", "se"]
    assert abs(fit.n_ - n) < 4.5 * fit.summary.loc["n", "se"]
    af = fit.acceleration_factor({"temp_c": 55.0, "voltage_v": 0.8}, {"temp_c": 150.0, "voltage_v": 1.1})
    assert af["estimate"] == pytest.approx(float(arrhenius_af(fit.Ea_, 55.0, 150.0)
                                                 * voltage_af_power(fit.n_, 0.8, 1.1)), rel=1e-9)
    rec = fit.to_dict()
    assert json.loads(json.dumps(rec)) == rec and rec["life_stress"] == "arrhenius-power"
    plot = fit.probability_plot_data()
    assert {"temp_c", "voltage_v", "fitted_probability"} <= set(plot.columns)


def test_eyring_and_interval_censored_alt() -> None:
    t, event, temp = _arrhenius_data(seed=3)
    scans = np.arange(0.0, 3001.0, 100.0)
    k = np.searchsorted(scans, t)
    lower = np.where(event, scans[k - 1], 3000.0)
    upper = np.where(event, scans[np.minimum(k, scans.size - 1)], np.inf)
    fit = ALTFitter("weibull", "eyring").fit(LifeData.from_intervals(lower, upper), temp_c=temp)
    # Eyring's Ea is Arrhenius's minus about k T (the 1/T prefactor)
    arr = ALTFitter("weibull", "arrhenius").fit(LifeData.from_intervals(lower, upper), temp_c=temp)
    kt = BOLTZMANN_EV_PER_K * (fit.center_["temp_c"] + KELVIN_OFFSET)
    assert fit.Ea_ == pytest.approx(arr.Ea_ - kt, abs=0.02)


def test_alt_input_errors() -> None:
    with pytest.raises(InputError, match="life_stress"):
        ALTFitter("weibull", "peck")
    with pytest.raises(InputError, match="distribution"):
        ALTFitter("gamma", "arrhenius")
    with pytest.raises(InputError, match="temp_c"):
        ALTFitter().fit([1.0, 2.0, 3.0])
    with pytest.raises(InputError, match="two stress levels"):
        ALTFitter().fit([1.0, 2.0, 3.0], temp_c=[125.0, 125.0, 125.0])
    with pytest.raises(InputError, match="voltage_v"):
        ALTFitter(life_stress="power").fit([1.0, 2.0, 3.0], voltage_v=[1.0, -1.0, 2.0])
