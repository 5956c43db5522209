"""Burn-in policy: the duration, temperature and voltage that meet a target ELFR at least cost.

The defective subpopulation fails by a Weibull infant-mortality law
(:class:`~yieldkit.reliability.lfp.LFPWeibullFitter`: fraction ``p``, shape
``beta``, scale ``eta`` at use conditions). A burn-in of ``t`` hours at
conditions of acceleration factor ``AF`` ages every unit by ``b = t * AF``
use-equivalent hours. For each candidate (t, T, V):

- fallout during burn-in: ``p F(b)`` per unit [-];
- residual ELFR: ``1e6 * p (F(b + w) - F(b)) / (1 - p F(b))`` [ppm], the
  probability that a unit surviving burn-in fails in the field window ``w``;
- cost per system: oven ``c_oven * t`` + fallout ``c_fallout * m * p F(b)``
  + field ``c_field * m * p (F(b + w) - F(b))`` with ``m`` units per system
  (expected numbers of failing units; for a wafer-scale system a unit is a
  core and the fallout cost is that of mapping it out).

The frontier lists every candidate with its residual ELFR and cost, marks
the Pareto-optimal ones (no other is both cheaper and lower in ELFR), and
chooses the cheapest candidate that meets the target (the shortest on a
tie). Closed forms (numpy, pandas); no library is needed.

References
----------
JEDEC JESD74, "Early Life Failure Rate Calculation Procedure" (2007).
W. Q. Meeker, L. A. Escobar, *Statistical Methods for Reliability Data*,
Wiley 1998, section 11.5 (limited failure populations, burn-in).
W. Kuo, Y. Kuo, "Facing the headaches of early failures: a state-of-the-art
review of burn-in decisions", Proc. IEEE 71(11) (1983).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from yieldkit.errors import InputError
from yieldkit.reliability.acceleration import AccelerationModel
from yieldkit.reliability.lfp import LFPWeibullFitter

__all__ = ["BurnInCosts", "PolicyResult", "burn_in_policy", "defect_population"]


@dataclass(frozen=True)
class BurnInCosts:
    """Costs of a burn-in decision (any one currency).

    Parameters
    ----------
    oven_per_hour : float
        Cost of one system-hour in the oven [currency/h].
    fallout_per_unit : float
        Cost of a unit failing during burn-in (mapping out a core, or
        scrapping the part) [currency].
    field_failure_per_unit : float
        Cost of a unit failing in the field window [currency].
    units_per_system : int
        Units (cores) per system [-]; 1 for one-unit parts.
    """

    oven_per_hour: float
    fallout_per_unit: float
    field_failure_per_unit: float
    units_per_system: int = 1

    def __post_init__(self) -> None:
        for name in ("oven_per_hour", "fallout_per_unit", "field_failure_per_unit"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise InputError(f"must be finite and >= 0, got {v!r}", parameter=name)
        if not (isinstance(self.units_per_system, (int, np.integer)) and self.units_per_system >= 1):
            raise InputError(f"must be an int >= 1, got {self.units_per_system!r}", parameter="units_per_system")


def defect_population(source, fit_temp_c: float | None = None, fit_voltage_v: float | None = None,
                      acceleration: AccelerationModel | None = None) -> dict:
    """(p, beta, eta_h) at use conditions, from a fitted LFP Weibull or from parameters.

    Parameters
    ----------
    source : LFPWeibullFitter or mapping
        A fitted :class:`LFPWeibullFitter`, or a mapping with ``p``, ``beta``, ``eta_h``.
    fit_temp_c, fit_voltage_v : float, optional
        Conditions of the fitted data [degC], [V]; with ``acceleration``
        the scale is moved to use conditions: ``eta_use = eta_fit * AF``.
    acceleration : AccelerationModel, optional

    Examples
    --------
    >>> defect_population({"p": 1e-4, "beta": 0.5, "eta_h": 1e5})
    {'p': 0.0001, 'beta': 0.5, 'eta_h': 100000.0}
    """
    if isinstance(source, LFPWeibullFitter):
        source._require_fitted()
        p, beta, eta = source.p_, source.beta_, source.eta_
    elif isinstance(source, Mapping):
        try:
            p, beta, eta = float(source["p"]), float(source["beta"]), float(source["eta_h"])
        except KeyError as err:
            raise InputError(f"needs the key {err.args[0]!r}", parameter="source") from None
    else:
        raise InputError(f"must be a fitted LFPWeibullFitter or a mapping, got {type(source).__name__}",
                         parameter="source")
    if not 0 < p <= 1:
        raise InputError(f"must be in (0, 1], got {p!r}", parameter="p")
    for name, v in (("beta", beta), ("eta_h", eta)):
        if not (math.isfinite(v) and v > 0):
            raise InputError(f"must be finite and > 0, got {v!r}", parameter=name)
    if fit_temp_c is not None or fit_voltage_v is not None:
        if acceleration is None:
            raise InputError("needed with fit_temp_c / fit_voltage_v", parameter="acceleration")
        eta *= acceleration.af(acceleration.use_temp_c if fit_temp_c is None else fit_temp_c,
                               acceleration.use_voltage_v if fit_voltage_v is None else fit_voltage_v)
    return {"p": p, "beta": beta, "eta_h": float(eta)}


@dataclass
class PolicyResult:
    """The frontier of candidate burn-ins and the choice.

    Attributes
    ----------
    frontier : pandas.DataFrame
        One row per candidate: ``duration_h``, ``temp_c``, ``voltage_v``,
        ``af``, ``equivalent_h``, ``fallout_ppm``, ``residual_elfr_ppm``,
        ``oven_cost``, ``fallout_cost``, ``field_cost``, ``total_cost``
        (per system), ``meets_target``, ``pareto``, ``chosen``; sorted by cost.
    choice : dict or None
        The chosen row, or None when no candidate meets the target.
    message : str
        One line on the choice.
    """

    frontier: pd.DataFrame
    choice: dict | None
    message: str
    inputs: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Flat JSON-safe dict of the inputs and the choice (``chosen_*``; None when none)."""
        out = dict(self.inputs)
        out["message"] = self.message
        out["candidates"] = int(len(self.frontier))
        keys = ("duration_h", "temp_c", "voltage_v", "af", "residual_elfr_ppm", "fallout_ppm", "total_cost")
        for k in keys:
            out[f"chosen_{k}"] = None if self.choice is None else float(self.choice[k])
        return out


