"""The fault truth of one wafer: which sites, links, registers and SRAM cells are faulty.

Ground truth that only the simulated wafer (and a later evaluation) reads;
workloads, detection, classification and campaigns never import this module.

:func:`draw_fault_truth` draws every mechanism of a :class:`FaultModel` from
its own child of ``numpy.random.SeedSequence(seed)`` (NumPy SPEC 7), so the
truth is reproducible bit for bit from the seed and changing one mechanism's
parameters does not reshuffle the others. All arrays are sparse (one entry per
faulty element) and drawn over the sites that exist and are alive (spares
included: a remap may bring them into use).

Mechanisms:

* latent core defects: time to failure ``T = eta * (-ln U)^(1/beta)``
  (Weibull, shape beta < 1) in equivalent hours at reference conditions; the
  core fails permanently once the wafer's equivalent age reaches ``T``;
* marginal cores: fail a workload pass with probability
  ``min(1, p_ref * AF_T * AF_V)``;
* thermal faults: fail every pass at or above a threshold temperature;
* transient bit flips: drawn by the wafer at run time (rate per core-hour);
* link faults: permanent or intermittent, packet loss or corruption;
* control-register upsets: a bit of a core (index 0..2) or router (index 3)
  configuration register flips at a wall-clock time; core upsets stall the
  core, router upsets misroute its traffic; a hard upset survives rewrites;
* SRAM functional faults (``burnin.sram``).

References
----------
JEDEC JESD74 (Weibull early-life failures); JEDEC JESD85 (Arrhenius, FIT);
van de Goor (1991) (SRAM faults); see ``burnin.fault_model`` for the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from burnin.fault_model import FaultModel
from burnin.sram import SramFaults
from yieldkit.defect_map import DefectMap
from yieldkit.design import Design

__all__ = ["FaultTruth", "draw_fault_truth", "alive_sites", "candidate_links", "N_REGISTERS", "CORRUPT_BITS"]

N_REGISTERS = 4
"""Configuration registers per site: 0..2 belong to the core, 3 to its router."""

CORRUPT_BITS = (48, 63)
"""A faulty core flips a float64 bit in [48, 63): the top mantissa bits or the exponent."""


@dataclass(frozen=True, eq=False)
class FaultTruth:
    """The faults of one wafer (sparse int64 / float64 / bool arrays, one entry per fault).

    Attributes
    ----------
    model : FaultModel
    rows, cols : int
        Physical grid the site indices refer to.
    latent_site, latent_ttf_ref_h, latent_bit
        Latent defects: site, time to failure at reference conditions [h],
        the float64 bit the failed core corrupts.
    marginal_site, marginal_bit
        Marginal cores.
    thermal_site, thermal_threshold_c, thermal_bit
        Thermal faults and their threshold [degC].
    link_id, link_intermittent, link_corrupt
        Faulty physical links (``yieldkit.defect_map`` ids).
    register_site, register_index, register_bit, register_time_h, register_stuck
        Register upsets: where, which register and bit, when [h] (wall clock), hard or soft.
    sram : SramFaults
        SRAM faults, ``sram.core`` = physical site.
    """

    model: FaultModel
    rows: int
    cols: int
    latent_site: np.ndarray
    latent_ttf_ref_h: np.ndarray
    latent_bit: np.ndarray
    marginal_site: np.ndarray
    marginal_bit: np.ndarray
    thermal_site: np.ndarray
    thermal_threshold_c: np.ndarray
    thermal_bit: np.ndarray
    link_id: np.ndarray
    link_intermittent: np.ndarray
    link_corrupt: np.ndarray
    register_site: np.ndarray
    register_index: np.ndarray
    register_bit: np.ndarray
    register_time_h: np.ndarray
    register_stuck: np.ndarray
    sram: SramFaults

    def counts(self) -> dict[str, int]:
        """Number of faults per mechanism.

        Examples
        --------
        >>> from yieldkit.design import load_design
        >>> truth = draw_fault_truth(load_design("small"), None, FaultModel(latent_fraction=0.01), seed=1)
        >>> truth.counts()["latent"] > 0
        True
        """
        return {"latent": int(self.latent_site.size), "marginal": int(self.marginal_site.size),
                "thermal": int(self.thermal_site.size), "link": int(self.link_id.size),
                "register": int(self.register_site.size), "sram": len(self.sram)}


def alive_sites(design: Design, defects: DefectMap | None) -> np.ndarray:
    """Sorted flat indices of the sites that exist and are not dead.

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> alive_sites(load_design("small"), None).size
    4352
    """
    alive = design.site_exists.ravel().copy()
    if defects is not None:
        alive[defects.dead_sites] = False
    return np.flatnonzero(alive)


def candidate_links(design: Design, defects: DefectMap | None) -> np.ndarray:
    """Sorted ids of the links whose two end sites exist and are alive, dead links excluded.

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> candidate_links(load_design("small"), None).size == 64 * 67 + 63 * 68
    True
    """
    alive = np.zeros(design.n_sites, bool)
    alive[alive_sites(design, defects)] = True
    grid = alive.reshape(design.rows, design.cols)
    east = grid[:, :-1] & grid[:, 1:]
    south = grid[:-1, :] & grid[1:, :]
    r, c = np.nonzero(east)
    e = 2 * (r * design.cols + c)
    r, c = np.nonzero(south)
    s = 2 * (r * design.cols + c) + 1
    links = np.concatenate([e, s]).astype(np.int64)
    if defects is not None and defects.dead_links.size:
        links = links[~np.isin(links, defects.dead_links)]
    return np.sort(links)


def _subset(rng: np.random.Generator, population: np.ndarray, fraction: float) -> np.ndarray:
    k = int(rng.binomial(population.size, fraction)) if population.size else 0
    return np.sort(population[rng.choice(population.size, k, replace=False)]) if k else np.zeros(0, np.int64)


def draw_fault_truth(design: Design, defects: DefectMap | None, model: FaultModel,
                     seed: int | np.random.SeedSequence) -> FaultTruth:
    """Draw the fault truth of one wafer.

    Parameters
    ----------
    design : Design
    defects : DefectMap or None
        Dead sites and links (no faults are drawn on them); None = none.
    model : FaultModel
        Mechanism parameters.
    seed : int or SeedSequence
        Root of the streams; one child per mechanism (SPEC 7).

    Returns
    -------
    FaultTruth

    References
    ----------
    Weibull sampling by inversion, ``T = eta (-ln U)^(1/beta)`` (JESD74).

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> d = load_design("small")
    >>> a = draw_fault_truth(d, None, FaultModel(latent_fraction=0.01), seed=7)
    >>> b = draw_fault_truth(d, None, FaultModel(latent_fraction=0.01), seed=7)
    >>> bool((a.latent_site == b.latent_site).all() and (a.latent_ttf_ref_h == b.latent_ttf_ref_h).all())
    True
    """
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    r_lat, r_mar, r_th, r_link, r_reg, r_sram = (np.random.default_rng(s) for s in root.spawn(6))
    sites = alive_sites(design, defects)
    lo, hi = CORRUPT_BITS

    latent = _subset(r_lat, sites, model.latent_fraction)
    ttf = model.weibull_scale_h * r_lat.weibull(model.weibull_shape, latent.size)
    latent_bit = r_lat.integers(lo, hi, latent.size)

    marginal = _subset(r_mar, sites, model.marginal_fraction)
    marginal_bit = r_mar.integers(lo, hi, marginal.size)

    thermal = _subset(r_th, sites, model.thermal_fraction)
    threshold = r_th.uniform(model.thermal_threshold_min_c, model.thermal_threshold_max_c, thermal.size)
    thermal_bit = r_th.integers(lo, hi, thermal.size)

    links = _subset(r_link, candidate_links(design, defects), model.link_fault_fraction)
    intermittent = r_link.random(links.size) < model.link_intermittent_fraction
    corrupt = r_link.random(links.size) < model.link_corrupt_fraction

    n_reg = int(r_reg.poisson(model.register_upset_rate_per_core_hour * sites.size * model.horizon_h))
    reg_time = np.sort(r_reg.uniform(0.0, model.horizon_h, n_reg))
    reg_site = sites[r_reg.integers(0, sites.size, n_reg)] if sites.size else np.zeros(0, np.int64)
    reg_index = r_reg.integers(0, N_REGISTERS, n_reg)
    reg_bit = r_reg.integers(0, 32, n_reg)
    reg_stuck = r_reg.random(n_reg) < model.register_stuck_fraction

    sram_sites = _subset(r_sram, sites, model.sram_fault_fraction)
    n = sram_sites.size
    weights = np.asarray(model.sram_kind_weights, float)
    kind = r_sram.choice(weights.size, n, p=weights / weights.sum()).astype(np.int64)
    words = model.sram_words
    address = r_sram.integers(0, words, n)
    sram = SramFaults(sram_sites, kind, address, r_sram.integers(0, model.sram_word_bits, n),
                      (address + r_sram.integers(1, words, n)) % words, r_sram.integers(0, model.sram_word_bits, n),
                      r_sram.integers(0, 2, n), r_sram.integers(0, 2, n))

    return FaultTruth(model, design.rows, design.cols, latent, ttf, latent_bit, marginal, marginal_bit,
                      thermal, threshold, thermal_bit, links, intermittent, corrupt, reg_site, reg_index,
                      reg_bit, reg_time, reg_stuck, sram)
