"""Burn-in policy: the frontier, the Pareto marks and the choice, checked by brute force."""

from __future__ import annotations

import json

import numpy as np
import pytest

from yieldkit.errors import InputError
from yieldkit.reliability import (
    AccelerationModel,
    BurnInCosts,
    LFPWeibullFitter,
    burn_in_policy,
    defect_population,
    elfr_weibull,
)

ACC = AccelerationModel(activation_energy_ev=0.7, use_temp_c=55.0, use_voltage_v=0.8)
POP = {"p": 1e-3, "beta": 0.4, "eta_h": 1e5}
COSTS = BurnInCosts(oven_per_hour=2.0, fallout_per_unit=10.0, field_failure_per_unit=5000.0, units_per_system=4)
GRID = {"durations_h": [0, 4, 8, 12, 24, 48, 96], "temps_c": [105.0, 125.0], "voltages_v": [0.8, 0.88]}


def _run(target=200.0, **kw):
    return burn_in_policy(POP, ACC, costs=COSTS, field_window_h=8760.0, target_elfr_ppm=target, **{**GRID, **kw})


def test_rows_follow_the_closed_forms() -> None:
    f = _run().frontier
    af = np.array([ACC.af(t, v) for t, v in zip(f["temp_c"], f["voltage_v"], strict=True)])
    np.testing.assert_allclose(f["af"], af, rtol=1e-12)
    b = f["duration_h"].to_numpy() * af
    np.testing.assert_allclose(f["residual_elfr_ppm"], elfr_weibull(1e-3, 0.4, 1e5, 8760.0, b), rtol=1e-10)
    fb = -np.expm1(-(b / 1e5) ** 0.4)
    np.testing.assert_allclose(f["fallout_cost"], 10.0 * 4 * 1e-3 * fb, rtol=1e-10)
    np.testing.assert_allclose(f["total_cost"], f["oven_cost"] + f["fallout_cost"] + f["field_cost"])
    assert (f["duration_h"] == 0).sum() == 1  # no burn-in is one candidate, whatever the conditions


def test_choice_is_the_cheapest_candidate_meeting_the_target() -> None:
    res = _run()
    f = res.frontier
    ok = f[f["residual_elfr_ppm"] <= 200.0]
    assert res.choice is not None and f["chosen"].sum() == 1
    assert res.choice["total_cost"] == pytest.approx(ok["total_cost"].min())
    assert f.loc[f["chosen"], "residual_elfr_ppm"].iloc[0] <= 200.0
    rec = res.to_dict()
    assert json.loads(json.dumps(rec)) == rec and rec["chosen_duration_h"] == res.choice["duration_h"]


def test_pareto_marks_are_the_non_dominated_rows() -> None:
    f = _run().frontier
    c, e = f["total_cost"].to_numpy(), f["residual_elfr_ppm"].to_numpy()
    dominated = [bool(np.any((c <= c[i]) & (e <= e[i]) & ((c < c[i]) | (e < e[i])))) for i in range(len(f))]
    assert f["pareto"].tolist() == [not d for d in dominated]


def test_an_unreachable_target_chooses_nothing_and_says_so() -> None:
    res = _run(target=1e-6)
    assert res.choice is None and not res.frontier["chosen"].any()
    assert "no candidate meets" in res.message
    assert res.to_dict()["chosen_duration_h"] is None


def test_population_from_a_fit_at_stress_conditions() -> None:
    t = np.array([0.2, 0.5, 1.0, 2.0, 3.0, 6.0, 10.0, 20.0, 45.0])
    fit = LFPWeibullFitter().fit(np.append(t, 48.0), event=[1] * 9 + [0], count=[1] * 9 + [9991], ci_method="fisher")
    pop = defect_population(fit, fit_temp_c=125.0, fit_voltage_v=0.88, acceleration=ACC)
    assert pop["eta_h"] == pytest.approx(fit.eta_ * ACC.af(125.0, 0.88))
    res = burn_in_policy(fit, ACC, costs=COSTS, field_window_h=8760.0, target_elfr_ppm=50.0,
                         fit_temp_c=125.0, fit_voltage_v=0.88, **GRID)
    same = burn_in_policy(pop, ACC, costs=COSTS, field_window_h=8760.0, target_elfr_ppm=50.0, **GRID)
    np.testing.assert_allclose(res.frontier["total_cost"], same.frontier["total_cost"])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"durations_h": [-1.0]}, "durations_h"),
    ({"voltages_v": [0.0]}, "voltages_v"),
    ({"target": 0.0}, "target_elfr_ppm"),
])
def test_invalid_policy_inputs(kwargs, match) -> None:
    with pytest.raises(InputError, match=match):
        _run(**kwargs)
    with pytest.raises(InputError, match="oven_per_hour"):
        BurnInCosts(oven_per_hour=-1.0, fallout_per_unit=0.0, field_failure_per_unit=0.0)
    with pytest.raises(InputError, match="eta_h"):
        defect_population({"p": 0.1, "beta": 1.0})