def _candidates(values, name, positive=False) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(values, float))
    if arr.size == 0:
        raise InputError("needs at least one candidate", parameter=name)
    bad = ~np.isfinite(arr) | ((arr <= 0) if positive else (arr < 0))
    if bad.any():
        raise InputError(f"must be finite and {'> 0' if positive else '>= 0'}, got {arr[bad][0]!r}", parameter=name)
    return arr


def burn_in_policy(population, acceleration: AccelerationModel, *, durations_h: Sequence[float],
                   temps_c: Sequence[float], voltages_v: Sequence[float], costs: BurnInCosts,
                   field_window_h: float, target_elfr_ppm: float, fit_temp_c: float | None = None,
                   fit_voltage_v: float | None = None) -> PolicyResult:
    """Recommend the burn-in (duration, temperature, voltage) meeting a target ELFR at least cost.

    Parameters
    ----------
    population : LFPWeibullFitter or mapping
        The defective subpopulation: a fitted :class:`LFPWeibullFitter` or
        ``{"p": .., "beta": .., "eta_h": ..}`` at use conditions (see
        :func:`defect_population`, with ``fit_temp_c`` / ``fit_voltage_v``
        when the fit is of data at stress).
    acceleration : AccelerationModel
        Acceleration of burn-in conditions relative to use.
    durations_h : sequence of float
        Candidate burn-in durations [h] (0 = no burn-in).
    temps_c, voltages_v : sequence of float
        Candidate oven temperatures [degC] and voltages [V].
    costs : BurnInCosts
    field_window_h : float
        Early-life field window [h] of the ELFR.
    target_elfr_ppm : float
        Target residual ELFR per unit [ppm].

    Returns
    -------
    PolicyResult

    Examples
    --------
    >>> acc = AccelerationModel(activation_energy_ev=0.7, use_temp_c=55.0, use_voltage_v=0.8)
    >>> res = burn_in_policy({"p": 1e-3, "beta": 0.4, "eta_h": 1e5}, acc, durations_h=[0, 6, 12, 24, 48],
    ...                      temps_c=[125.0], voltages_v=[0.8, 0.88],
    ...                      costs=BurnInCosts(oven_per_hour=2.0, fallout_per_unit=10.0,
    ...                                        field_failure_per_unit=5000.0),
    ...                      field_window_h=8760.0, target_elfr_ppm=100.0)
    >>> res.choice["duration_h"], res.choice["voltage_v"]
    (48.0, 0.88)
    >>> int(res.frontier["chosen"].sum())
    1
    """
    pop = defect_population(population, fit_temp_c, fit_voltage_v, acceleration)
    if not isinstance(acceleration, AccelerationModel):
        raise InputError("must be an AccelerationModel", parameter="acceleration")
    if not isinstance(costs, BurnInCosts):
        raise InputError("must be a BurnInCosts", parameter="costs")
    d = _candidates(durations_h, "durations_h")
    tc = _candidates(temps_c, "temps_c") if np.all(np.asarray(temps_c, float) > -273.15) else None
    if tc is None:
        raise InputError("must be above 0 K", parameter="temps_c")
    vv = _candidates(voltages_v, "voltages_v", positive=True)
    for name, v in (("field_window_h", field_window_h), ("target_elfr_ppm", target_elfr_ppm)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise InputError(f"must be finite and > 0, got {v!r}", parameter=name)
    grid = pd.MultiIndex.from_product([d, tc, vv], names=["duration_h", "temp_c", "voltage_v"]).to_frame(index=False)
    grid = grid.drop_duplicates()
    no_burn_in = grid["duration_h"] == 0  # conditions do not matter without a burn-in: one row
    grid = grid[~(no_burn_in & grid.duplicated(subset=["duration_h"]))].reset_index(drop=True)
    af = np.asarray(acceleration.af(grid["temp_c"].to_numpy(), grid["voltage_v"].to_numpy()), float)
    b = grid["duration_h"].to_numpy() * af
    p, beta, eta = pop["p"], pop["beta"], pop["eta_h"]
    fb = -np.expm1(-(b / eta) ** beta)
    fbw = -np.expm1(-((b + field_window_h) / eta) ** beta)
    m = costs.units_per_system
    out = grid.assign(af=af, equivalent_h=b, fallout_ppm=1e6 * p * fb,
                      residual_elfr_ppm=1e6 * p * (fbw - fb) / (1 - p * fb))
    out["oven_cost"] = costs.oven_per_hour * out["duration_h"]
    out["fallout_cost"] = costs.fallout_per_unit * m * p * fb
    out["field_cost"] = costs.field_failure_per_unit * m * p * (fbw - fb)
    out["total_cost"] = out["oven_cost"] + out["fallout_cost"] + out["field_cost"]
    out["meets_target"] = out["residual_elfr_ppm"] <= target_elfr_ppm
    out = out.sort_values(["total_cost", "residual_elfr_ppm", "duration_h"], kind="stable").reset_index(drop=True)
    best_elfr = np.minimum.accumulate(out["residual_elfr_ppm"].to_numpy())
    out["pareto"] = np.r_[True, out["residual_elfr_ppm"].to_numpy()[1:] < best_elfr[:-1]]
    ok = out.index[out["meets_target"]]
    out["chosen"] = False
    inputs = {"p": p, "beta": beta, "eta_h": eta, "field_window_h": float(field_window_h),
              "target_elfr_ppm": float(target_elfr_ppm), **{f"acceleration_{k}": v
                                                            for k, v in acceleration.to_dict().items()},
              "oven_per_hour": costs.oven_per_hour, "fallout_per_unit": costs.fallout_per_unit,
              "field_failure_per_unit": costs.field_failure_per_unit, "units_per_system": int(m)}
    if len(ok) == 0:
        best = out.loc[out["residual_elfr_ppm"].idxmin()]
        msg = (f"no candidate meets {target_elfr_ppm:g} ppm; the lowest residual ELFR is "
               f"{best['residual_elfr_ppm']:.4g} ppm ({best['duration_h']:g} h at {best['temp_c']:g} C, "
               f"{best['voltage_v']:g} V)")
        return PolicyResult(out, None, msg, inputs)
    i = ok[0]
    out.loc[i, "chosen"] = True
    choice = {k: (v.item() if hasattr(v, "item") else v) for k, v in out.loc[i].to_dict().items()}
    msg = (f"burn in {choice['duration_h']:g} h at {choice['temp_c']:g} C, {choice['voltage_v']:g} V: "
           f"residual ELFR {choice['residual_elfr_ppm']:.4g} ppm <= {target_elfr_ppm:g} ppm, "
           f"cost {choice['total_cost']:.4g} per system")
    return PolicyResult(out, choice, msg, inputs)
