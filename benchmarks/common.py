"""Shared pieces of the benchmark runner: the row every benchmark returns, timing, the machine."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

__all__ = ["row", "timed", "machine"]


def row(name: str, figure: float, unit: str, target: str, passed: bool | None, *, peer: float | None = None,
        ratio: float | None = None, note: str = "") -> dict[str, Any]:
    """One line of the runner's table.

    ``figure`` in ``unit``; ``target`` as text (``">= 200,000"``); ``peer``
    the same quantity of the peer measured in the same run, ``ratio`` the
    comparison the target is about; ``passed`` None when there is no target.
    """
    return {"name": name, "figure": figure, "unit": unit, "target": target, "peer": peer, "ratio": ratio,
            "passed": passed, "note": note}


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(min, median) seconds over ``repeat`` calls of ``fn``, and its last result."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def machine() -> dict[str, Any]:
    """Cores, CPU model, load average, Python and numpy: what the figures were measured on."""
    import numpy as np

    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {"cores": cpus, "cpu": model, "load_average": [round(x, 2) for x in load],
            "python": platform.python_version(), "numpy": np.__version__, "platform": platform.platform()}
