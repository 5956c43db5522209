"""The simulated burn-in station: the one place that builds a :class:`SimulatedWafer`.

It plays the hardware. The campaign logic (``burnin.campaign``) receives a
station object and drives it through the methods a real station would offer
(set conditions, run a workload, read and write registers, load an image);
it never imports this module nor the fault truth. The CLI finds the station
through the ``yieldkit.burnin_stations`` entry point (``simulated``), the way
a factory would plug in the driver of its real ovens.

Seeds: the wafer's truth is drawn from ``SeedSequence([wafer_seed, 1])``
over its fab-out defect map (so ``burnin.evaluate`` can draw it again); the
run-time stream of step ``k`` of a campaign is ``SeedSequence([campaign_seed,
wafer_seed, k])``, set by :meth:`SimulatedStation.begin_step`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from burnin.fault_model import FaultModel
from burnin.simulated_wafer import SimulatedWafer
from burnin.truth import FaultTruth, draw_fault_truth
from yieldkit.defect_map import DefectMap
from yieldkit.design import Design
from yieldkit.errors import InputError
from yieldkit.repair_map import RepairMap

__all__ = ["FAULT_MODELS", "fault_model", "wafer_truth", "SimulatedStation", "TRUTH_KEY"]

TRUTH_KEY = 1

FAULT_MODELS: dict[str, FaultModel] = {
    "field": FaultModel(),
    # Populations about 10x the field defaults and a 1024-word SRAM so that a
    # 64 x 64 'small' wafer shows every mechanism within a 48 h burn-in; an
    # assumption for demonstrations and tests, not a calibrated model.
    "demo": FaultModel(latent_fraction=1e-3, weibull_scale_h=2e5, marginal_fraction=2.5e-4, thermal_fraction=2.5e-4,
                       link_fault_fraction=2e-5, register_upset_rate_per_core_hour=2e-5,
                       sram_fault_fraction=5e-4, sram_words=1024, transient_rate_per_core_hour=1e-4),
    # No fault at all but the soft errors: for false-map-out checks.
    "clean": FaultModel(latent_fraction=0.0, marginal_fraction=0.0, thermal_fraction=0.0, link_fault_fraction=0.0,
                        register_upset_rate_per_core_hour=0.0, sram_fault_fraction=0.0,
                        transient_rate_per_core_hour=1e-4),
}
"""Fault model presets a lot can be made with (``yieldkit lot create --fault-model``)."""


def fault_model(name: str) -> FaultModel:
    """The preset ``name`` of :data:`FAULT_MODELS` (InputError naming ``--fault-model``)."""
    try:
        return FAULT_MODELS[name]
    except KeyError:
        raise InputError(f"unknown fault model {name!r}; choose one of {', '.join(FAULT_MODELS)}",
                         parameter="fault_model") from None


def wafer_truth(design: Design, fab_out: DefectMap, wafer_seed: int, model_name: str) -> FaultTruth:
    """The fault truth of a wafer (a pure function of its fab-out map, seed and model)."""
    return draw_fault_truth(design, fab_out, fault_model(model_name),
                            np.random.SeedSequence([int(wafer_seed), TRUTH_KEY]))


class SimulatedStation:
    """One wafer in a simulated oven.

    Parameters
    ----------
    design : Design
    fab_out : DefectMap
        The wafer's defect map at fab-out (the truth is drawn over it).
    repair_map : RepairMap
        The map of the image loaded at the start.
    wafer_seed : int
    model_name : str
        Key of :data:`FAULT_MODELS`.
    exposure : list of (hours, temp_c, voltage_v)
        Earlier burn-in of the wafer, replayed to restore its age [h, degC, V].
    """

    def __init__(self, design: Design, fab_out: DefectMap, repair_map: RepairMap, wafer_seed: int,
                 model_name: str, exposure: list[tuple[float, float, float]] = ()) -> None:
        self.design = design
        self.wafer_seed = int(wafer_seed)
        truth = wafer_truth(design, fab_out, wafer_seed, model_name)
        self._wafer = SimulatedWafer(design, repair_map.defects, repair_map, truth, seed=0)
        for hours, temp_c, voltage_v in exposure:
            self._wafer.advance(hours, temp_c, voltage_v)
        self.sram_spare_rows = 0

    def __repr__(self) -> str:
        return f"SimulatedStation({self.design.name!r}, seed={self.wafer_seed}, t={self.time_h:g} h)"

    # -- what a station offers ----------------------------------------------------------------
    @property
    def time_h(self) -> float:
        return self._wafer.time_h

    @property
    def logical_shape(self) -> tuple[int, int]:
        return self._wafer.logical_shape

    @property
    def physical_of_logical(self) -> np.ndarray:
        return self._wafer.physical_of_logical

    @property
    def routes(self) -> Any:
        return self._wafer.routes

    @property
    def prescribed(self) -> np.ndarray:
        return self._wafer.prescribed

    def begin_step(self, campaign_seed: int, step: int) -> None:
        """Key the run-time random stream by (campaign seed, wafer seed, step)."""
        self._wafer._rng = np.random.default_rng(np.random.SeedSequence([int(campaign_seed), self.wafer_seed,
                                                                         int(step)]))

    def stress(self, hours: float, temp_c: float, voltage_v: float) -> None:
        """Hold the wafer ``hours`` [h] at ``temp_c`` [degC] and ``voltage_v`` [V]."""
        self._wafer.advance(hours, temp_c, voltage_v)

    def load(self, repair_map: RepairMap) -> None:
        """Load the image of ``repair_map`` (its routes avoid the links it maps out)."""
        self._wafer.defects = repair_map.defects
        self._wafer.load_mapping(repair_map)

    def run_gemm(self, a, b, block):
        return self._wafer.run_gemm(a, b, block)

    def run_stencil(self, u, block):
        return self._wafer.run_stencil(u, block)

    def run_march(self, test="march_c-"):
        return self._wafer.run_march(test)

    def run_fabric(self, n_packets=4):
        return self._wafer.run_fabric(n_packets)

    def run_watchdog(self, ticks=100):
        return self._wafer.run_watchdog(ticks)

    def read_registers(self):
        return self._wafer.read_registers()

    def write_registers(self, rows, cols, index, values):
        self._wafer.write_registers(rows, cols, index, values)


def open_station(design: Design, fab_out: DefectMap, repair_map: RepairMap, wafer_seed: int, fault_model_name: str,
                 exposure: list[tuple[float, float, float]] = ()) -> SimulatedStation:
    """The driver entry: a :class:`SimulatedStation` (see ``burnin.drivers``)."""
    return SimulatedStation(design, fab_out, repair_map, wafer_seed, fault_model_name, list(exposure))


def evaluate(engine: Any, campaign: str | None = None, field_hours: float = 1000.0) -> Any:
    """The driver entry: score a campaign against the truth (``burnin.evaluate``)."""
    from burnin.evaluate import evaluate_campaign

    return evaluate_campaign(engine, campaign, field_hours)
