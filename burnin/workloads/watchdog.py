"""Watchdog: every core increments a heartbeat counter; a stalled core falls behind.

The host asks every logical core to count ``ticks`` heartbeats and reads the
counters back; a core whose counter is short has stalled (a corrupted
configuration register, a hung core).

References
----------
M. Pont, R. Ong, "Using watchdog timers to improve the reliability of
single-processor embedded systems", EuroPLoP 2002.
"""

from __future__ import annotations

import numpy as np

from burnin.findings import Finding

__all__ = ["detect_stalls"]


def detect_stalls(heartbeat: np.ndarray, ticks: int) -> list[Finding]:
    """Cores whose heartbeat counter is below ``ticks``.

    Parameters
    ----------
    heartbeat : ndarray of int64, shape (R, C)
        Counters read back.
    ticks : int
        Heartbeats each core was asked to count.

    Returns
    -------
    list of Finding
        ``evidence``: ``heartbeat``, ``ticks``.

    Examples
    --------
    >>> hb = np.full((2, 3), 10); hb[1, 2] = 4
    >>> [(f.row, f.col, f.evidence["heartbeat"]) for f in detect_stalls(hb, 10)]
    [(1, 2, 4)]
    """
    r, c = np.nonzero(heartbeat < ticks)
    return [Finding("watchdog", int(a), int(b), evidence={"heartbeat": int(heartbeat[a, b]), "ticks": int(ticks)})
            for a, b in zip(r.tolist(), c.tolist())]
