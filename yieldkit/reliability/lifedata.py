"""Life data with exact, right-, left- and interval-censored times in one set.

Each row of :class:`LifeData` is a group of ``count`` units whose time to
failure ``T`` [h] is known to lie in ``lower_h < T <= upper_h``:

- exact failure: ``lower_h == upper_h`` (``T = lower_h``);
- right-censored (survived to ``lower_h``): ``upper_h = inf``;
- left-censored (failed before ``upper_h``): ``lower_h = 0``;
- interval-censored (failed between two scans): ``0 < lower_h < upper_h < inf``.

A burn-in fault is interval-censored between the last passing and the first
failing scan; a core that never fails is right-censored at the end of the
campaign. Pure numpy; no library is needed.

References
----------
W. Q. Meeker, L. A. Escobar, *Statistical Methods for Reliability Data*,
Wiley 1998, chapter 2 (censoring types).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from yieldkit.errors import InputError

__all__ = ["LifeData"]


def _as_float(values, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise InputError(f"must be numbers: {err}", parameter=name) from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise InputError(f"must be one-dimensional, got shape {arr.shape}", parameter=name)
    if np.isnan(arr).any():
        raise InputError(f"must not contain NaN (row {int(np.flatnonzero(np.isnan(arr))[0])})", parameter=name)
    return arr


@dataclass(frozen=True, eq=False)
class LifeData:
    """Times to failure of units, each known to lie in ``(lower_h, upper_h]``.

    Parameters
    ----------
    lower_h : array_like
        Lower bound of the time to failure [h]; >= 0 (0 for left-censored).
    upper_h : array_like
        Upper bound [h]; ``inf`` for right-censored, ``== lower_h`` for an exact failure.
    count : array_like, optional
        Number of units in each row [-]; positive integers, default 1.

    Raises
    ------
    yieldkit.errors.InputError
        Negative or NaN times, an upper bound below the lower bound, a
        non-positive count, no rows, or rows of different lengths.

    Examples
    --------
    >>> d = LifeData.from_durations([10.0, 20.0, 30.0], [1, 0, 1])
    >>> d.n_units, d.n_failures
    (3, 2)
    >>> LifeData.from_intervals([0.0, 5.0], [5.0, float("inf")]).kind.tolist()
    ['left', 'right']
    """

    lower_h: np.ndarray
    upper_h: np.ndarray
    count: np.ndarray

    def __init__(self, lower_h, upper_h, count=None) -> None:
        lo, hi = _as_float(lower_h, "lower_h"), _as_float(upper_h, "upper_h")
        if lo.size == 0:
            raise InputError("no units", parameter="lower_h")
        if lo.shape != hi.shape:
            raise InputError(f"has {hi.size} rows but lower_h has {lo.size}", parameter="upper_h")
        if (lo < 0).any() or np.isinf(lo).any():
            raise InputError(f"must be finite and >= 0, got {lo[(lo < 0) | np.isinf(lo)][0]!r}", parameter="lower_h")
        if (hi < lo).any():
            i = int(np.flatnonzero(hi < lo)[0])
            raise InputError(f"end before start in row {i}: {hi[i]!r} < {lo[i]!r}", parameter="upper_h")
        if (hi == 0).any():
            raise InputError("a failure at time 0 has no likelihood under a positive life distribution",
                             parameter="upper_h")
        if count is None:
            n = np.ones(lo.size, dtype=np.int64)
        else:
            c = _as_float(count, "count")
            if c.shape != lo.shape:
                raise InputError(f"has {c.size} rows but lower_h has {lo.size}", parameter="count")
            if (c <= 0).any() or (c != np.round(c)).any() or np.isinf(c).any():
                raise InputError("must be positive integers", parameter="count")
            n = c.astype(np.int64)
        exact, right = lo == hi, np.isinf(hi)
        left = (lo == 0) & ~exact & ~right
        for name, arr in (("lower_h", lo), ("upper_h", hi), ("count", n), ("_exact", exact), ("_right", right),
                          ("_left", left), ("_interval", ~exact & ~right & ~left)):
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    # --- constructors -----------------------------------------------------------------------------

    @classmethod
    def from_durations(cls, time_h, event, count=None) -> LifeData:
        """Exact failures (``event`` true) and right-censored units (``event`` false) at ``time_h`` [h]."""
        t = _as_float(time_h, "time_h")
        e = np.asarray(event)
        if e.shape != t.shape:
            raise InputError(f"has {e.size} rows but time_h has {t.size}", parameter="event")
        if e.dtype != bool:
            ef = _as_float(e, "event")
            if not np.isin(ef, (0.0, 1.0)).all():
                raise InputError("must be booleans or 0/1", parameter="event")
            e = ef.astype(bool)
        if (t < 0).any():
            raise InputError(f"must be >= 0, got {t[t < 0][0]!r}", parameter="time_h")
        return cls(t, np.where(e, t, np.inf), count)

    @classmethod
    def from_intervals(cls, start_h, end_h, count=None) -> LifeData:
        """Failures between ``start_h`` and ``end_h`` [h]; ``end_h = inf`` right-censored, ``start_h = 0`` left."""
        return cls(start_h, end_h, count)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, lower: str = "lower_h", upper: str = "upper_h",
                   count: str | None = None) -> LifeData:
        """From columns of a DataFrame."""
        for col in (lower, upper) + ((count,) if count else ()):
            if col not in frame.columns:
                raise InputError(f"no column {col!r} in the frame", parameter="frame")
        return cls(frame[lower].to_numpy(), frame[upper].to_numpy(), frame[count].to_numpy() if count else None)

    # --- views ------------------------------------------------------------------------------------

    @property
    def is_exact(self) -> np.ndarray:
        """Rows of exact failures."""
        return self._exact

    @property
    def is_right(self) -> np.ndarray:
        """Rows of right-censored units."""
        return self._right

    @property
    def is_left(self) -> np.ndarray:
        """Rows of left-censored failures (``lower_h == 0``, finite ``upper_h``)."""
        return self._left

    @property
    def is_interval(self) -> np.ndarray:
        """Rows of interval-censored failures with ``0 < lower_h < upper_h < inf``."""
        return self._interval

    @cached_property
    def parts(self) -> dict:
        """The rows split by kind for the likelihood (computed once): times and counts of each."""
        cens = ~self._exact & ~self._right
        lo = self.lower_h[cens]
        return {"t_exact": self.lower_h[self._exact], "n_exact": self.count[self._exact],
                "t_right": self.lower_h[self._right], "n_right": self.count[self._right],
                "l_cens": lo, "u_cens": self.upper_h[cens], "n_cens": self.count[cens],
                "l_pos": lo > 0, "l_safe": np.where(lo > 0, lo, 1.0)}

    @property
    def kind(self) -> np.ndarray:
        """Per row: "exact", "right", "left" or "interval"."""
        out = np.full(self.lower_h.size, "interval", dtype=object)
        out[self.is_left] = "left"
        out[self.is_right] = "right"
        out[self.is_exact] = "exact"
        return out

    @property
    def n_units(self) -> int:
        """Number of units [-]."""
        return int(self.count.sum())

    @property
    def n_failures(self) -> int:
        """Number of units known to have failed (all but the right-censored) [-]."""
        return int(self.count[~self.is_right].sum())

    @property
    def only_exact_or_right(self) -> bool:
        """True when there is no left or interval censoring."""
        return bool((self.is_exact | self.is_right).all())

    def require_failures(self, what: str, minimum: int = 1) -> None:
        """Raise :class:`~yieldkit.errors.InputError` unless there are at least ``minimum`` failures."""
        if self.n_failures < minimum:
            raise InputError(f"{what} needs at least {minimum} failure(s), got {self.n_failures}", parameter="data")

    def subset(self, mask) -> LifeData:
        """The rows where ``mask`` is true."""
        m = np.asarray(mask, bool)
        return LifeData(self.lower_h[m], self.upper_h[m], self.count[m])

    def collapsed(self) -> LifeData:
        """The same data with identical (lower_h, upper_h) rows merged into one row with their total count."""
        keys = np.column_stack([self.lower_h, self.upper_h])
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        if uniq.shape[0] == keys.shape[0]:
            return self
        counts = np.bincount(inverse.ravel(), weights=self.count, minlength=uniq.shape[0])
        return LifeData(uniq[:, 0], uniq[:, 1], np.rint(counts))

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame (lower_h, upper_h, count, kind)."""
        return pd.DataFrame({"lower_h": self.lower_h, "upper_h": self.upper_h, "count": self.count,
                             "kind": self.kind})

    def to_censored_data(self):
        """The data as :class:`scipy.stats.CensoredData` (counts expanded)."""
        from scipy.stats import CensoredData

        lo, hi = np.repeat(self.lower_h, self.count), np.repeat(self.upper_h, self.count)
        exact = lo == hi
        return CensoredData(uncensored=lo[exact], interval=np.column_stack([lo[~exact], hi[~exact]]))

    def __len__(self) -> int:
        return self.lower_h.size

    def __repr__(self) -> str:
        k = self.kind
        parts = ", ".join(f"{int(self.count[k == name].sum())} {name}" for name in ("exact", "right", "left",
                                                                                   "interval")
                          if (k == name).any())
        return f"LifeData({self.n_units} units: {parts})"
