"""Plots: data in, matplotlib Figure out; never the database, never the screen.

The views live in :mod:`yieldkit.views` (one module per view); this module
keeps the names the demo and older notebooks import.
"""

from __future__ import annotations

from yieldkit.views.wafer_map import plot_wafer_map
from yieldkit.views.yield_curves import plot_yield_curves, spares_label

__all__ = ["plot_yield_curves", "plot_wafer_map", "spares_label"]
