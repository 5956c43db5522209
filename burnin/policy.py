"""What a wafer becomes when it cannot present its standard fabric.

Policy (one parameter, ``min_fraction``, default 0.9): a wafer whose repair
presents the design's full logical grid is a full fabric (``repaired``, or
``shipped`` after burn-in); one that cannot is an **engineering part** with
the maximal logical grid the planner finds when that grid holds at least
``min_fraction`` of the design's logical cores, else it is **scrap**.
"""

from __future__ import annotations

from yieldkit.design import Design
from yieldkit.repair_map import RepairMap

__all__ = ["MIN_FRACTION", "fabric_state"]

MIN_FRACTION = 0.9
"""Smallest share of the standard fabric's logical cores an engineering part keeps [-]."""


def fabric_state(repair_map: RepairMap, design: Design, verified: bool = True,
                 min_fraction: float = MIN_FRACTION) -> tuple[str, str]:
    """``("full", "")``, ``("engineering_part", why)`` or ``("scrap", why)`` by the policy above.

    Examples
    --------
    >>> import numpy as np
    >>> from yieldkit.design import load_design
    >>> from yieldkit.defect_map import DefectMap
    >>> d = load_design("small")
    >>> m = RepairMap(np.zeros((60, 64), np.int64), DefectMap.empty(d), "row-shift", complete=False)
    >>> fabric_state(m, d)[0]
    'engineering_part'
    >>> fabric_state(RepairMap(np.zeros((10, 64), np.int64), DefectMap.empty(d), "row-shift", complete=False), d)[0]
    'scrap'
    """
    if repair_map.complete and verified:
        return "full", ""
    need = design.logical_rows * design.logical_cols
    have = repair_map.physical_of_logical.size if verified else 0
    share = have / need
    why = (f"{repair_map.logical_rows}x{repair_map.logical_cols} logical grid = {share:.1%} of the standard "
           f"{design.logical_rows}x{design.logical_cols}")
    return ("engineering_part" if share >= min_fraction else "scrap"), why
