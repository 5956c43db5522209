"""Commonality analysis: which factor (station, operator, oven temperature, voltage, lot) shares the failures.

For each factor, the failures observed at each level are compared with the
failures expected if every level failed at the same rate per unit of
exposure (``E_level = total failures * exposure_level / total exposure``).
The statistic is Pearson's chi-square ``sum (O - E)^2 / E`` with
``levels - 1`` degrees of freedom (the homogeneity test of Poisson rates;
Agresti, Categorical Data Analysis, 3rd ed., 2013, sec. 1.5 and 3.3). With
two levels and an expected count below 5 the exact conditional test is used
instead: given the total, the failures of the first level are binomial with
probability its exposure share (the Poisson analogue of Fisher's exact
test; two-sided by the likelihood of the outcomes). Factors are ranked by
p-value, the smallest first.

Input: one row per burn-in run (``db.analysis.run_failures``): the factor
columns, ``failures`` and an exposure column (``core_hours`` or ``hours``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

__all__ = ["FACTORS", "commonality", "commonality_levels", "plot_commonality"]

#: The default factors, as named by ``db.analysis.run_failures``.
FACTORS = ("station", "operator", "temperature_c", "voltage_v", "lot")


def commonality_levels(runs: pd.DataFrame, factor: str, *, count: str = "failures",
                       exposure: str = "hours") -> pd.DataFrame:
    """Observed and expected failures per level of ``factor``.

    Returns
    -------
    DataFrame
        ``level``, ``runs``, ``exposure``, ``observed``, ``expected``,
        ``ratio`` (observed / expected) [-], ``contribution`` (its chi-square term).
    """
    grouped = runs.groupby(factor, sort=True, dropna=False).agg(runs=(count, "size"), exposure=(exposure, "sum"),
                                                                 observed=(count, "sum"))
    total_o, total_e = grouped["observed"].sum(), grouped["exposure"].sum()
    expected = total_o * grouped["exposure"] / total_e if total_e > 0 else grouped["exposure"] * np.nan
    out = grouped.assign(expected=expected)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["ratio"] = out["observed"] / out["expected"]
        out["contribution"] = (out["observed"] - out["expected"]) ** 2 / out["expected"]
    return out.reset_index().rename(columns={factor: "level"})


def _exact_two_level(observed: np.ndarray, expected: np.ndarray) -> float:
    n = int(observed.sum())
    p = expected[0] / expected.sum()
    probs = stats.binom.pmf(np.arange(n + 1), n, p)
    return float(min(1.0, probs[probs <= probs[int(observed[0])] * (1 + 1e-7)].sum()))


def commonality(runs: pd.DataFrame, factors: Sequence[str] = FACTORS, *, count: str = "failures",
                exposure: str = "hours") -> pd.DataFrame:
    """Rank the factors by how unevenly the failures fall on their levels.

    Parameters
    ----------
    runs : DataFrame
        One row per run: the factor columns, ``count`` and ``exposure``
        (``db.analysis.run_failures``: ``failures``, ``hours``, ``core_hours``).
    factors : sequence of str
        Columns to test; absent columns and factors with one level are skipped.

    Returns
    -------
    DataFrame
        ``factor``, ``levels``, ``test`` (``chi-square`` or ``exact``),
        ``statistic``, ``dof``, ``p_value``, ``worst_level`` (the level with the
        highest observed / expected ratio) and its ``worst_ratio``, ranked by
        p-value then statistic; ``rank`` from 1.

    Examples
    --------
    >>> runs = pd.DataFrame({"station": ["S1", "S2"] * 20, "operator": ["a"] * 20 + ["b"] * 20,
    ...                      "failures": [9, 1] * 20, "hours": 24.0})
    >>> commonality(runs, ["station", "operator"])[["factor", "worst_level"]].values.tolist()
    [['station', 'S1'], ['operator', 'a']]
    """
    rows = []
    for factor in factors:
        if factor not in runs.columns:
            continue
        levels = commonality_levels(runs, factor, count=count, exposure=exposure)
        levels = levels[levels["exposure"] > 0]
        if len(levels) < 2 or levels["observed"].sum() == 0:
            continue
        observed, expected = levels["observed"].to_numpy(float), levels["expected"].to_numpy(float)
        dof = len(levels) - 1
        if dof == 1 and expected.min() < 5:
            test, statistic, p = "exact", float(levels["contribution"].sum()), _exact_two_level(observed, expected)
        else:
            test, statistic = "chi-square", float(levels["contribution"].sum())
            p = float(stats.chi2.sf(statistic, dof))
        worst = levels.sort_values("ratio", ascending=False).iloc[0]
        rows.append({"factor": factor, "levels": len(levels), "test": test, "statistic": statistic, "dof": dof,
                     "p_value": p, "worst_level": worst["level"], "worst_ratio": float(worst["ratio"])})
    frame = pd.DataFrame(rows, columns=["factor", "levels", "test", "statistic", "dof", "p_value", "worst_level",
                                        "worst_ratio"])
    frame = frame.sort_values(["p_value", "statistic"], ascending=[True, False], kind="stable").reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return frame


def plot_commonality(ranking: pd.DataFrame, runs: pd.DataFrame, *, count: str = "failures",
                     exposure: str = "hours", alpha: float = 0.01) -> Figure:
    """Left: -log10 p of each factor, ranked; right: observed / expected failures per level of the top factor.

    Parameters
    ----------
    ranking : DataFrame
        :func:`commonality`.
    runs : DataFrame
        The runs it was computed from (for the levels of the top factor).
    alpha : float
        Significance level drawn as a dashed line [-].

    Returns
    -------
    Figure

    Examples
    --------
    >>> runs = pd.DataFrame({"station": ["S1", "S2"] * 20, "failures": [9, 1] * 20, "hours": 24.0})
    >>> len(plot_commonality(commonality(runs, ["station"]), runs).axes)
    2
    """
    fig = Figure(figsize=(9.5, 4.0), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.2])
    ranking = ranking.sort_values("rank")
    score = -np.log10(np.clip(ranking["p_value"].to_numpy(float), 1e-300, 1))
    y = np.arange(len(ranking))[::-1]
    left.barh(y, score, color=["#c0392b" if p < alpha else "#95a5a6" for p in ranking["p_value"]])
    left.set_yticks(y, [str(f) for f in ranking["factor"]], fontsize=8)
    left.axvline(-np.log10(alpha), ls="--", color="0.4", lw=0.8)
    left.text(-np.log10(alpha), -0.75, f" p = {alpha:g}", fontsize=7, color="0.4", va="bottom")
    left.set_ylim(-0.8, len(ranking) - 0.5)
    left.set(xlabel="-log10 p", title="Commonality of failures by factor")
    left.title.set_fontsize(10)
    if len(ranking):
        top = str(ranking["factor"].iloc[0])
        levels = commonality_levels(runs, top, count=count, exposure=exposure)
        x = np.arange(len(levels))
        right.bar(x, levels["ratio"], color="#4f7cac")
        right.axhline(1.0, color="0.3", lw=0.8)
        right.set_xticks(x, [str(v) for v in levels["level"]], rotation=30 if len(levels) > 5 else 0, ha="right"
                         if len(levels) > 5 else "center", fontsize=8)
        right.set(ylabel="observed / expected failures", title=f"{top}: failures per level against exposure")
        right.title.set_fontsize(10)
    return fig
