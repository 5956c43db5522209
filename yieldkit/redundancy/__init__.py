"""Redundancy schemes: how a wafer's dead sites are mapped out.

Each scheme is one small module exposing ``plan(design, defects,
allow_degraded) -> RepairMap`` (one wafer: the full logical-to-physical map,
or the maximal logical array the wafer can present and why) and
``assessor(design)`` (a vectorised batch check for the Monte-Carlo engine).

``assessor_for(design)`` returns the function the Monte-Carlo engine calls
on every batch of sampled wafers; it says which wafers present the full
logical grid and how many logical cores each one presents.
``plan_repair(design, defects)`` dispatches to the design's scheme planner.

Schemes: ``none`` (no redundancy), ``row-shift`` (spare sites per row,
routing reach), ``row-col`` (spare rows and columns, row bypass and column
rerouting within compensation distance d), ``block`` (s spare sites per
b x b tile of logical cores). See each module's docstring.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from yieldkit.defect_map import DefectMap
from yieldkit.defects import DefectBatch
from yieldkit.design import Design
from yieldkit.redundancy.common import SchemeError

__all__ = ["BatchOutcome", "Assessor", "assessor_for", "check_scheme_params", "plan_repair", "scheme_module", "SCHEMES", "SchemeError"]

#: Scheme name -> module under ``yieldkit.redundancy``.
SCHEMES = {
    "none": "none",
    "row-shift": "row_shift",
    "row-col": "row_col",
    "block": "block",
}


@dataclass(frozen=True, eq=False)
class BatchOutcome:
    """What a batch of wafers presents after repair.

    Attributes
    ----------
    full : ndarray of bool, shape (n_wafers,)
        The wafer presents the design's full logical grid.
    logical_cores : ndarray of int64, shape (n_wafers,)
        Logical cores the wafer presents (``design.logical_cores`` when full,
        the degraded part's grid otherwise).
    """

    full: np.ndarray
    logical_cores: np.ndarray


Assessor = Callable[[DefectBatch], BatchOutcome]


def scheme_module(name: str) -> ModuleType:
    """The module implementing scheme ``name``; SchemeError (exit 2) when unknown."""
    module = SCHEMES.get(name)
    if module is None:
        raise SchemeError(f"unknown redundancy scheme '{name}' (known: {', '.join(SCHEMES)})")
    return importlib.import_module(f"yieldkit.redundancy.{module}")


#: The parameters each scheme takes: int >= 0, or "inf" for unlimited reach.
SCHEME_PARAMS = {"none": set(), "row-shift": {"reach"}, "row-col": {"sr", "sc", "d"}, "block": {"b", "s", "reach"}}


def check_scheme_params(name: str, params: dict) -> None:
    """SchemeError (exit 2) for an unknown parameter or a value that is not an int >= 0 (or "inf" for reach)."""
    scheme_module(name)
    for key, value in params.items():
        if key not in SCHEME_PARAMS[name]:
            known = ", ".join(sorted(SCHEME_PARAMS[name])) or "none"
            raise SchemeError(f"scheme '{name}' has no parameter '{key}' (it takes: {known})")
        unlimited = key in ("reach", "d") and value in ("inf", float("inf"))
        if not unlimited and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise SchemeError(f"parameter '{key}' of scheme '{name}' must be an integer >= 0"
                              f"{' or inf' if key in ('reach', 'd') else ''}, got {value!r}")


def assessor_for(design: Design) -> Assessor:
    """The batch assessor of the design's redundancy scheme."""
    return scheme_module(design.scheme).assessor(design)


def plan_repair(design: Design, defects: DefectMap, allow_degraded: bool = True):  # noqa: ANN201
    """Plan the repair of one wafer with the design's scheme.

    Returns a :class:`~yieldkit.repair_map.RepairMap`: ``complete`` when the
    full logical grid is presented; otherwise the maximal logical array with
    ``reason`` (or, without ``allow_degraded``, an empty 0x0 map with the
    reason). Raises DefectMapError when the defect map does not fit the design.
    """
    defects.check_design(design)
    return scheme_module(design.scheme).plan(design, defects, allow_degraded)
