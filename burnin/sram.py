"""A faulty SRAM simulator: functional fault models of one core's local memory.

The memory has ``n_words`` words of ``width`` bits; a cell is ``(address, bit)``.
Each fault is one row of a :class:`SramFaults` table (columns ``kind``,
``address``, ``bit``, ``aggressor_address``, ``aggressor_bit``, ``direction``,
``value``), with the classical functional fault models of van de Goor (1991):

``SAF``
    stuck-at: the cell always holds ``value``.
``TF``
    transition fault: the cell cannot make the ``direction`` transition
    (1 = up 0->1, 0 = down 1->0).
``CFIN``
    inversion coupling: a ``direction`` transition of the aggressor cell
    inverts the victim cell ``(address, bit)``.
``CFID``
    idempotent coupling: a ``direction`` transition of the aggressor forces
    the victim to ``value``.
``AF_ALIAS``
    address-decoder fault: address ``aggressor_address`` reaches the word at
    ``address`` instead of its own (its own word is never accessed, ``address``
    is reached by two addresses).
``AF_MULTI``
    address-decoder fault: address ``aggressor_address`` reaches its own word
    and the word at ``address`` (writes go to both, a read returns the
    wired-OR).
``RDF``
    read-destructive fault: a read of the cell inverts it and returns the
    inverted value.
``DRDF``
    deceptive read-destructive fault: a read returns the stored value, then
    inverts the cell (needs two reads in a row to be seen: March SS).

Coupling aggressors sit at a different address from their victim
(inter-word coupling; intra-word coupling needs extra data backgrounds).

:func:`run_march` executes a March test on one memory. With ``restrict=True``
only the addresses a fault involves are simulated: a cell no fault involves is
written and read like a fault-free cell and no fault writes into it, so its
reads return exactly what the test expects; skipping them is exact (tests
compare both modes).

References
----------
A. J. van de Goor, *Testing Semiconductor Memories: Theory and Practice*,
Wiley, 1991.
S. Hamdioui, A. J. van de Goor, M. Rodgers, "March SS: a test for all static
simple RAM faults", MTDT 2002.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["SramFaultKind", "SramFaults", "MarchElement", "run_march"]


class SramFaultKind(enum.IntEnum):
    """Functional fault model of an SRAM cell (van de Goor 1991)."""

    SAF = 0
    TF = 1
    CFIN = 2
    CFID = 3
    AF_ALIAS = 4
    AF_MULTI = 5
    RDF = 6
    DRDF = 7


@dataclass(frozen=True)
class MarchElement:
    """One March element: an address order and the operations applied at each address.

    Attributes
    ----------
    order : {"up", "down", "any"}
        Address order (``any`` runs up).
    ops : tuple of (str, int)
        ``("r", d)`` reads expecting the solid background ``d`` (0 = all
        zeros, 1 = all ones); ``("w", d)`` writes it.

    Examples
    --------
    >>> up = MarchElement("up", (("r", 0), ("w", 1)))   # the March element up(r0, w1)
    >>> run_march([MarchElement("any", (("w", 0),)), up], 4, 8, SramFaults.single(SramFaultKind.SAF, 2, 5, value=1))
    [(1, 0, 2, 0, 32)]
    """

    order: str
    ops: tuple[tuple[str, int], ...]


@dataclass(frozen=True, eq=False)
class SramFaults:
    """A table of SRAM faults: equal-length int64 columns (see module docstring).

    ``core`` tells which memory a fault belongs to (a physical site on a
    wafer, or 0 for a single memory).

    Examples
    --------
    >>> f = SramFaults.single(SramFaultKind.CFIN, address=4, bit=0, aggressor_address=1, direction=1)
    >>> len(f), len(SramFaults.empty()), int(f.take([0]).aggressor_address[0])
    (1, 0, 1)
    """

    core: np.ndarray
    kind: np.ndarray
    address: np.ndarray
    bit: np.ndarray
    aggressor_address: np.ndarray
    aggressor_bit: np.ndarray
    direction: np.ndarray
    value: np.ndarray

    @classmethod
    def empty(cls) -> "SramFaults":
        z = np.zeros(0, np.int64)
        return cls(z, z, z, z, z, z, z, z)

    @classmethod
    def single(cls, kind: SramFaultKind, address: int, bit: int = 0, aggressor_address: int = -1,
               aggressor_bit: int = 0, direction: int = 1, value: int = 0, core: int = 0) -> "SramFaults":
        """A table of one fault (for tests and examples)."""
        col = lambda v: np.array([v], np.int64)  # noqa: E731
        return cls(col(core), col(int(kind)), col(address), col(bit), col(aggressor_address),
                   col(aggressor_bit), col(direction), col(value))

    def __len__(self) -> int:
        return int(self.kind.size)

    def take(self, index) -> "SramFaults":
        """The rows ``index`` (a boolean mask or integer indices)."""
        return SramFaults(*(np.asarray(getattr(self, f))[index] for f in
                            ("core", "kind", "address", "bit", "aggressor_address", "aggressor_bit",
                             "direction", "value")))


class _Memory:
    """Word-level state of the involved addresses of one faulty memory."""

    def __init__(self, faults: SramFaults, width: int) -> None:
        self.mask = (1 << width) - 1
        self.state: dict[int, int] = {}
        self.saf: dict[int, list[tuple[int, int]]] = {}
        self.tf: dict[int, list[tuple[int, int]]] = {}
        self.coupling: dict[int, list[tuple[int, int, int, int, int]]] = {}
        self.decode: dict[int, list[int]] = {}
        self.rdf: dict[int, list[tuple[int, bool]]] = {}
        for k, a, b, aa, ab, d, v in zip(faults.kind.tolist(), faults.address.tolist(), faults.bit.tolist(),
                                         faults.aggressor_address.tolist(), faults.aggressor_bit.tolist(),
                                         faults.direction.tolist(), faults.value.tolist()):
            if k == SramFaultKind.SAF:
                self.saf.setdefault(a, []).append((b, v))
            elif k == SramFaultKind.TF:
                self.tf.setdefault(a, []).append((b, d))
            elif k in (SramFaultKind.CFIN, SramFaultKind.CFID):
                self.coupling.setdefault(aa, []).append((ab, d, a, b, -1 if k == SramFaultKind.CFIN else v))
            elif k == SramFaultKind.AF_ALIAS:
                self.decode[aa] = [a]
            elif k == SramFaultKind.AF_MULTI:
                self.decode[aa] = [aa, a]
            elif k in (SramFaultKind.RDF, SramFaultKind.DRDF):
                self.rdf.setdefault(a, []).append((b, k == SramFaultKind.DRDF))

    def involved(self) -> list[int]:
        words = set(self.saf) | set(self.tf) | set(self.coupling) | set(self.rdf) | set(self.decode)
        for targets in self.decode.values():
            words.update(targets)
        for victims in self.coupling.values():
            words.update(a for _, _, a, _, _ in victims)
        return sorted(words)

    def _stuck(self, word: int, value: int) -> int:
        for b, v in self.saf.get(word, ()):
            value = (value | (1 << b)) if v else (value & ~(1 << b))
        return value

    def write(self, address: int, data: int) -> None:
        for word in self.decode.get(address, [address]):
            old = self.state.get(word, 0)
            new = data
            for b, d in self.tf.get(word, ()):
                o = (old >> b) & 1
                if d == 1 and o == 0 and (new >> b) & 1:  # cannot rise
                    new &= ~(1 << b)
                elif d == 0 and o == 1 and not (new >> b) & 1:  # cannot fall
                    new |= 1 << b
            new = self._stuck(word, new)
            self.state[word] = new
            for ab, d, va, vb, v in self.coupling.get(word, ()):
                o, n = (old >> ab) & 1, (new >> ab) & 1
                if o != n and n == d:
                    cur = self.state.get(va, 0)
                    cur = cur ^ (1 << vb) if v < 0 else ((cur | (1 << vb)) if v else (cur & ~(1 << vb)))
                    self.state[va] = self._stuck(va, cur)

    def read(self, address: int) -> int:
        out = 0
        for word in self.decode.get(address, [address]):
            value = self.state.get(word, 0)
            returned = value
            for b, deceptive in self.rdf.get(word, ()):
                value ^= 1 << b
                if not deceptive:
                    returned ^= 1 << b
            self.state[word] = self._stuck(word, value)
            out |= returned
        return out


def run_march(elements: Sequence[MarchElement], n_words: int, width: int, faults: SramFaults,
              restrict: bool = True) -> list[tuple[int, int, int, int, int]]:
    """Run a March test on one memory and return its failing reads.

    Parameters
    ----------
    elements : sequence of MarchElement
        The March test.
    n_words : int
        Words in the memory [-].
    width : int
        Bits per word [-].
    faults : SramFaults
        The memory's faults (all rows belong to this memory).
    restrict : bool
        Simulate only the addresses the faults involve (exact, see module
        docstring); ``False`` simulates every address.

    Returns
    -------
    list of (element, op, address, expected, observed)
        One tuple per read whose word differs from the expected background,
        in execution order.

    References
    ----------
    van de Goor (1991), chapter 4 (March tests).

    Examples
    --------
    >>> from burnin.workloads.march import MARCH_C_MINUS
    >>> stuck = SramFaults.single(SramFaultKind.SAF, address=3, bit=1, value=1)
    >>> run_march(MARCH_C_MINUS, 8, 4, stuck)[0]
    (1, 0, 3, 0, 2)
    >>> run_march(MARCH_C_MINUS, 8, 4, SramFaults.empty())
    []
    """
    memory = _Memory(faults, width)
    ones = memory.mask
    if restrict:
        addresses = [a for a in memory.involved() if 0 <= a < n_words]
    else:
        addresses = list(range(n_words))
    up, down = addresses, addresses[::-1]
    fails = []
    for e, element in enumerate(elements):
        for address in (down if element.order == "down" else up):
            for o, (op, d) in enumerate(element.ops):
                data = ones if d else 0
                if op == "w":
                    memory.write(address, data)
                else:
                    got = memory.read(address)
                    if got != data:
                        fails.append((e, o, address, data, got))
    return fails
