"""Monte-Carlo engine: closed forms within sample-size tolerances, reproducibility."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.stat_tolerance import mean_tolerance, proportion_tolerance
from yieldkit.defects import DefectModel
from yieldkit.design import load_design
from yieldkit.errors import InputError
from yieldkit.models import negative_binomial_yield, poisson_yield, row_spare_yield, site_failure_probability
from yieldkit.montecarlo import BLOCK_WAFERS, simulate

SMALL = load_design("small")
NO_SPARES = SMALL.with_spares_per_row(0)
N = 20_000


@pytest.mark.parametrize("d0", [0.01, 0.03])
def test_no_redundancy_poisson_is_exp_minus_ad(d0: float) -> None:
    result = simulate(NO_SPARES, DefectModel(d0, x0_um=0), N, seed=11)
    expected = float(poisson_yield(d0, NO_SPARES.existing_area_cm2))
    assert abs(result.full_fabric_yield - expected) < proportion_tolerance(expected, N)
    assert result.ci_low <= result.full_fabric_yield <= result.ci_high


@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_no_redundancy_negative_binomial(alpha: float) -> None:
    d0 = 0.03
    result = simulate(NO_SPARES, DefectModel(d0, alpha=alpha, x0_um=0), N, seed=12)
    expected = float(negative_binomial_yield(d0, NO_SPARES.existing_area_cm2, alpha))
    assert abs(result.full_fabric_yield - expected) < proportion_tolerance(expected, N)
    # and it is far from the Poisson yield at this sample size: the test can fail
    assert abs(expected - float(poisson_yield(d0, NO_SPARES.existing_area_cm2))) > 5 * proportion_tolerance(expected, N)


@pytest.mark.parametrize("d0", [1.0, 2.0])
def test_row_spares_match_the_product_of_binomial_tails(d0: float) -> None:
    # row-shift with unlimited routing reach: a row is repaired whenever its dead sites fit its spares
    unlimited = replace(SMALL, scheme_params={})
    result = simulate(unlimited, DefectModel(d0, x0_um=0), N, seed=13)
    p = float(site_failure_probability(d0, SMALL.site_area_mm2))
    expected = float(row_spare_yield(p, SMALL.sites_per_row, SMALL.spares_per_row))
    assert abs(result.full_fabric_yield - expected) < proportion_tolerance(expected, N)


def test_mean_dead_cores_and_defects() -> None:
    d0 = 1.5
    model = DefectModel(d0, x0_um=0)
    result = simulate(SMALL, model, N, seed=14)
    p = float(site_failure_probability(d0, SMALL.site_area_mm2))
    n_sites = SMALL.existing_sites
    assert abs(result.mean_dead_cores - n_sites * p) < mean_tolerance(np.sqrt(n_sites * p * (1 - p)), N)
    mean = model.mean_defects(SMALL)
    assert abs(result.mean_defects - mean) < mean_tolerance(np.sqrt(mean), N)
    assert result.std_dead_cores == pytest.approx(np.sqrt(n_sites * p * (1 - p)), rel=0.05)


def test_same_seed_same_result_whatever_the_workers_and_chunking() -> None:
    model = DefectModel(1.0, alpha=1.5, link_fraction=0.1)
    n = 3 * BLOCK_WAFERS + 17  # a partial last block
    reference = simulate(SMALL, model, n, seed=5).to_dict()
    assert reference["wafers"] == n
    assert simulate(SMALL, model, n, seed=5, blocks_per_task=3).to_dict() == reference
    assert simulate(SMALL, model, n, seed=5, workers=2, blocks_per_task=1).to_dict() == reference
    assert simulate(SMALL, model, n, seed=6).to_dict() != reference


def test_dask_scheduler_gives_the_same_result() -> None:
    distributed = pytest.importorskip("dask.distributed", reason="the 'distributed' extra is not installed")
    model = DefectModel(1.0, alpha=2.0)
    n = 2 * BLOCK_WAFERS + 5
    reference = simulate(SMALL, model, n, seed=21).to_dict()
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        result = simulate(SMALL, model, n, seed=21, scheduler=cluster.scheduler_address, blocks_per_task=1)
    assert result.to_dict() == reference


def test_progress_reports_every_wafer() -> None:
    seen: list[int] = []
    simulate(SMALL, DefectModel(0.5), BLOCK_WAFERS + 3, seed=1, blocks_per_task=1, progress=seen.append)
    assert sum(seen) == BLOCK_WAFERS + 3


def test_harvest_histogram_counts_degraded_wafers() -> None:
    result = simulate(SMALL, DefectModel(3.0, x0_um=0), 4000, seed=2)
    agg = result.aggregate
    assert agg.harvest_hist.sum() == agg.wafers - agg.full
    assert 0 < result.mean_logical_cores < SMALL.logical_cores


@pytest.mark.parametrize("kwargs", [{"n_wafers": 0}, {"seed": -1}, {"workers": 0}, {"confidence": 1.0}])
def test_bad_arguments(kwargs: dict) -> None:
    args = {"n_wafers": 10, "seed": 0} | kwargs
    n_wafers, seed = args.pop("n_wafers"), args.pop("seed")
    with pytest.raises(InputError):
        simulate(SMALL, DefectModel(0.1), n_wafers, seed, **args)
