"""What a detection function reports: a finding on a logical core or a logical link.

Findings come from workload outputs only (never from the fault truth).
A core finding names the logical position ``(row, col)``; a link finding
names the logical link id ``2 * (row * logical_cols + col) + direction``
(direction 0 = east, 1 = south, the convention of ``yieldkit.defect_map``
applied to the logical grid) and, in ``evidence["physical_links"]``, the
physical links of its route under the loaded mapping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Finding"]


@dataclass(frozen=True)
class Finding:
    """One localised symptom seen by a workload.

    Attributes
    ----------
    workload : str
        ``gemm``, ``stencil``, ``march``, ``fabric``, ``watchdog`` or ``registers``.
    row, col : int
        Logical position of the core (for a link finding: its first end).
    link : int
        Logical link id, or -1 for a core finding.
    evidence : dict
        What was seen (counts, worst ratio to the tolerance, failing reads ...).

    Examples
    --------
    >>> Finding("gemm", 3, 4).kind
    'core'
    """

    workload: str
    row: int
    col: int
    link: int = -1
    evidence: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def kind(self) -> str:
        """``core`` or ``link``."""
        return "core" if self.link < 0 else "link"
