"""Conventional dies on the same wafer: gross dies, yield with and without unit redundancy.

The wafer-scale trade-off side by side with dicing the wafer into
conventional dies (e.g. an 814 mm^2 GPU with 144 streaming multiprocessors of
which 132 must work).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from yieldkit.models import negative_binomial_yield, poisson_yield

__all__ = ["gross_dies_per_wafer", "die_yield_with_units", "DieProduct", "die_comparison", "enabled_units"]


def gross_dies_per_wafer(die_area_mm2: float, wafer_diameter_mm: float = 300.0, edge_exclusion_mm: float = 3.0) -> float:
    r"""Gross (whole) dies per wafer, the standard approximation.

    .. math:: N = \frac{\pi (d/2)^2}{A} - \frac{\pi d}{\sqrt{2 A}}

    with :math:`d` the usable diameter (wafer diameter minus twice the edge
    exclusion) [mm] and :math:`A` the die area [mm^2]; the second term counts
    the partial dies lost along the edge.

    References
    ----------
    .. [1] J. L. Hennessy, D. A. Patterson, *Computer Architecture: A
       Quantitative Approach*, 5th ed., Morgan Kaufmann, 2012, sec. 1.6
       ("dies per wafer").
    .. [2] D. K. de Vries, "Investigation of gross die per wafer formulas",
       IEEE Trans. Semiconductor Manufacturing 18(1), 2005, pp. 136-139.
    """
    d = wafer_diameter_mm - 2.0 * edge_exclusion_mm
    return max(math.pi * (d / 2.0) ** 2 / die_area_mm2 - math.pi * d / math.sqrt(2.0 * die_area_mm2), 0.0)


def die_yield_with_units(d0_per_cm2: float, die_area_mm2: float, alpha: float | None, units: int,
                         units_needed: int, unit_area_fraction: float) -> float:
    r"""Yield of a die that works when ``units_needed`` of its ``units`` work.

    The die's defect count is Poisson with mean :math:`\lambda` (gamma with
    shape :math:`\alpha` and mean :math:`\mu = D_0 A` for clustered defects,
    Stapper). A fraction :math:`f` of the area is split into U identical
    units; the rest (uncore) must be defect-free:

    .. math:: Y = E_\lambda\left[ e^{-\lambda (1-f)}
              P\{\mathrm{Bin}(U, 1 - e^{-\lambda f / U}) \le U - K\} \right]

    evaluated by generalised Gauss-Laguerre quadrature over the gamma law.

    Parameters
    ----------
    d0_per_cm2 : float
        Killer-defect density [cm^-2].
    die_area_mm2 : float
        Die area [mm^2].
    alpha : float or None
        Negative-binomial clustering [-]; None = Poisson.
    units, units_needed : int
        Units on the die (U) and units that must work (K) [-].
    unit_area_fraction : float
        Fraction f of the die area in the units [-].

    References
    ----------
    .. [1] I. Koren, Z. Koren, "Defect tolerance in VLSI circuits: techniques
       and yield analysis", Proc. IEEE 86(9), 1998, pp. 1819-1838, sec. III.
    .. [2] C. H. Stapper, F. M. Armstrong, K. Saji, "Integrated circuit yield
       statistics", Proc. IEEE 71(4), 1983, pp. 453-470.
    """
    mu = d0_per_cm2 * die_area_mm2 / 100.0
    spare = units - units_needed

    def given(lam: np.ndarray) -> np.ndarray:
        p_unit = -np.expm1(-lam * unit_area_fraction / units)
        return np.exp(-lam * (1.0 - unit_area_fraction)) * special.bdtr(spare, units, p_unit)

    if alpha is None:
        return float(given(np.array([mu]))[0])
    # lambda = (mu / alpha) * x with x ~ Gamma(alpha, 1): Gauss-Laguerre with weight x^(alpha-1) e^-x
    x, w = special.roots_genlaguerre(96, alpha - 1.0)
    return float(np.sum(w * given(mu / alpha * x)) / special.gamma(alpha))


def enabled_units(enabled: int, built: int) -> dict[str, Any]:
    """The figure the industry quotes: how many of the units (cores, SMs) built are enabled in the product.

    Parameters
    ----------
    enabled : int
        Units the product presents [-]: logical cores of a wafer-scale
        fabric, units a sellable die needs.
    built : int
        Units built [-]: existing core sites of the wafer, units on the die.

    Returns
    -------
    dict
        ``units_enabled``, ``units_built`` and ``enabled_unit_share`` [-].

    Examples
    --------
    >>> enabled_units(132, 144)["enabled_unit_share"]
    0.9166666666666666
    >>> round(enabled_units(893_064, 969_712)["enabled_unit_share"], 3)
    0.921
    """
    if built <= 0 or not 0 <= enabled <= built:
        raise ValueError(f"need 0 <= enabled <= built and built > 0, got {enabled} of {built}")
    return {"units_enabled": enabled, "units_built": built, "enabled_unit_share": enabled / built}


@dataclass(frozen=True)
class DieProduct:
    """A conventional die: area, units and the units a sellable part needs."""

    name: str = "814 mm^2 GPU, 132 of 144 SMs"
    die_area_mm2: float = 814.0
    units: int = 144
    units_needed: int = 132
    unit_area_fraction: float = 0.8


def die_comparison(d0_per_cm2: float, alpha: float | None, die: DieProduct = DieProduct(),
                   wafer_diameter_mm: float = 300.0, edge_exclusion_mm: float = 3.0) -> list[dict[str, Any]]:
    """Good dies per wafer without and with per-die unit redundancy.

    Parameters
    ----------
    d0_per_cm2 : float
        Killer-defect density [cm^-2].
    alpha : float or None
        Negative-binomial clustering [-]; None = Poisson.
    die : DieProduct
        The conventional die.
    wafer_diameter_mm, edge_exclusion_mm : float
        The wafer [mm].

    Returns
    -------
    list of dict
        Two rows (all units must work; ``units_needed`` of ``units``): gross and
        good dies per wafer, yield, good silicon [mm^2], enabled fraction of
        the wafer area, sellable units per wafer and the enabled share of the
        units built (see :func:`enabled_units`).

    Examples
    --------
    >>> rows = die_comparison(0.1, 2.0)
    >>> [round(r["enabled_unit_share"], 3) for r in rows]
    [1.0, 0.917]
    >>> rows[1]["yield"] > rows[0]["yield"]
    True
    """
    gross = gross_dies_per_wafer(die.die_area_mm2, wafer_diameter_mm, edge_exclusion_mm)
    wafer_area = math.pi * (wafer_diameter_mm / 2.0) ** 2
    area_cm2 = die.die_area_mm2 / 100.0
    plain = float(poisson_yield(d0_per_cm2, area_cm2) if alpha is None else negative_binomial_yield(d0_per_cm2, area_cm2, alpha))
    redundant = die_yield_with_units(d0_per_cm2, die.die_area_mm2, alpha, die.units, die.units_needed,
                                     die.unit_area_fraction)
    rows = []
    for label, y, units in (("die, all units must work", plain, die.units),
                            (f"die, {die.units_needed} of {die.units} units", redundant, die.units_needed)):
        good = gross * y
        enabled_mm2 = good * die.die_area_mm2 * (units / die.units if units != die.units else 1.0)
        rows.append({
            "product": f"{die.name}: {label}",
            "die_area_mm2": die.die_area_mm2,
            "gross_dies_per_wafer": gross,
            "yield": y,
            "good_dies_per_wafer": good,
            "good_silicon_mm2_per_wafer": good * die.die_area_mm2,
            "enabled_fraction_of_wafer": enabled_mm2 / wafer_area,
            "sellable_units_per_wafer": good * units,
            **enabled_units(units, die.units),
        })
    return rows
