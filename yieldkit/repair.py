"""The repair planner of one wafer: plan with the design's scheme, verify, summarise.

``repair_wafer(design, defects)`` is what ``yieldkit repair`` calls: it plans
the repair with the design's scheme (``yieldkit.redundancy``), checks the map
with the independent verifier (``yieldkit.verify``) and returns the map with
what the verifier found (:class:`RepairReport`, flat record ``to_dict()``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from yieldkit.defect_map import DefectMap
from yieldkit.design import Design
from yieldkit.redundancy import parse_scheme_params, plan_repair
from yieldkit.repair_map import RepairMap
from yieldkit.verify import Violation, max_detour, verify_repair_map

__all__ = ["RepairReport", "nominal_map", "repair_wafer", "spare_sites_in_use", "with_scheme"]


@dataclass(frozen=True, eq=False)
class RepairReport:
    """A planned repair and what the verifier found."""

    repair_map: RepairMap
    violations: list[Violation]

    @property
    def repairable(self) -> bool:
        return self.repair_map.complete and not self.violations

    def __repr__(self) -> str:
        m = self.repair_map
        verdict = "repairable" if self.repairable else f"not repairable ({len(self.violations)} violations)"
        return f"RepairReport({m.design!r}, {m.scheme}, {m.logical_rows}x{m.logical_cols}, {verdict})"

    def to_dict(self) -> dict[str, Any]:
        """Flat, JSON-safe record of the repair (what ``yieldkit repair`` prints)."""
        m = self.repair_map
        return {
            "design": m.design,
            "scheme": m.scheme,
            "scheme_params": dict(m.scheme_params),
            "repairable": self.repairable,
            "logical_rows": m.logical_rows,
            "logical_cols": m.logical_cols,
            "logical_cores": m.logical_rows * m.logical_cols,
            "dead_cores": m.defects.n_dead_sites,
            "dead_links": m.defects.n_dead_links,
            "max_detour": max_detour(m),
            "algorithm": m.algorithm,
            "reason": m.reason,
            "violations": len(self.violations),
        }



def with_scheme(design: Design, scheme: str | None, params: dict[str, Any] | None = None) -> Design:
    """The design with another redundancy scheme and/or parameters.

    ``params`` override the design's own (same scheme) or replace them
    (another scheme); values are parsed by the scheme registry, so
    ``"inf"``, ``"3"`` and ``3`` are all accepted where the parameter allows.
    Raises SchemeError (exit 2) naming the parameter for an unknown scheme,
    parameter or value.

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> with_scheme(load_design("small"), "row-col", {"d": "inf"}).scheme_params
    {'d': 'inf'}
    """
    name = design.scheme if scheme is None else scheme
    merged = dict(design.scheme_params if scheme is None else {})
    merged.update(parse_scheme_params(name, params or {}))
    if name == design.scheme and merged == design.scheme_params:
        return design
    return replace(design, scheme=name, scheme_params=merged)


def repair_wafer(design: Design, defects: DefectMap, allow_degraded: bool = True) -> RepairReport:
    """Plan and verify the repair of one wafer.

    Parameters
    ----------
    design : Design
    defects : DefectMap
        The wafer's dead sites and links; dead links are mapped out at their
        cheaper end (``yieldkit.fabric``).
    allow_degraded : bool
        Plan the maximal logical array when the full grid cannot be presented
        (otherwise the map is empty).

    Raises DefectMapError (exit 2) when the defect map does not fit the design.

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> small = load_design("small")
    >>> report = repair_wafer(small, DefectMap(small.rows, small.cols, dead_links=[2 * (10 * small.cols + 30)]))
    >>> report.repairable, report.to_dict()["dead_links"]
    (True, 1)
    """
    repair_map = plan_repair(design, defects, allow_degraded=allow_degraded)
    violations = verify_repair_map(repair_map, design) if repair_map.physical_of_logical.size else []
    return RepairReport(repair_map, violations)


#: design fingerprint -> its nominal map (read-only); a design's defect-free repair never changes.
_NOMINAL: dict[str, np.ndarray] = {}


def nominal_map(design: Design) -> np.ndarray:
    """The scheme's defect-free map of ``design``: int64 (logical_rows, logical_cols) flat physical sites.

    The sites a wafer without defects uses; a site outside this footprint that
    serves a logical core is a spare taken into use. Cached per design
    fingerprint (the array is read-only).

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> nominal_map(load_design("small")).shape
    (64, 64)
    """
    key = design.fingerprint
    if key not in _NOMINAL:
        nominal = plan_repair(design, DefectMap.empty(design)).physical_of_logical.copy()
        nominal.flags.writeable = False
        _NOMINAL[key] = nominal
    return _NOMINAL[key]


def spare_sites_in_use(design: Design, repair_map: RepairMap) -> np.ndarray:
    """Sorted flat physical sites that serve a logical core outside the nominal footprint (spares in use).

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> small = load_design("small")
    >>> spare_sites_in_use(small, repair_wafer(small, DefectMap.empty(small)).repair_map).size
    0
    >>> one_dead = DefectMap(small.rows, small.cols, [10 * small.cols + 5])
    >>> spare_sites_in_use(small, repair_wafer(small, one_dead).repair_map).size
    1
    """
    in_use = repair_map.physical_of_logical.ravel()
    return np.setdiff1d(in_use, nominal_map(design).ravel())
