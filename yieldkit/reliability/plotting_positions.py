"""Nonparametric CDF estimates for probability plots.

- :func:`median_ranks`: Bernard's approximation of the median rank,
  ``F = (i - 0.3) / (n + 0.4)``, with Johnson's adjusted ranks ``i`` when
  some units are right-censored (exact and right-censored data only).
- :func:`kaplan_meier`: the product-limit estimate (exact and right-censored).
- :func:`turnbull`: Turnbull's self-consistent nonparametric MLE for
  arbitrarily censored data (exact, left, right, interval), the EM algorithm
  over the innermost intervals; it equals Kaplan-Meier on right-censored data.

Written here with numpy (a few lines each); the tests check Kaplan-Meier and
Turnbull against lifelines' ``KaplanMeierFitter``.

References
----------
A. Bernard, E. C. Bos-Levenbach, "The plotting of observations on
probability paper", Statistica Neerlandica 7 (1953).
L. G. Johnson, *The Statistical Treatment of Fatigue Experiments*, Elsevier 1964
(adjusted ranks).
E. L. Kaplan, P. Meier, JASA 53 (1958).
B. W. Turnbull, "The empirical distribution function with arbitrarily
grouped, censored and truncated data", JRSS B 38 (1976) 290-295.
W. Q. Meeker, L. A. Escobar, *Statistical Methods for Reliability Data*,
Wiley 1998, chapter 3.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from yieldkit.errors import Failure, InputError
from yieldkit.reliability.lifedata import LifeData

__all__ = ["kaplan_meier", "median_ranks", "nonparametric_cdf", "turnbull"]

METHODS = ("bernard", "kaplan-meier", "turnbull")


def _require_exact_or_right(data: LifeData, what: str) -> None:
    if not data.only_exact_or_right:
        raise InputError(f"{what} needs exact and right-censored times only; use turnbull", parameter="data")


def _sorted_rows(data: LifeData):
    # failures before censorings at a tie (the censored unit was at risk at the failure)
    order = np.lexsort((data.is_right, data.lower_h))
    return data.lower_h[order], ~data.is_right[order], data.count[order]


def median_ranks(data: LifeData) -> pd.DataFrame:
    """Bernard median ranks with Johnson's adjusted ranks for right-censored units.

    Returns
    -------
    pandas.DataFrame
        One row per failure: ``time_h`` [h], ``rank`` (adjusted) [-],
        ``probability`` = (rank - 0.3) / (n + 0.4) [-].

    Examples
    --------
    >>> median_ranks(LifeData.from_durations([1.0, 2.0, 3.0], [1, 1, 1]))["probability"].round(4).tolist()
    [0.2059, 0.5, 0.7941]
    """
    _require_exact_or_right(data, "median ranks")
    t, failed, n = _sorted_rows(data)
    total = int(n.sum())
    remaining = total
    rank = 0.0
    times, ranks = [], []
    for ti, fi, ni in zip(t, failed, n, strict=True):
        if fi:
            for _ in range(int(ni)):
                rank += (total + 1 - rank) / (1 + remaining)
                remaining -= 1
                times.append(ti)
                ranks.append(rank)
        else:
            remaining -= int(ni)
    ranks = np.asarray(ranks)
    return pd.DataFrame({"time_h": np.asarray(times, float), "rank": ranks,
                         "probability": (ranks - 0.3) / (total + 0.4)})


def kaplan_meier(data: LifeData) -> pd.DataFrame:
    """Kaplan-Meier product-limit estimate of F at each distinct failure time.

    Returns
    -------
    pandas.DataFrame
        ``time_h`` [h], ``at_risk`` [-], ``failed`` [-], ``probability`` = 1 - S(t) [-].

    Examples
    --------
    >>> kaplan_meier(LifeData.from_durations([1.0, 2.0, 3.0, 4.0], [1, 0, 1, 1]))["probability"].tolist()
    [0.25, 0.625, 1.0]
    """
    _require_exact_or_right(data, "Kaplan-Meier")
    t, failed, n = _sorted_rows(data)
    frame = pd.DataFrame({"t": t, "d": np.where(failed, n, 0), "c": n})
    g = frame.groupby("t", sort=True).sum()
    at_risk = g["c"][::-1].cumsum()[::-1]
    keep = g["d"] > 0
    s = np.cumprod(1.0 - (g["d"] / at_risk)[keep].to_numpy())
    return pd.DataFrame({"time_h": g.index[keep].to_numpy(float), "at_risk": at_risk[keep].to_numpy(),
                         "failed": g["d"][keep].to_numpy(), "probability": 1.0 - s})


def turnbull(data: LifeData, tol: float = 1e-10, max_iter: int = 20000) -> pd.DataFrame:
    """Turnbull's nonparametric MLE of F for arbitrarily censored data.

    Each unit's failure lies in ``(lower_h, upper_h]`` (a point when exact).
    The probability mass sits on the innermost intervals: a left end
    immediately followed by a right end in the sorted list of ends (ties:
    closed left ends of exact times, then right ends, then open left ends).
    The masses are found by the self-consistency (EM) iteration.

    Returns
    -------
    pandas.DataFrame
        One row per innermost interval with a finite right end:
        ``left_h``, ``time_h`` (its right end) [h], ``mass`` [-],
        ``probability`` = F at ``time_h`` [-].

    Raises
    ------
    yieldkit.errors.Failure
        The iteration did not converge in ``max_iter`` steps.

    Examples
    --------
    >>> d = LifeData.from_intervals([0.0, 2.0, 4.0], [2.0, 4.0, float("inf")])
    >>> turnbull(d)["probability"].round(4).tolist()
    [0.3333, 0.6667]
    """
    lo, hi, n = data.lower_h, data.upper_h, data.count.astype(float)
    exact = data.is_exact
    # (value, type): 0 closed left end, 1 right end, 2 open left end
    ends = np.concatenate([lo, hi])
    types = np.concatenate([np.where(exact, 0, 2), np.ones(hi.size, int)])
    order = np.lexsort((types, ends))
    ends, types = ends[order], types[order]
    is_left = types != 1
    starts = np.flatnonzero(is_left[:-1] & ~is_left[1:])
    left_end, right_end, left_closed = ends[starts], ends[starts + 1], types[starts] == 0
    # representative point of each innermost interval: its right end (the point itself when closed-closed)
    rep = right_end
    contains = (((lo[:, None] < rep[None, :]) | (exact[:, None] & (lo[:, None] == rep[None, :])))
                & (rep[None, :] <= hi[:, None]))
    if not contains.any(axis=1).all():  # pragma: no cover - every unit contains an innermost interval
        raise Failure("turnbull: a unit's interval contains no innermost interval")
    m = contains.shape[1]
    s = np.full(m, 1.0 / m)
    total = n.sum()
    for _ in range(max_iter):
        denom = contains @ s
        new = s * ((n / denom) @ contains) / total
        if np.max(np.abs(new - s)) < tol:
            s = new
            break
        s = new
    else:
        raise Failure(f"turnbull: the self-consistency iteration did not converge in {max_iter} steps")
    cum = np.cumsum(s)
    finite = np.isfinite(right_end)
    del left_closed
    return pd.DataFrame({"left_h": left_end[finite], "time_h": right_end[finite], "mass": s[finite],
                         "probability": np.minimum(cum[finite], 1.0)})


def nonparametric_cdf(data: LifeData, method: str | None = None) -> pd.DataFrame:
    """``time_h``, ``probability`` and ``method`` for a probability plot.

    ``method`` None: Bernard median ranks for exact/right-censored data, Turnbull otherwise.
    """
    if method is None:
        method = "bernard" if data.only_exact_or_right else "turnbull"
    if method not in METHODS:
        raise InputError(f"must be one of {METHODS}, got {method!r}", parameter="method")
    f = {"bernard": median_ranks, "kaplan-meier": kaplan_meier, "turnbull": turnbull}[method](data)
    out = f[["time_h", "probability"]].copy()
    out["method"] = method
    return out.reset_index(drop=True)
