"""March tests of each core's local SRAM: the tests, their golden result, detection.

March C- (van de Goor 1991), 10n operations::

    {any(w0); up(r0,w1); up(r1,w0); down(r0,w1); down(r1,w0); any(r0)}

detects every stuck-at, transition, unlinked inversion and idempotent
coupling fault and every address-decoder fault. March SS (Hamdioui et al.
2002), 22n operations, adds back-to-back reads and non-transition writes and
also catches deceptive read-destructive faults, which March C- misses::

    {any(w0); up(r0,r0,w0,r0,w1); up(r1,r1,w1,r1,w0);
     down(r0,r0,w0,r0,w1); down(r1,r1,w1,r1,w0); any(r0)}

The golden result of a fault-free memory is "no failing read"; the wafer
returns the failing reads of every core (:class:`MarchOutput`) and
:func:`detect_march` turns them into one finding per core.

References
----------
A. J. van de Goor, *Testing Semiconductor Memories: Theory and Practice*,
Wiley, 1991.
S. Hamdioui, A. J. van de Goor, M. Rodgers, "March SS: a test for all static
simple RAM faults", MTDT 2002.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from burnin.findings import Finding
from burnin.sram import MarchElement

__all__ = ["MARCH_C_MINUS", "MARCH_SS", "MARCH_TESTS", "MarchOutput", "operation_count", "detect_march"]


def _m(order: str, *ops: str) -> MarchElement:
    return MarchElement(order, tuple((op[0], int(op[1])) for op in ops))


MARCH_C_MINUS = (
    _m("any", "w0"), _m("up", "r0", "w1"), _m("up", "r1", "w0"),
    _m("down", "r0", "w1"), _m("down", "r1", "w0"), _m("any", "r0"),
)
MARCH_SS = (
    _m("any", "w0"), _m("up", "r0", "r0", "w0", "r0", "w1"), _m("up", "r1", "r1", "w1", "r1", "w0"),
    _m("down", "r0", "r0", "w0", "r0", "w1"), _m("down", "r1", "r1", "w1", "r1", "w0"), _m("any", "r0"),
)
MARCH_TESTS = {"march_c-": MARCH_C_MINUS, "march_ss": MARCH_SS}


def operation_count(elements, n_words: int) -> int:
    """Memory operations of a March test on ``n_words`` words [-].

    Examples
    --------
    >>> operation_count(MARCH_C_MINUS, 100), operation_count(MARCH_SS, 100)
    (1000, 2200)
    """
    return n_words * sum(len(e.ops) for e in elements)


@dataclass(frozen=True, eq=False)
class MarchOutput:
    """Failing reads of a March pass over the logical fabric (one row per failing read).

    Attributes
    ----------
    test : str
        Key of :data:`MARCH_TESTS`.
    logical_shape : (int, int)
    row, col, element, op, address : ndarray of int64
        Where the read failed: logical core, March element, operation in it, word.
    expected, observed : ndarray of uint64
        The expected background word and the word read.
    """

    test: str
    logical_shape: tuple[int, int]
    row: np.ndarray
    col: np.ndarray
    element: np.ndarray
    op: np.ndarray
    address: np.ndarray
    expected: np.ndarray
    observed: np.ndarray


def detect_march(output: MarchOutput) -> list[Finding]:
    """One finding per logical core with at least one failing read.

    Parameters
    ----------
    output : MarchOutput

    Returns
    -------
    list of Finding
        ``evidence``: ``failing_reads`` (count), ``first`` (element, op,
        address, expected, observed of the first failing read), ``test``.

    References
    ----------
    van de Goor (1991): any read differing from the expected background
    is a fault of the memory under test.

    Examples
    --------
    >>> z = np.zeros(1, np.int64)
    >>> out = MarchOutput("march_c-", (4, 4), z + 2, z + 1, z + 1, z, z + 5, z.astype(np.uint64),
    ...                   (z + 8).astype(np.uint64))
    >>> [(f.row, f.col, f.evidence["failing_reads"]) for f in detect_march(out)]
    [(2, 1, 1)]
    """
    if output.row.size == 0:
        return []
    flat = output.row * output.logical_shape[1] + output.col
    cores, first, counts = np.unique(flat, return_index=True, return_counts=True)
    out = []
    for core, i, n in zip(cores.tolist(), first.tolist(), counts.tolist()):
        r, c = divmod(core, output.logical_shape[1])
        out.append(Finding("march", r, c, evidence={
            "test": output.test, "failing_reads": n,
            "first": (int(output.element[i]), int(output.op[i]), int(output.address[i]),
                      int(output.expected[i]), int(output.observed[i]))}))
    return out
