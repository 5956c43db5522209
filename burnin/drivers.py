"""Station drivers: the hardware a campaign runs on, found by name through an entry point.

Group ``yieldkit.burnin_stations``; each entry point names a module with
``open_station(design, fab_out, repair_map, wafer_seed, fault_model,
exposure)`` and, for a simulator, ``evaluate(engine, campaign, field_hours)``.
The harness (campaigns, CLI) reaches the simulator only through here, so it
never imports the fault truth; ``simulated`` is ``burnin.station``'s driver.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from yieldkit.errors import InputError

__all__ = ["GROUP", "station_driver"]

GROUP = "yieldkit.burnin_stations"


def station_driver(name: str = "simulated") -> Any:
    """The driver module registered as ``name`` (InputError naming ``--driver`` when unknown)."""
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    if name not in found:
        raise InputError(f"unknown station driver {name!r}; installed: {', '.join(sorted(found)) or 'none'}",
                         parameter="driver")
    return found[name].load()
