"""Closed-form yield models: the references the Monte Carlo is tested against.

Every function is vectorised: scalars, numpy arrays and pandas Series work
and broadcast. Areas are in cm^2 and defect densities in cm^-2, so the
product ``d0_per_cm2 * area_cm2`` is the mean number of killer defects.
A negative, infinite or NaN argument raises
:class:`~yieldkit.errors.InputError` naming the parameter (a ``ValueError``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from yieldkit.errors import InputError

__all__ = [
    "poisson_yield",
    "murphy_yield",
    "seeds_yield",
    "negative_binomial_yield",
    "bose_einstein_yield",
    "site_failure_probability",
    "row_spare_yield",
]


def _checked(value: ArrayLike, name: str, least: float = 0.0, strict: bool = False) -> np.ndarray:
    """``value`` as a float array, or InputError naming ``name`` unless finite and >= (or >) ``least``."""
    array = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(array)):
        raise InputError("must be finite numbers", parameter=name)
    if np.any(array <= least) if strict else np.any(array < least):
        raise InputError(f"must be {'>' if strict else '>='} {least:g}", parameter=name)
    return array


def _mean_defects(d0_per_cm2: ArrayLike, area_cm2: ArrayLike) -> np.ndarray:
    return _checked(d0_per_cm2, "d0_per_cm2") * _checked(area_cm2, "area_cm2")


def poisson_yield(d0_per_cm2: ArrayLike, area_cm2: ArrayLike) -> np.ndarray:
    r"""Poisson yield: defects independent and uniform.

    .. math:: Y = e^{-A D_0}

    Parameters
    ----------
    d0_per_cm2 : float or array
        Killer-defect density [cm^-2].
    area_cm2 : float or array
        Critical area [cm^2].

    Examples
    --------
    >>> float(poisson_yield(0.1, 10.0))  # one defect expected: e^-1
    0.36787944117144233

    References
    ----------
    .. [1] C. H. Stapper, F. M. Armstrong, K. Saji, "Integrated circuit yield
       statistics", Proc. IEEE 71(4), 1983, eq. (3).
    """
    return np.exp(-_mean_defects(d0_per_cm2, area_cm2))


def murphy_yield(d0_per_cm2: ArrayLike, area_cm2: ArrayLike) -> np.ndarray:
    r"""Murphy's yield: triangular distribution of defect density over wafers.

    .. math:: Y = \left(\frac{1 - e^{-A D_0}}{A D_0}\right)^2

    (1 at :math:`A D_0 = 0`).

    Parameters
    ----------
    d0_per_cm2 : float or array
        Killer-defect density [cm^-2].
    area_cm2 : float or array
        Critical area [cm^2].

    Examples
    --------
    >>> round(float(murphy_yield(0.1, 10.0)), 6)  # above the Poisson 0.367879
    0.399576

    References
    ----------
    .. [1] B. T. Murphy, "Cost-size optima of monolithic integrated circuits",
       Proc. IEEE 52(12), 1964, pp. 1537-1545.
    """
    m = _mean_defects(d0_per_cm2, area_cm2)
    safe = np.where(m > 0, m, 1.0)
    return np.where(m > 0, (-np.expm1(-safe) / safe) ** 2, 1.0)


def seeds_yield(d0_per_cm2: ArrayLike, area_cm2: ArrayLike) -> np.ndarray:
    r"""Seeds' yield: exponential distribution of defect density over wafers.

    .. math:: Y = e^{-\sqrt{A D_0}}

    Parameters
    ----------
    d0_per_cm2 : float or array
        Killer-defect density [cm^-2].
    area_cm2 : float or array
        Critical area [cm^2].

    Examples
    --------
    >>> round(float(seeds_yield(0.4, 10.0)), 6)  # e^-2
    0.135335

    References
    ----------
    .. [1] R. B. Seeds, "Yield, economic, and logistic models for complex
       digital arrays", IEEE Int. Convention Record, part 6, 1967, pp. 61-66.
    """
    return np.exp(-np.sqrt(_mean_defects(d0_per_cm2, area_cm2)))


def negative_binomial_yield(d0_per_cm2: ArrayLike, area_cm2: ArrayLike, alpha: ArrayLike) -> np.ndarray:
    r"""Negative-binomial (clustered) yield of Stapper.

    .. math:: Y = \left(1 + \frac{A D_0}{\alpha}\right)^{-\alpha}

    The defect count is Poisson with a gamma-distributed mean (shape
    :math:`\alpha`); :math:`\alpha \to \infty` gives the Poisson yield.

    Parameters
    ----------
    d0_per_cm2 : float or array
        Killer-defect density [cm^-2].
    area_cm2 : float or array
        Critical area [cm^2].
    alpha : float or array
        Clustering parameter [-], > 0.

    Examples
    --------
    >>> float(negative_binomial_yield(0.1, 10.0, 2.0))  # (1 + 1/2)^-2
    0.4444444444444444

    References
    ----------
    .. [1] C. H. Stapper, "Defect density distribution for LSI yield
       calculations", IEEE Trans. Electron Devices 20(7), 1973, pp. 655-657.
    .. [2] C. H. Stapper, F. M. Armstrong, K. Saji, Proc. IEEE 71(4), 1983, eq. (10).
    """
    a = _checked(alpha, "alpha", strict=True)
    return (1.0 + _mean_defects(d0_per_cm2, area_cm2) / a) ** (-a)


def bose_einstein_yield(d0_per_cm2: ArrayLike, area_cm2: ArrayLike, n_layers: ArrayLike) -> np.ndarray:
    r"""Bose-Einstein yield over n critical mask layers, each of density D0.

    .. math:: Y = (1 + A D_0)^{-n}

    Parameters
    ----------
    d0_per_cm2 : float or array
        Killer-defect density per layer [cm^-2].
    area_cm2 : float or array
        Critical area [cm^2].
    n_layers : int or array
        Critical mask layers [-], >= 1.

    Examples
    --------
    >>> float(bose_einstein_yield(0.1, 10.0, 3))  # 2^-3
    0.125

    References
    ----------
    .. [1] J. E. Price, "A new look at yield of integrated circuits",
       Proc. IEEE 58(8), 1970, pp. 1290-1291.
    """
    n = _checked(n_layers, "n_layers", least=1.0)
    return (1.0 + _mean_defects(d0_per_cm2, area_cm2)) ** (-n)


def site_failure_probability(d0_per_cm2: ArrayLike, site_area_mm2: ArrayLike) -> np.ndarray:
    r"""Probability that one core site is dead under Poisson point defects.

    .. math:: p = 1 - e^{-D_0 a / 100}

    with the site area :math:`a` in mm^2 (100 mm^2 per cm^2). Sites are
    independent under a Poisson process, so this feeds :func:`row_spare_yield`.

    Parameters
    ----------
    d0_per_cm2 : float or array
        Killer-defect density [cm^-2].
    site_area_mm2 : float or array
        Area of one site [mm^2].

    Examples
    --------
    >>> round(float(site_failure_probability(1.0, 1.0)), 8)  # 1 mm^2 at 1 cm^-2: 1 - e^-0.01
    0.00995017
    """
    return -np.expm1(-_checked(d0_per_cm2, "d0_per_cm2") * _checked(site_area_mm2, "site_area_mm2") / 100.0)


def row_spare_yield(p_dead: ArrayLike, sites_per_row: ArrayLike, spares_per_row: ArrayLike) -> np.ndarray:
    r"""Yield of an array whose rows each tolerate ``spares`` dead sites.

    With independent site failures of probability p, row i of :math:`n_i`
    sites survives when at most :math:`s_i` of them are dead:

    .. math:: Y = \prod_i P[\mathrm{Bin}(n_i, p) \le s_i]

    Parameters
    ----------
    p_dead : float or array
        Probability a site is dead [-]; an array broadcasts against a new
        leading axis (one yield per p).
    sites_per_row : array of int
        Sites of each row [-].
    spares_per_row : int or array of int
        Dead sites each row tolerates [-].

    Examples
    --------
    >>> p = 0.01  # one row of 3 sites, one spare: no dead site or exactly one
    >>> round(float(row_spare_yield(p, [3], 1)), 8) == round((1 - p) ** 3 + 3 * p * (1 - p) ** 2, 8)
    True

    References
    ----------
    .. [1] I. Koren, Z. Koren, "Defect tolerance in VLSI circuits: techniques
       and yield analysis", Proc. IEEE 86(9), 1998, pp. 1819-1838, sec. IV.
    """
    from scipy import stats  # 0.3 s to import: only here, so the CLI starts fast

    p = _checked(p_dead, "p_dead")[..., None]
    if np.any(p > 1):
        raise InputError("must be in [0, 1]", parameter="p_dead")
    n = _checked(sites_per_row, "sites_per_row")
    s = np.broadcast_to(_checked(spares_per_row, "spares_per_row"), n.shape)
    log_tail = stats.binom.logcdf(s, n, p)
    return np.exp(log_tail.sum(axis=-1))
