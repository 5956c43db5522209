"""Parameters of the burn-in fault model, each default with its source.

The defaults are order-of-magnitude values taken from the cited public
studies and standards; they are assumptions to be calibrated on the fleet's
own burn-in data, not measurements of any product.

References
----------
JEDEC JESD85, "Methods for Calculating Failure Rates in Units of FITs" (2001):
FIT = failures per 1e9 device-hours; Arrhenius with Ea = 0.7 eV when the
mechanism is unknown.
JEDEC JEP122, "Failure Mechanisms and Models for Semiconductor Devices":
exponential (E-model) and power-law voltage acceleration.
JEDEC JESD74, "Early Life Failure Rate Calculation Procedure": infant
mortality as a Weibull distribution with shape < 1.
JEDEC JESD89, "Measurement and Reporting of Alpha Particle and Terrestrial
Cosmic Ray-Induced Soft Errors"; R. Baumann, "Radiation-induced soft errors
in advanced semiconductor technologies", IEEE TDMR 5(3), 2005 (order of
1000 FIT/Mbit for SRAM).
P. H. Hochschild et al., "Cores that don't count", HotOS 2021, and H. D.
Dixit et al., "Silent data corruptions at scale", arXiv:2102.11245 (Meta,
2021): mercurial / marginal cores, a few per several thousand machines,
failing more often at high temperature and voltage corners.
B. Schroeder, G. Gibson, "A large-scale study of failures in high-performance
computing systems", DSN 2006 (field failure rates, infant mortality).
A. J. van de Goor, *Testing Semiconductor Memories*, Wiley 1991 (SRAM fault
models).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from yieldkit.errors import InputError
from yieldkit.reliability.acceleration import arrhenius_af, voltage_af_exponential, voltage_af_power

__all__ = ["FaultModel", "FaultModelError", "SRAM_KIND_NAMES"]

SRAM_KIND_NAMES = ("saf", "tf", "cfin", "cfid", "af_alias", "af_multi", "rdf", "drdf")


class FaultModelError(InputError):
    """A fault model parameter is out of range; the message names it."""


@dataclass(frozen=True)
class FaultModel:
    """Seeded fault model of one wafer under burn-in (all rates per physical core site).

    Parameters
    ----------
    activation_energy_ev : float
        Arrhenius activation energy Ea of latent defects and marginal cores
        [eV]; 0.7 eV (JESD85 default for an unknown mechanism).
    reference_temp_c : float
        Use (reference) junction temperature [degC]; 55 degC, the usual
        field condition of JESD85 FIT calculations.
    reference_voltage_v : float
        Nominal core supply [V]; 0.8 V (assumption for a 7 nm-class core).
    voltage_model : {"exponential", "power"}
        Voltage acceleration law (JEP122).
    voltage_gamma_per_v : float
        Exponential-law gamma [1/V]; 10 /V, the order used for thin-oxide
        E-model calculations (JEP122); assumption.
    voltage_exponent : float
        Power-law exponent n [-]; 8 (assumption, chosen to agree with the
        exponential default over a 10 % overvoltage from 0.8 V:
        1.1^8 = 2.14 against exp(10 * 0.08) = 2.23).
    latent_fraction : float
        Fraction of core sites with a latent defect [-]; 1e-4 (assumption;
        the defective subpopulation of JESD74-style early-life studies).
    weibull_shape : float
        Weibull shape beta of latent time to failure [-]; 0.5 (< 1: infant
        mortality, JESD74; Schroeder & Gibson 2006 report decreasing hazard
        early in life).
    weibull_scale_h : float
        Weibull scale eta at reference conditions [h]; 1e5 h (assumption:
        about a quarter of the latent population fails within the first
        1e4 equivalent hours).
    marginal_fraction : float
        Fraction of marginal (mercurial) core sites [-]; 2e-5 (Hochschild
        2021, Dixit 2021: a few per several thousand machines of tens of cores).
    marginal_fail_prob_ref : float
        Probability a marginal core corrupts one workload pass at reference
        conditions [-]; 0.02 (assumption), scaled by AF_T * AF_V, capped at 1.
    thermal_fraction : float
        Fraction of core sites with a thermal fault [-]; 2e-5 (assumption).
    thermal_threshold_min_c, thermal_threshold_max_c : float
        Thermal faults appear at or above a threshold drawn uniformly in this
        range [degC]; 90..130 degC (assumption bracketing burn-in at 125 degC).
    transient_rate_per_core_hour : float
        Soft-error (bit-flip) rate [1/(core h)]; 4e-7, about 1000 FIT/Mbit
        (Baumann 2005, JESD89) times 0.4 Mbit (48 KiB) per core.
    link_fault_fraction : float
        Fraction of fabric links with a fault [-]; 1e-5 (assumption).
    link_intermittent_fraction : float
        Of faulty links, the fraction that fail intermittently [-]; 0.5.
    link_corrupt_fraction : float
        Of faulty links, the fraction that corrupt rather than lose packets [-]; 0.5.
    link_packet_fail_prob : float
        Per-packet failure probability on an intermittent link [-]; 0.05.
    register_upset_rate_per_core_hour : float
        Upsets of a core's or router's configuration registers
        [1/(core h)]; 2.5e-10 (1e-3 FIT/bit, Baumann 2005, times 256
        configuration bits).
    register_stuck_fraction : float
        Of register upsets, the fraction that are hard (the bit stays flipped
        after a rewrite) [-]; 0.1 (assumption).
    sram_fault_fraction : float
        Fraction of core sites whose SRAM has a functional fault [-]; 1e-4
        (assumption).
    sram_kind_weights : tuple of float
        Relative weights of the SRAM fault kinds in :data:`SRAM_KIND_NAMES`
        order (stuck-at, transition, inversion coupling, idempotent coupling,
        decoder alias, decoder multi-access, read-destructive, deceptive
        read-destructive) [-]; stuck-at dominant (van de Goor 1991).
    sram_words, sram_word_bits : int
        Local memory geometry [words], [bits]; 12288 x 32 bits = 48 KiB
        (public figure of a wafer-scale engine core).
    horizon_h : float
        Register upsets are drawn over [0, horizon_h) of wall-clock time [h]; 2000 h.

    Examples
    --------
    >>> FaultModel().activation_energy_ev
    0.7
    >>> FaultModel(latent_fraction=2.0)
    Traceback (most recent call last):
    ...
    burnin.fault_model.FaultModelError: latent_fraction must be in [0, 1], got 2.0
    """

    activation_energy_ev: float = 0.7
    reference_temp_c: float = 55.0
    reference_voltage_v: float = 0.8
    voltage_model: str = "exponential"
    voltage_gamma_per_v: float = 10.0
    voltage_exponent: float = 8.0
    latent_fraction: float = 1e-4
    weibull_shape: float = 0.5
    weibull_scale_h: float = 1e5
    marginal_fraction: float = 2e-5
    marginal_fail_prob_ref: float = 0.02
    thermal_fraction: float = 2e-5
    thermal_threshold_min_c: float = 90.0
    thermal_threshold_max_c: float = 130.0
    transient_rate_per_core_hour: float = 4e-7
    link_fault_fraction: float = 1e-5
    link_intermittent_fraction: float = 0.5
    link_corrupt_fraction: float = 0.5
    link_packet_fail_prob: float = 0.05
    register_upset_rate_per_core_hour: float = 2.5e-10
    register_stuck_fraction: float = 0.1
    sram_fault_fraction: float = 1e-4
    sram_kind_weights: tuple[float, ...] = (0.4, 0.15, 0.1, 0.1, 0.05, 0.05, 0.1, 0.05)
    sram_words: int = 12288
    sram_word_bits: int = 32
    horizon_h: float = 2000.0

    def __post_init__(self) -> None:
        def check(ok: bool, name: str, rule: str) -> None:
            if not ok:
                raise FaultModelError(f"{name} must be {rule}, got {getattr(self, name)!r}")

        fin = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)  # noqa: E731
        for name in ("latent_fraction", "marginal_fraction", "marginal_fail_prob_ref", "thermal_fraction",
                     "link_fault_fraction", "link_intermittent_fraction", "link_corrupt_fraction",
                     "link_packet_fail_prob", "register_stuck_fraction", "sram_fault_fraction"):
            check(fin(getattr(self, name)) and 0 <= getattr(self, name) <= 1, name, "in [0, 1]")
        for name in ("activation_energy_ev", "transient_rate_per_core_hour", "register_upset_rate_per_core_hour",
                     "voltage_gamma_per_v", "voltage_exponent"):
            check(fin(getattr(self, name)) and getattr(self, name) >= 0, name, ">= 0")
        for name in ("weibull_shape", "weibull_scale_h", "reference_voltage_v", "horizon_h"):
            check(fin(getattr(self, name)) and getattr(self, name) > 0, name, "> 0")
        check(self.voltage_model in ("exponential", "power"), "voltage_model", "exponential or power")
        check(fin(self.reference_temp_c) and self.reference_temp_c > -273.15, "reference_temp_c", "above 0 K")
        check(self.thermal_threshold_min_c <= self.thermal_threshold_max_c, "thermal_threshold_min_c",
              "<= thermal_threshold_max_c")
        check(len(self.sram_kind_weights) == len(SRAM_KIND_NAMES) and all(w >= 0 for w in self.sram_kind_weights)
              and sum(self.sram_kind_weights) > 0, "sram_kind_weights", f"{len(SRAM_KIND_NAMES)} weights >= 0")
        check(isinstance(self.sram_words, int) and self.sram_words >= 2, "sram_words", "an int >= 2")
        check(isinstance(self.sram_word_bits, int) and 1 <= self.sram_word_bits <= 64, "sram_word_bits",
              "an int in [1, 64]")

    def acceleration(self, temp_c: float, voltage_v: float) -> float:
        """Combined acceleration AF_T * AF_V of conditions relative to the reference [-].

        Examples
        --------
        >>> m = FaultModel()
        >>> m.acceleration(m.reference_temp_c, m.reference_voltage_v)
        1.0
        """
        af_t = arrhenius_af(self.activation_energy_ev, self.reference_temp_c, temp_c)
        if self.voltage_model == "exponential":
            af_v = voltage_af_exponential(self.voltage_gamma_per_v, self.reference_voltage_v, voltage_v)
        else:
            af_v = voltage_af_power(self.voltage_exponent, self.reference_voltage_v, voltage_v)
        return float(af_t * af_v)
