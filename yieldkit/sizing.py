"""Design-time redundancy sizing: the least redundancy that reaches a target yield.

For each scheme, ``size_redundancy`` walks a ladder of redundancy levels
(spare sites per row for ``row-shift``; spare rows = spare columns for
``row-col``) on variants of the design, estimates the full-fabric yield of
each by Monte Carlo (``yieldkit.montecarlo.simulate``, real planners) and
stops at the first level whose yield reaches the target. Each row reports
the yield with its Clopper-Pearson interval, whether the interval's lower
end clears the target, the area overhead (existing sites / logical cores - 1)
and the expected good logical cores per wafer (degraded parts included).

Sequential test: a level is simulated in growing stages (:data:`STAGES`
wafers, then ``n_wafers``); after each stage but the last, the level is
decided early when the Clopper-Pearson interval at :data:`INTERIM_CONFIDENCE`
lies wholly below the target (clearly failing: the next level is tried) or
wholly above it (clearly passing). The stricter interim confidence keeps the
repeated looks from inflating the error rate (a Bonferroni bound over the
looks, in the spirit of group-sequential designs [1]_). Every level and
stage uses the same seed, so levels are compared on common random numbers.

References
----------
.. [1] C. Jennison, B. W. Turnbull, *Group Sequential Methods with
   Applications to Clinical Trials*, Chapman & Hall/CRC, 2000, ch. 2.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from yieldkit.defects import DefectModel
from yieldkit.design import Design
from yieldkit.errors import InputError

__all__ = ["LADDER", "STAGES", "INTERIM_CONFIDENCE", "size_redundancy", "variant", "evaluate", "evaluate_sequential"]

#: Redundancy levels tried, in order.
LADDER = (0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)
#: Wafers of the interim stages of a level (then ``n_wafers``).
STAGES = (50, 200, 800)
#: Confidence of the interim Clopper-Pearson intervals that stop a level early.
INTERIM_CONFIDENCE = 0.999
SCHEMES = ("none", "row-shift", "row-col")


def variant(design: Design, scheme: str, level: int) -> Design:
    """The design with ``level`` units of redundancy of ``scheme`` around the same logical grid."""
    lr, lc = design.logical_rows, design.logical_cols
    if scheme == "none":
        return replace(design, rows=lr, cols=lc, scheme="none", scheme_params={})
    if scheme == "row-shift":
        reach = design.scheme_params.get("reach", 2) if design.scheme == "row-shift" else 2
        return replace(design, rows=lr, cols=lc + level, scheme="row-shift", scheme_params={"reach": reach})
    if scheme == "row-col":
        d = design.scheme_params.get("d", 1) if design.scheme == "row-col" else 1
        return replace(design, rows=lr + level, cols=lc + level, scheme="row-col",
                       scheme_params={"sr": level, "sc": level, "d": d})
    raise InputError(f"sizing does not know scheme '{scheme}' (known: {', '.join(SCHEMES)})")


def evaluate(design: Design, model: DefectModel, n_wafers: int, seed: int) -> dict[str, Any]:
    from yieldkit.montecarlo import simulate

    result = simulate(design, model, n_wafers, seed, workers=1)
    return {
        "full_fabric_yield": result.full_fabric_yield,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "mean_logical_cores": result.mean_logical_cores,
    }


def evaluate_sequential(design: Design, model: DefectModel, target_yield: float, n_wafers: int, seed: int
                        ) -> dict[str, Any]:
    """Full-fabric yield of ``design``, stopping early when it is clearly above or below ``target_yield``.

    Returns :func:`evaluate`'s record plus ``wafers`` (simulated in the
    deciding stage) and ``stopped`` (``"clearly below"``, ``"clearly
    above"`` or ``"all wafers"``).
    """
    from yieldkit.stats import clopper_pearson

    stages = [n for n in STAGES if n < n_wafers] + [n_wafers]
    for i, n in enumerate(stages):
        stats = evaluate(design, model, n, seed)
        if i == len(stages) - 1:
            return {**stats, "wafers": n, "stopped": "all wafers"}
        full = int(round(stats["full_fabric_yield"] * n))
        lo, hi = clopper_pearson(full, n, INTERIM_CONFIDENCE)
        if hi < target_yield:
            return {**stats, "wafers": n, "stopped": "clearly below"}
        if lo >= target_yield:
            return {**stats, "wafers": n, "stopped": "clearly above"}
    raise AssertionError("unreachable")


def size_redundancy(design: Design, model: DefectModel, target_yield: float, n_wafers: int, seed: int,
                    schemes: tuple[str, ...] = SCHEMES, slow_wafers: int | None = None) -> list[dict[str, Any]]:
    """One row per scheme: the least redundancy level reaching ``target_yield``.

    Parameters
    ----------
    design : Design
        Logical grid, pitch and wafer of the product; its physical grid is
        replaced by each scheme's variant (see :func:`variant`).
    model : DefectModel
    target_yield : float
        Full-fabric yield to reach [-], in (0, 1).
    n_wafers : int
        Monte-Carlo wafers per level at most [-] (fewer when the sequential
        test decides early, see the module docstring).
    seed : int
        Seed of every level (common random numbers).
    slow_wafers : int, optional
        Cap on the wafers per level for ``row-col`` (default ``n_wafers``).
    """
    if not 0 < target_yield < 1:
        raise InputError(f"target yield must be in (0, 1), got {target_yield!r}")
    unknown = [s for s in schemes if s not in SCHEMES]
    if unknown or not schemes:
        raise InputError(f"sizing does not know scheme '{unknown[0] if unknown else ''}' (known: {', '.join(SCHEMES)})")
    rows = []
    for scheme in schemes:
        levels = (0,) if scheme == "none" else LADDER
        wafers = n_wafers if scheme != "row-col" else min(n_wafers, slow_wafers or n_wafers)
        last: dict[str, Any] | None = None
        for level in levels:
            candidate = variant(design, scheme, level)
            stats = evaluate_sequential(candidate, model, target_yield, wafers, seed)
            last = {
                "scheme": scheme,
                "redundancy": _label(scheme, level, candidate),
                "level": level,
                "reached": stats["full_fabric_yield"] >= target_yield and stats["stopped"] != "clearly below",
                "confident": stats["ci_low"] >= target_yield,
                **stats,
                "physical_rows": candidate.rows,
                "physical_cols": candidate.cols,
                "area_overhead": candidate.existing_sites / candidate.logical_cores - 1.0,
                "scheme_params": dict(candidate.scheme_params),
            }
            if last["reached"]:
                break
        if last is not None:
            rows.append(last)
    return rows


def _label(scheme: str, level: int, design: Design) -> str:
    if scheme == "none":
        return "none"
    if scheme == "row-shift":
        return f"{level} spare sites/row (reach {design.scheme_params.get('reach')})"
    return f"{level} spare rows + {level} spare cols (d={design.scheme_params.get('d')})"


def wafer_scale_row(design: Design, model: DefectModel, n_wafers: int, seed: int) -> dict[str, Any]:
    """The design as given, in the units of the die comparison."""
    stats = evaluate(design, model, n_wafers, seed)
    wafer_area = math.pi * (design.wafer_diameter_mm / 2.0) ** 2
    enabled = stats["mean_logical_cores"] * design.site_area_mm2
    return {
        "product": f"wafer-scale '{design.name}' ({design.scheme}), {design.logical_cores} logical cores",
        "die_area_mm2": design.existing_sites * design.site_area_mm2,
        "gross_dies_per_wafer": 1.0,
        "yield": stats["full_fabric_yield"],
        "good_dies_per_wafer": stats["full_fabric_yield"],
        "good_silicon_mm2_per_wafer": enabled,
        "enabled_fraction_of_wafer": enabled / wafer_area,
        "sellable_units_per_wafer": stats["mean_logical_cores"],
    }
