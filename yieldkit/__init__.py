"""yieldkit: yield and reliability of wafer-scale processors.

The main flow is importable from the top level:

>>> from yieldkit import DefectModel, load_design, repair_wafer, sample_wafer, simulate
>>> design = load_design("small")
>>> wafer = sample_wafer(design, DefectModel(d0_per_cm2=0.1, alpha=2.0), seed=3)
>>> repair_wafer(design, wafer).repairable
True
>>> simulate(design, DefectModel(d0_per_cm2=0.5), n_wafers=2048, seed=1).wafers
2048

Names are loaded on first use (PEP 562), so ``import yieldkit`` stays cheap
for the command line. The layout is described in ``docs/architecture.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> module that defines it.
_EXPORTS = {
    # designs
    "Design": "yieldkit.design",
    "DesignError": "yieldkit.design",
    "load_design": "yieldkit.design",
    "list_presets": "yieldkit.design",
    # defect model and maps
    "DefectModel": "yieldkit.defects",
    "DefectBatch": "yieldkit.defects",
    "sample_batch": "yieldkit.defects",
    "sample_defect_map": "yieldkit.defects",
    "sample_wafer": "yieldkit.defects",
    "wafer_rng": "yieldkit.defects",
    "STREAM_VERSION": "yieldkit.defects",
    "DefectMap": "yieldkit.defect_map",
    # Monte Carlo
    "simulate": "yieldkit.montecarlo",
    "SimulationResult": "yieldkit.montecarlo",
    "sweep": "yieldkit.sweep",
    "clopper_pearson": "yieldkit.stats",
    # repair and verification
    "RepairMap": "yieldkit.repair_map",
    "RepairReport": "yieldkit.repair",
    "repair_wafer": "yieldkit.repair",
    "with_scheme": "yieldkit.repair",
    "plan_repair": "yieldkit.redundancy",
    "verify_repair_map": "yieldkit.verify",
    # sizing and the conventional-die comparison
    "size_redundancy": "yieldkit.sizing",
    "die_comparison": "yieldkit.dies",
    # taxonomy and errors
    "FaultClass": "yieldkit.faults",
    "InputError": "yieldkit.errors",
    "Failure": "yieldkit.errors",
}

#: Sub-modules exported as a whole.
_MODULES = {"models", "reliability", "plots"}

__all__ = ["__version__", *sorted(_EXPORTS), *sorted(_MODULES)]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _MODULES:
        value = importlib.import_module(f"yieldkit.{name}")
    else:
        raise AttributeError(f"module 'yieldkit' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
