"""Design-time redundancy sizing: the least redundancy that reaches a target yield.

For each scheme, ``size_redundancy`` walks a ladder of redundancy levels
(what one level adds is the scheme's registry entry, ``SchemeSpec.sizing``:
spare sites per row for ``row-shift``, spare rows = spare columns for
``row-col``, spare sites per b x b block for ``block``) on variants of the
design (``SchemeSpec.variant``), estimates the full-fabric yield of
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
looks, in the spirit of group-sequential designs [1]_: four looks at 0.999
err at most 0.4 % in all). Every level and stage uses the same seed, so
levels are compared on common random numbers. The first stage is small
because hopeless levels are the expensive ones (every wafer fails and its
maximal degraded array is searched) and few wafers settle them: with no
full wafer in 10 the interval's upper end is 0.53.

References
----------
.. [1] C. Jennison, B. W. Turnbull, *Group Sequential Methods with
   Applications to Clinical Trials*, Chapman & Hall/CRC, 2000, ch. 2.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from yieldkit.defects import DefectModel
from yieldkit.design import Design
from yieldkit.errors import InputError
from yieldkit.redundancy.specs import SCHEMES as REGISTRY
from yieldkit.redundancy.specs import resolve_scheme_params

__all__ = ["LADDER", "STAGES", "INTERIM_CONFIDENCE", "SCHEMES", "SIZABLE", "size_redundancy", "variant", "evaluate",
           "evaluate_sequential", "wafer_scale_row"]

#: Redundancy levels tried, in order.
LADDER = (0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)
#: Wafers of the interim stages of a level (then ``n_wafers``).
STAGES = (10, 50, 200, 800)
#: Confidence of the interim Clopper-Pearson intervals that stop a level early.
INTERIM_CONFIDENCE = 0.999
#: Every scheme the sizing study knows (those with a sizing variant in the registry).
SIZABLE = tuple(name for name, spec in REGISTRY.items() if spec.variant is not None)
#: The schemes sized by default.
SCHEMES = ("none", "row-shift", "row-col")

#: ``progress(record)`` is called after every level evaluated, with the level's row (see :func:`size_redundancy`).
Progress = Callable[[dict[str, Any]], None]


def variant(design: Design, scheme: str, level: int) -> Design:
    """The design with ``level`` units of redundancy of ``scheme`` around the same logical grid.

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> v = variant(load_design("small"), "block", 4)
    >>> (v.rows, v.cols, v.scheme_params)
    (64, 72, {'b': 8, 's': 4})
    """
    spec = REGISTRY.get(scheme)
    if spec is None or spec.variant is None:
        raise InputError(f"sizing does not know scheme '{scheme}' (known: {', '.join(SIZABLE)})", parameter="schemes")
    return spec.variant(design, level)


def evaluate(design: Design, model: DefectModel, n_wafers: int, seed: int, workers: int = 1,
             scheduler: str | None = None) -> dict[str, Any]:
    """Monte-Carlo full-fabric yield of ``design`` (with its Clopper-Pearson interval) and mean logical cores.

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> stats = evaluate(load_design("small"), DefectModel(0.05), 100, seed=1)
    >>> sorted(stats)
    ['ci_high', 'ci_low', 'full_fabric_yield', 'mean_logical_cores']
    """
    from yieldkit.montecarlo import simulate

    result = simulate(design, model, n_wafers, seed, workers=workers, scheduler=scheduler)
    return {
        "full_fabric_yield": result.full_fabric_yield,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "mean_logical_cores": result.mean_logical_cores,
    }


def evaluate_sequential(design: Design, model: DefectModel, target_yield: float, n_wafers: int, seed: int,
                        workers: int = 1, scheduler: str | None = None) -> dict[str, Any]:
    """Full-fabric yield of ``design``, stopping early when it is clearly above or below ``target_yield``.

    Returns :func:`evaluate`'s record plus ``wafers`` (simulated in the
    deciding stage) and ``stopped`` (``"clearly below"``, ``"clearly
    above"`` or ``"all wafers"``).
    """
    from yieldkit.stats import clopper_pearson

    stages = [n for n in STAGES if n < n_wafers] + [n_wafers]
    for i, n in enumerate(stages):
        stats = evaluate(design, model, n, seed, workers, scheduler)
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
                    schemes: tuple[str, ...] = SCHEMES, *, workers: int = 1, scheduler: str | None = None,
                    progress: Progress | None = None) -> list[dict[str, Any]]:
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
    schemes : tuple of str
        Schemes to size, any of :data:`SIZABLE`.
    workers : int
        Processes of each Monte-Carlo run (``yieldkit.montecarlo.simulate``).
    scheduler : str, optional
        Dask scheduler address each Monte-Carlo run goes to (same rows).
    progress : callable, optional
        Called with each level's row as soon as it is evaluated.

    Returns
    -------
    list of dict
        Per scheme, the row of the first level that reached the target (or
        the last level tried): scheme, redundancy label, level, reached,
        confident, yield and interval, wafers, stopped, physical grid, area
        overhead (existing sites / logical cores - 1), scheme parameters.

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> rows = size_redundancy(load_design("small"), DefectModel(0.05), 0.5, 50, 1, schemes=("none",))
    >>> rows[0]["scheme"], rows[0]["level"]
    ('none', 0)
    """
    if not 0 < target_yield < 1:
        raise InputError(f"must be in (0, 1), got {target_yield!r}", parameter="target_yield")
    if not schemes:
        raise InputError(f"give at least one scheme (known: {', '.join(SIZABLE)})", parameter="schemes")
    for scheme in schemes:
        variant(design, scheme, 0)  # unknown scheme: fail before any simulation
    rows = []
    for scheme in schemes:
        spec = REGISTRY[scheme]
        last: dict[str, Any] | None = None
        for level in (LADDER if spec.sizing else (0,)):
            candidate = variant(design, scheme, level)
            stats = evaluate_sequential(candidate, model, target_yield, n_wafers, seed, workers, scheduler)
            last = {
                "scheme": scheme,
                "redundancy": spec.level_label(level, resolve_scheme_params(scheme, candidate.scheme_params)),
                "level": level,
                "reached": stats["full_fabric_yield"] >= target_yield and stats["stopped"] != "clearly below",
                "confident": stats["ci_low"] >= target_yield,
                **stats,
                "physical_rows": candidate.rows,
                "physical_cols": candidate.cols,
                "area_overhead": candidate.existing_sites / candidate.logical_cores - 1.0,
                "scheme_params": dict(candidate.scheme_params),
            }
            if progress is not None:
                progress(last)
            if last["reached"]:
                break
        if last is not None:
            rows.append(last)
    return rows


def wafer_scale_row(design: Design, model: DefectModel, n_wafers: int, seed: int, workers: int = 1,
                    scheduler: str | None = None) -> dict[str, Any]:
    """The design as given, in the units of the die comparison."""
    stats = evaluate(design, model, n_wafers, seed, workers, scheduler)
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
