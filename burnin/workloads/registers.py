"""Register scan: read back every core and router configuration register, repair, verify.

Every logical core has four 32-bit configuration registers loaded from the
image: 0 its logical row, 1 its logical column, 2 its physical site, 3 its
router's configuration word (a digest of the site and position that stands
for the router's port and route settings). :func:`prescribed_registers` is
what the loaded mapping prescribes; :func:`register_scan` reads all of them,
rewrites each mismatch with the prescribed value and reads it back: a soft
upset is repaired (``verified``), a hard one is not.

The device is anything with ``read_registers() -> (R, C, 4) uint32`` and
``write_registers(rows, cols, index, values)``.

References
----------
JEDEC JESD89 (configuration-memory upsets are soft errors); configuration
scrubbing by read-back and rewrite, as in M. Berg et al., "Effectiveness of
internal versus external SEU scrubbing mitigation strategies in a Xilinx
FPGA", IEEE Trans. Nucl. Sci. 55(4), 2008.
"""

from __future__ import annotations

import numpy as np

from burnin.findings import Finding

__all__ = ["N_REGISTERS", "ROUTER_REGISTER", "prescribed_registers", "register_scan"]

N_REGISTERS = 4
ROUTER_REGISTER = 3


def prescribed_registers(physical_of_logical: np.ndarray) -> np.ndarray:
    """The configuration registers the loaded mapping prescribes, shape (R, C, 4), uint32.

    Examples
    --------
    >>> regs = prescribed_registers(np.array([[5, 6], [9, 10]]))
    >>> regs[1, 0, :3].tolist()
    [1, 0, 9]
    """
    pol = np.asarray(physical_of_logical, np.uint64)
    rows, cols = pol.shape
    r = np.arange(rows, dtype=np.uint64)[:, None] + np.zeros((1, cols), np.uint64)
    c = np.zeros((rows, 1), np.uint64) + np.arange(cols, dtype=np.uint64)[None, :]
    router = ((pol * np.uint64(2654435761)) ^ (r << np.uint64(16)) ^ c) & np.uint64(0xFFFFFFFF)
    return np.stack([r, c, pol & np.uint64(0xFFFFFFFF), router], axis=-1).astype(np.uint32)


def register_scan(device, prescribed: np.ndarray) -> list[Finding]:
    """Read back all registers, rewrite the mismatches, verify the rewrite.

    Parameters
    ----------
    device
        Has ``read_registers()`` and ``write_registers(rows, cols, index, values)``.
    prescribed : ndarray of uint32, shape (R, C, 4)

    Returns
    -------
    list of Finding
        One per mismatching register; ``evidence``: ``register``,
        ``expected``, ``read``, ``flipped_bits`` (xor), ``verified`` (the
        read-back after the rewrite matches).

    Examples
    --------
    >>> class Regs:
    ...     def __init__(self, v): self.v = v.copy()
    ...     def read_registers(self): return self.v.copy()
    ...     def write_registers(self, r, c, i, x): self.v[r, c, i] = x
    >>> want = prescribed_registers(np.arange(4).reshape(2, 2))
    >>> dev = Regs(want); dev.v[1, 1, 3] ^= 4
    >>> [(f.row, f.col, f.evidence["register"], f.evidence["verified"]) for f in register_scan(dev, want)]
    [(1, 1, 3, True)]
    """
    got = device.read_registers()
    bad = got != prescribed
    if not bad.any():
        return []
    r, c, i = np.nonzero(bad)
    device.write_registers(r, c, i, prescribed[r, c, i])
    again = device.read_registers()[r, c, i]
    ok = again == prescribed[r, c, i]
    return [Finding("registers", int(rr), int(cc), evidence={
        "register": int(ii), "expected": int(prescribed[rr, cc, ii]), "read": int(got[rr, cc, ii]),
        "flipped_bits": int(got[rr, cc, ii] ^ prescribed[rr, cc, ii]), "verified": bool(v)})
        for rr, cc, ii, v in zip(r.tolist(), c.tolist(), i.tolist(), ok.tolist())]
