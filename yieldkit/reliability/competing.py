"""Competing risks: one life distribution per fault class on the same units.

Each unit fails of at most one class (the first to occur). Under
independent risks the likelihood factorizes, so each class is fitted on all
units with the failures of the other classes treated as right-censored at
the time the unit was last known to be alive (its ``lower_h``: the failure
time when exact, the last passing scan when interval-censored). The
population survival is the product of the class survivals.

Bookkeeping only; the fits are the fitters of
:mod:`~yieldkit.reliability.fitters` and :mod:`~yieldkit.reliability.lfp`.

References
----------
W. Q. Meeker, L. A. Escobar, *Statistical Methods for Reliability Data*,
Wiley 1998, chapter 15 (competing failure modes).
W. Nelson, *Applied Life Data Analysis*, Wiley 1982, chapter 5.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from yieldkit.errors import Failure, InputError
from yieldkit.reliability.fitters import ParametricFitter, WeibullFitter, coerce_life_data
from yieldkit.reliability.lifedata import LifeData

__all__ = ["CompetingRisksFitter", "censor_other_causes"]


def _labels(cause, data: LifeData) -> np.ndarray:
    c = np.asarray(cause, dtype=object)
    if c.shape != data.lower_h.shape:
        raise InputError(f"has {c.size} rows but the data have {data.lower_h.size}", parameter="cause")
    missing = np.array([v is None or v == "" or (isinstance(v, float) and np.isnan(v)) for v in c])
    bad = missing & ~data.is_right
    if bad.any():
        raise InputError(f"a failure needs a fault class (row {int(np.flatnonzero(bad)[0])})", parameter="cause")
    return np.where(data.is_right, None, c)


def censor_other_causes(data: LifeData, cause, keep) -> LifeData:
    """The data for class ``keep``: other classes' failures right-censored at their ``lower_h``.

    Examples
    --------
    >>> d = LifeData.from_intervals([10.0, 20.0, 30.0], [12.0, 25.0, float("inf")])
    >>> censor_other_causes(d, ["a", "b", None], "a").kind.tolist()
    ['interval', 'right', 'right']
    """
    labels = _labels(cause, data)
    other = ~data.is_right & (labels != keep)
    return LifeData(data.lower_h, np.where(other, np.inf, data.upper_h), data.count)


class CompetingRisksFitter:
    """One fit per fault class, each class's failures censoring the others.

    Parameters
    ----------
    fitter : type
        The fitter class of each class (default :class:`WeibullFitter`).
    alpha : float
        The intervals are ``100 (1 - alpha)`` % [-].

    Examples
    --------
    >>> t = [5.0, 8.0, 13.0, 21.0, 34.0, 55.0, 89.0, 100.0]
    >>> cr = CompetingRisksFitter().fit(t, event=[1, 1, 1, 1, 1, 1, 1, 0],
    ...                                 cause=["oxide", "via", "oxide", "via", "oxide", "via", "oxide", None])
    >>> sorted(cr.fits_)
    ['oxide', 'via']
    >>> round(float(cr.sf(20.0)), 4) == round(float(cr.fits_["oxide"].sf(20.0) * cr.fits_["via"].sf(20.0)), 4)
    True
    """

    def __init__(self, fitter: type[ParametricFitter] = WeibullFitter, alpha: float = 0.05) -> None:
        if not (isinstance(fitter, type) and issubclass(fitter, ParametricFitter)):
            raise InputError(f"must be a fitter class, got {fitter!r}", parameter="fitter")
        self.fitter = fitter
        self.alpha = alpha
        self.fits_: dict = {}

    def fit(self, data, event=None, count=None, *, cause, ci_method: str | None = None):
        """Fit every fault class in ``cause`` (one label per row; ignored on right-censored rows); returns self."""
        data = coerce_life_data(data, event, count)
        labels = _labels(cause, data)
        classes = sorted({v for v in labels[~data.is_right]}, key=str)
        if not classes:
            raise InputError("no failures", parameter="data")
        fits = {}
        for c in classes:
            try:
                fits[c] = self.fitter(alpha=self.alpha).fit(censor_other_causes(data, labels, c),
                                                             ci_method=ci_method)
            except InputError as err:
                raise InputError(f"fault class {c!r}: {err.reason}", parameter=err.parameter) from None
            except Failure as err:
                raise Failure(f"fault class {c!r}: {err}") from None
        self.fits_ = fits
        self.data_ = data
        return self

    def _require_fitted(self) -> None:
        if not self.fits_:
            raise Failure("CompetingRisksFitter is not fitted; call fit() first")

    @property
    def summary(self) -> pd.DataFrame:
        """The parameters of every class (index: fault class, parameter)."""
        self._require_fitted()
        return pd.concat({c: f.summary for c, f in self.fits_.items()}, names=["fault_class"])

    @property
    def log_likelihood_(self) -> float:
        """Sum of the class log-likelihoods (the joint one under independent risks)."""
        self._require_fitted()
        return float(sum(f.log_likelihood_ for f in self.fits_.values()))

    @property
    def aic_(self) -> float:
        self._require_fitted()
        return float(sum(f.aic_ for f in self.fits_.values()))

    @property
    def bic_(self) -> float:
        self._require_fitted()
        k = sum(len(f.params_) for f in self.fits_.values())
        return float(k * np.log(self.data_.n_units) - 2 * self.log_likelihood_)

    def sf(self, t_h):
        """Survival from all classes: the product of the class survivals [-]."""
        self._require_fitted()
        out = 1.0
        for f in self.fits_.values():
            out = out * f.sf(t_h)
        return out

    def cdf(self, t_h):
        """Probability of failure of any class by ``t_h`` [h] [-]."""
        return 1.0 - self.sf(t_h)

    def probability_plot_data(self, method: str | None = None) -> pd.DataFrame:
        """The probability plot data of every class, with a ``fault_class`` column."""
        self._require_fitted()
        frames = []
        for c, f in self.fits_.items():
            d = f.probability_plot_data(method)
            d.insert(0, "fault_class", c)
            frames.append(d)
        return pd.concat(frames, ignore_index=True)

    def to_dict(self) -> dict:
        """Flat JSON-safe dict: ``{class}.{key}`` for every class's record."""
        self._require_fitted()
        out = {"model": "CompetingRisksFitter", "fitter": self.fitter.__name__,
               "fault_classes": ",".join(str(c) for c in self.fits_), "log_likelihood": self.log_likelihood_,
               "aic": self.aic_, "bic": self.bic_}
        for c, f in self.fits_.items():
            out.update({f"{c}.{k}": v for k, v in f.to_dict().items() if k != "model"})
        return out

    def __repr__(self) -> str:
        if not self.fits_:
            return "<CompetingRisksFitter: not fitted>"
        names = ", ".join(map(str, self.fits_))
        return f"<CompetingRisksFitter: {self.fitter.__name__} x {len(self.fits_)} classes ({names})>"
