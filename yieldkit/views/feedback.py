"""Burn-in feedback: each lot's dead-core rate against the calibrated defect model's prediction.

What is compared: the defect model predicts the cores dead *at fab-out*
(the sites its defects kill), so the test is the lot's mean fab-out dead
cores per wafer against the model's expected dead cores per wafer
(``yieldkit.montecarlo.simulate(...).mean_dead_cores``). Burn-in adds the
latent ones (cores mapped out during burn-in), which the model does not
predict: they are shown beside it (``mapped_out_burn_in``, ``dead_total``)
with the ratio of the observed total to the prediction (``ratio_total``),
so an analyst sees how far the fab-out model undercounts what the customer
would have lost.

Intervals (level ``confidence``, default 95 %):

* prediction for the mean of ``n`` wafers: ``mu +/- z sd / sqrt(n)``, with
  ``mu`` and ``sd`` the model's per-wafer mean and standard deviation of
  dead cores (the standard deviation carries the model's clustering, i.e.
  negative-binomial over-dispersion); the normal approximation of the
  central limit theorem;
* observed lot mean: Student t on the wafers' counts (``n >= 2`` and a
  non-zero spread), else the exact Poisson (Garwood) interval of the total
  divided by ``n``.

A lot is ``flagged`` when its observed fab-out mean lies outside the
prediction interval.

The input is the per-wafer frame of ``db.feedback.feedback_counts``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy import stats

from yieldkit.errors import InputError
from yieldkit.views._common import axes_or_new

__all__ = ["lot_feedback", "plot_feedback"]

_COLUMNS = ["lot", "design", "wafers", "fab_out_mean", "fab_out_low", "fab_out_high", "mapped_out_burn_in_mean",
            "dead_total_mean", "predicted_mean", "predicted_low", "predicted_high", "ratio_fab_out",
            "ratio_total", "flagged"]


def _observed_interval(counts: np.ndarray, confidence: float) -> tuple[float, float]:
    n = counts.size
    mean = float(counts.mean())
    sd = float(counts.std(ddof=1)) if n >= 2 else 0.0
    if n >= 2 and sd > 0:
        half = stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)
        return max(mean - half, 0.0), mean + half
    total = float(counts.sum())
    a = 1 - confidence
    low = stats.chi2.ppf(a / 2, 2 * total) / 2 if total > 0 else 0.0
    high = stats.chi2.ppf(1 - a / 2, 2 * total + 2) / 2
    return low / n, high / n


def lot_feedback(counts: pd.DataFrame, predicted_mean: float, predicted_sd: float, *,
                 confidence: float = 0.95) -> pd.DataFrame:
    """Per lot: observed dead cores per wafer (fab-out, burn-in, total) against the model's prediction.

    Parameters
    ----------
    counts : DataFrame
        One row per wafer with ``lot``, ``design``, ``dead_at_fab_out``,
        ``mapped_out_burn_in`` (``db.feedback.feedback_counts``).
    predicted_mean, predicted_sd : float
        The model's mean and standard deviation of dead cores per wafer [-]
        (``SimulationResult.mean_dead_cores``, ``std_dead_cores``).
    confidence : float
        Level of both intervals.

    Returns
    -------
    DataFrame
        One row per lot: ``lot``, ``design``, ``wafers``, ``fab_out_mean``
        with its interval ``fab_out_low``/``fab_out_high``,
        ``mapped_out_burn_in_mean``, ``dead_total_mean``, ``predicted_mean``
        with the interval for a lot of that size
        ``predicted_low``/``predicted_high``, ``ratio_fab_out`` and
        ``ratio_total`` (observed / predicted; NaN for a zero prediction) and
        ``flagged`` (fab-out mean outside the prediction interval).

    Examples
    --------
    >>> counts = pd.DataFrame({"lot": ["A"] * 4, "design": ["small"] * 4,
    ...                        "dead_at_fab_out": [9, 11, 10, 10], "mapped_out_burn_in": [1, 0, 2, 1]})
    >>> row = lot_feedback(counts, 10.0, 3.0).iloc[0]
    >>> float(row["fab_out_mean"]), float(row["dead_total_mean"]), bool(row["flagged"])
    (10.0, 11.0, False)
    """
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be in (0, 1), got {confidence}", parameter="confidence")
    if predicted_mean < 0 or predicted_sd < 0:
        raise InputError("the prediction's mean and standard deviation must be >= 0", parameter="predicted_mean")
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    rows = []
    for lot, group in counts.groupby("lot", sort=True):
        fab = group["dead_at_fab_out"].to_numpy(np.float64)
        burn = group["mapped_out_burn_in"].to_numpy(np.float64)
        n = fab.size
        low, high = _observed_interval(fab, confidence)
        half = z * predicted_sd / math.sqrt(n)
        p_low, p_high = max(predicted_mean - half, 0.0), predicted_mean + half
        mean = float(fab.mean())
        total = float((fab + burn).mean())
        ratio = (lambda x: x / predicted_mean if predicted_mean > 0 else math.nan)
        rows.append({"lot": lot, "design": ",".join(sorted(set(group["design"]))), "wafers": n,
                     "fab_out_mean": mean, "fab_out_low": low, "fab_out_high": high,
                     "mapped_out_burn_in_mean": float(burn.mean()), "dead_total_mean": total,
                     "predicted_mean": float(predicted_mean), "predicted_low": p_low, "predicted_high": p_high,
                     "ratio_fab_out": ratio(mean), "ratio_total": ratio(total),
                     "flagged": bool(mean < p_low or mean > p_high)})
    return pd.DataFrame(rows, columns=_COLUMNS)


def plot_feedback(feedback: pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """Observed dead cores per wafer by lot (fab-out with its interval, and total) against the prediction band.

    ``feedback`` is the frame of :func:`lot_feedback`. The band is each lot's
    prediction interval (it narrows with the lot's wafer count); a flagged
    lot is drawn in red.
    """
    fig, ax = axes_or_new(ax, (max(5.0, 0.6 * len(feedback) + 3), 4.0))
    x = np.arange(len(feedback))
    if len(feedback):
        for i, row in enumerate(feedback.itertuples(index=False)):
            span = [x[i] - 0.4, x[i] + 0.4]
            ax.fill_between(span, row.predicted_low, row.predicted_high, alpha=0.25, color="tab:blue",
                            label="model prediction interval" if i == 0 else None)
            ax.plot(span, [row.predicted_mean] * 2, color="tab:blue", lw=1,
                    label="model prediction" if i == 0 else None)
        colours = np.where(feedback["flagged"], "tab:red", "black")
        mean = feedback["fab_out_mean"].to_numpy(float)
        err = np.vstack([mean - feedback["fab_out_low"].to_numpy(float),
                         feedback["fab_out_high"].to_numpy(float) - mean])
        for i in range(len(feedback)):
            ax.errorbar(x[i], mean[i], yerr=err[:, i:i + 1], fmt="o", color=colours[i], capsize=3,
                        label="observed at fab-out" if i == 0 else None)
        ax.plot(x, feedback["dead_total_mean"], "s", mfc="none", color="tab:orange",
                label="observed fab-out + burn-in")
    ax.set_xlim(-0.6, max(len(feedback), 1) - 0.4)
    ax.set_xticks(x, [str(v) for v in feedback.get("lot", [])], rotation=45 if len(feedback) > 8 else 0)
    ax.set_xlabel("lot")
    ax.set_ylabel("dead cores per wafer")
    ax.set_title("Burn-in feedback against the model")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small")
    return fig
