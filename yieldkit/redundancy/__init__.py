"""Redundancy schemes: how a wafer's dead sites and links are mapped out.

Each scheme is declared once in the registry (:data:`SCHEMES`, see
``yieldkit.redundancy.specs``: name, parameters with defaults and whether
``inf`` is allowed, planner and assessor module, sizing variant, label) and
implemented by one small module exposing ``plan(design, defects,
allow_degraded) -> RepairMap`` (one wafer: the full logical-to-physical map,
or the maximal logical array the wafer can present and why) and
``assessor(design)`` (a vectorised batch check for the Monte-Carlo engine).

``assessor_for(design)`` returns the function the Monte-Carlo engine calls
on every batch of sampled wafers; it says which wafers present the full
logical grid and how many logical cores each one presents.
``plan_repair(design, defects)`` dispatches to the design's scheme planner.
Dead links are handled the same way by every scheme: see ``yieldkit.fabric``.

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
from yieldkit.redundancy.specs import (
    SCHEMES,
    Param,
    SchemeError,
    SchemeSpec,
    describe_schemes,
    parse_scheme_params,
    resolve_scheme_params,
    scheme_spec,
)

__all__ = ["BatchOutcome", "Assessor", "assessor_for", "plan_repair", "scheme_module", "SCHEMES", "SchemeError",
           "SchemeSpec", "Param", "scheme_spec", "parse_scheme_params", "resolve_scheme_params", "describe_schemes"]


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

    def __repr__(self) -> str:
        return f"BatchOutcome({self.full.size} wafers, {int(self.full.sum())} full)"

    def to_dict(self) -> dict[str, int]:
        """Flat record: wafers, full wafers, total logical cores."""
        return {"wafers": int(self.full.size), "full": int(self.full.sum()),
                "logical_cores": int(self.logical_cores.sum())}


Assessor = Callable[[DefectBatch], BatchOutcome]


def scheme_module(name: str) -> ModuleType:
    """The module implementing scheme ``name``; SchemeError (exit 2) when unknown."""
    return importlib.import_module(f"yieldkit.redundancy.{scheme_spec(name).module}")


def assessor_for(design: Design) -> Assessor:
    """The batch assessor of the design's redundancy scheme.

    Examples
    --------
    >>> from yieldkit.defects import DefectModel, sample_batch
    >>> from yieldkit.design import load_design
    >>> design = load_design("small")
    >>> batch = sample_batch(design, DefectModel(0.5), 4, np.random.default_rng(0))
    >>> assessor_for(design)(batch).full.shape
    (4,)
    """
    return scheme_module(design.scheme).assessor(design)


def plan_repair(design: Design, defects: DefectMap, allow_degraded: bool = True):  # noqa: ANN201
    """Plan the repair of one wafer with the design's scheme.

    Returns a :class:`~yieldkit.repair_map.RepairMap`: ``complete`` when the
    full logical grid is presented; otherwise the maximal logical array with
    ``reason`` (or, without ``allow_degraded``, an empty 0x0 map with the
    reason). Raises DefectMapError when the defect map does not fit the design.

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> design = load_design("small")
    >>> m = plan_repair(design, DefectMap.empty(design))
    >>> m.complete, m.physical_of_logical.shape
    (True, (64, 64))
    """
    defects.check_design(design)
    return scheme_module(design.scheme).plan(design, defects, allow_degraded)
