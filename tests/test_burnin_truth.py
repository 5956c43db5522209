"""Fault truth: acceleration factors, Weibull times to failure, reproducibility, sparsity."""

from __future__ import annotations

import math

import numpy as np
import pytest

from burnin.fault_model import FaultModel, FaultModelError
from burnin.sram import SramFaultKind
from burnin.truth import alive_sites, candidate_links, draw_fault_truth
from tests.stat_tolerance import mean_tolerance, proportion_tolerance
from yieldkit.defect_map import DefectMap
from yieldkit.defects import DefectModel, sample_wafer
from yieldkit.design import load_design
from yieldkit.reliability.acceleration import BOLTZMANN_EV_PER_K, arrhenius_af, voltage_af_exponential, voltage_af_power


def test_arrhenius_matches_its_closed_form_from_55_to_125_c() -> None:
    ea, t_use, t_stress = 0.7, 55.0 + 273.15, 125.0 + 273.15
    expected = math.exp(ea / 8.617333262e-5 * (1.0 / t_use - 1.0 / t_stress))
    assert float(arrhenius_af(0.7, 55.0, 125.0)) == pytest.approx(expected, rel=1e-12)
    assert 70 < expected < 85  # the familiar order of a 55 -> 125 C burn-in at 0.7 eV
    assert BOLTZMANN_EV_PER_K == 8.617333262e-5


def test_arrhenius_composes_and_inverts() -> None:
    ab, bc, ac = arrhenius_af(0.7, 25, 85), arrhenius_af(0.7, 85, 150), arrhenius_af(0.7, 25, 150)
    assert float(ab * bc) == pytest.approx(float(ac), rel=1e-12)
    assert float(arrhenius_af(0.7, 125, 55) * arrhenius_af(0.7, 55, 125)) == pytest.approx(1.0, rel=1e-12)
    assert float(arrhenius_af(0.9, 55, 125)) > float(arrhenius_af(0.7, 55, 125)) > 1.0


def test_voltage_acceleration_closed_forms() -> None:
    assert float(voltage_af_exponential(7.5, 0.8, 0.96)) == pytest.approx(math.exp(7.5 * 0.16), rel=1e-12)
    assert float(voltage_af_power(30.0, 0.8, 0.88)) == pytest.approx((0.88 / 0.8) ** 30, rel=1e-12)
    model = FaultModel(voltage_model="power", voltage_exponent=30.0)
    expected = (0.88 / 0.8) ** 30 * math.exp(0.7 / 8.617333262e-5 * (1 / 328.15 - 1 / 398.15))
    assert model.acceleration(125.0, 0.88) == pytest.approx(expected, rel=1e-12)


def test_fault_model_rejects_bad_parameters() -> None:
    with pytest.raises(FaultModelError, match="weibull_shape"):
        FaultModel(weibull_shape=0.0)
    with pytest.raises(FaultModelError, match="voltage_model"):
        FaultModel(voltage_model="linear")


@pytest.fixture(scope="module")
def small():
    return load_design("small")


def test_weibull_times_to_failure_follow_the_closed_form(small) -> None:
    shape, scale = 0.5, 1000.0
    model = FaultModel(latent_fraction=1.0, weibull_shape=shape, weibull_scale_h=scale)
    ttf = np.concatenate([draw_fault_truth(small, None, model, seed).latent_ttf_ref_h for seed in range(5)])
    n = ttf.size
    assert n == 5 * small.existing_sites
    for t in (0.01 * scale, scale, 10 * scale):  # the CDF 1 - exp(-(t / eta)^beta)
        p = 1.0 - math.exp(-((t / scale) ** shape))
        assert abs(float(np.mean(ttf <= t)) - p) <= proportion_tolerance(p, n)
    # ln T is Gumbel: mean ln(eta) - euler_gamma / beta, variance pi^2 / (6 beta^2)
    mean, sd = math.log(scale) - 0.5772156649015329 / shape, math.pi / (math.sqrt(6) * shape)
    assert abs(float(np.log(ttf).mean()) - mean) <= mean_tolerance(sd, n)


def _fields(truth) -> dict:
    out = {k: v for k, v in vars(truth).items() if isinstance(v, np.ndarray)}
    out.update({f"sram.{k}": v for k, v in vars(truth.sram).items()})
    return out


def test_truth_is_reproducible_from_the_seed_and_differs_for_another(small) -> None:
    model = FaultModel(latent_fraction=0.02, marginal_fraction=0.01, thermal_fraction=0.01, link_fault_fraction=0.01,
                       register_upset_rate_per_core_hour=1e-5, sram_fault_fraction=0.02)
    a, b, c = (draw_fault_truth(small, None, model, s) for s in (5, 5, 6))
    fa, fb, fc = _fields(a), _fields(b), _fields(c)
    assert all(np.array_equal(fa[k], fb[k]) for k in fa)
    assert all(fa[k].size > 0 for k in fa)
    assert not np.array_equal(fa["latent_site"], fc["latent_site"])
    assert not np.array_equal(fa["sram.address"], fc["sram.address"])


def test_faults_avoid_dead_sites_and_links_and_counts_match_the_rates() -> None:
    design = load_design("wse")
    defects = sample_wafer(design, DefectModel(0.5, alpha=2.0, link_fraction=0.3), seed=2)
    model = FaultModel(latent_fraction=1e-3, link_fault_fraction=1e-3, sram_fault_fraction=1e-3,
                       register_upset_rate_per_core_hour=1e-7)
    truth = draw_fault_truth(design, defects, model, seed=3)
    sites, links = alive_sites(design, defects), candidate_links(design, defects)
    for name in ("latent_site", "marginal_site", "thermal_site", "register_site"):
        assert np.isin(getattr(truth, name), sites).all()
    assert np.isin(truth.sram.core, sites).all()
    assert not np.isin(truth.link_id, defects.dead_links).any() and np.isin(truth.link_id, links).all()
    assert abs(truth.latent_site.size / sites.size - 1e-3) <= proportion_tolerance(1e-3, sites.size)
    assert abs(truth.link_id.size / links.size - 1e-3) <= proportion_tolerance(1e-3, links.size)
    mean = 1e-7 * sites.size * model.horizon_h  # Poisson count of register upsets
    assert abs(truth.register_site.size - mean) <= 4.5 * math.sqrt(mean)
    assert ((truth.register_time_h >= 0) & (truth.register_time_h < model.horizon_h)).all()
    coupling = np.isin(truth.sram.kind, [SramFaultKind.CFIN, SramFaultKind.CFID])
    assert (truth.sram.aggressor_address[coupling] != truth.sram.address[coupling]).all()
    assert ((truth.sram.address >= 0) & (truth.sram.address < model.sram_words)).all()


def test_sram_kinds_follow_their_weights(small) -> None:
    weights = (1, 0, 0, 0, 0, 0, 0, 3)
    truth = draw_fault_truth(small, DefectMap.empty(small), FaultModel(sram_fault_fraction=1.0, sram_kind_weights=weights), 1)
    kinds = truth.sram.kind
    assert set(np.unique(kinds).tolist()) == {SramFaultKind.SAF, SramFaultKind.DRDF}
    p = 0.75
    assert abs(float(np.mean(kinds == SramFaultKind.DRDF)) - p) <= proportion_tolerance(p, kinds.size)
