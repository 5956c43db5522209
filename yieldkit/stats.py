"""Confidence intervals for yields estimated by Monte Carlo."""

from __future__ import annotations

import numpy as np
from scipy import special

from yieldkit.errors import InputError

__all__ = ["clopper_pearson", "CI_METHOD"]

CI_METHOD = "clopper-pearson"


def clopper_pearson(k: int | np.ndarray, n: int | np.ndarray, confidence: float = 0.95
                    ) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Exact (Clopper-Pearson) binomial confidence interval for k successes in n trials.

    .. math::
        p_{lo} = B^{-1}(\\tfrac{1-c}{2}; k, n-k+1), \\quad
        p_{hi} = B^{-1}(\\tfrac{1+c}{2}; k+1, n-k)

    with :math:`B^{-1}` the beta quantile, and :math:`p_{lo} = 0` at k = 0,
    :math:`p_{hi} = 1` at k = n. Conservative: coverage is at least ``confidence``.

    Parameters
    ----------
    k : int or array
        Successes [-], 0 <= k <= n.
    n : int or array
        Trials [-], > 0.
    confidence : float
        Two-sided confidence level [-], in (0, 1).

    Returns
    -------
    (low, high) : floats for scalar input, arrays otherwise
        The interval's bounds [-].

    Raises
    ------
    InputError
        ``k``, ``n`` or ``confidence`` out of range, naming it.

    Examples
    --------
    >>> low, high = clopper_pearson(5, 10)
    >>> round(low, 4), round(high, 4)
    (0.1871, 0.8129)
    >>> clopper_pearson(0, 10)[0]  # no success: the lower bound is 0
    0.0

    References
    ----------
    .. [1] C. J. Clopper, E. S. Pearson, "The use of confidence or fiducial
       limits illustrated in the case of the binomial", Biometrika 26(4),
       1934, pp. 404-413.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    if not np.all(np.isfinite(n)) or np.any(n <= 0) or np.any(n != np.floor(n)):
        raise InputError("must be positive integers", parameter="n")
    if not np.all(np.isfinite(k)) or np.any(k < 0) or np.any(k > n) or np.any(k != np.floor(k)):
        raise InputError("must be integers in [0, n]", parameter="k")
    if not 0 < confidence < 1:
        raise InputError(f"must be in (0, 1), got {confidence!r}", parameter="confidence")
    tail = (1.0 - confidence) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(k > 0, special.betaincinv(k, n - k + 1, tail), 0.0)
        high = np.where(k < n, special.betaincinv(k + 1, n - k, 1.0 - tail), 1.0)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high
