"""Monte-Carlo engine: closed forms within sample-size tolerances, reproducibility."""

from __future__ import annotations

import json
from concurrent.futures import Future
from dataclasses import replace

import numpy as np
import pytest

from tests.stat_tolerance import mean_tolerance, proportion_tolerance
from yieldkit import montecarlo
from yieldkit.defects import STREAM_VERSION, DefectModel
from yieldkit.design import load_design
from yieldkit.errors import Failure, InputError
from yieldkit.models import negative_binomial_yield, poisson_yield, row_spare_yield, site_failure_probability
from yieldkit.montecarlo import BLOCK_WAFERS, check_scheduler_address, simulate, worker_count

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


@pytest.mark.slow
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


@pytest.mark.parametrize("model", [
    DefectModel(1.0, alpha=1.5, link_fraction=0.1),
    DefectModel(0.05, alpha=1.5, spatial="thomas", cluster_sigma_mm=5.0),
], ids=["uniform", "thomas"])
def test_same_seed_same_result_whatever_the_workers_and_chunking(model: DefectModel) -> None:
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


@pytest.mark.parametrize(("kwargs", "parameter"), [
    ({"n_wafers": 0}, "n_wafers"), ({"n_wafers": 10.0}, "n_wafers"), ({"seed": -1}, "seed"),
    ({"workers": 0}, "workers"), ({"blocks_per_task": 0}, "blocks_per_task"), ({"confidence": 1.0}, "confidence"),
    ({"scheduler": "garbage"}, "scheduler"),
])
def test_bad_arguments_name_the_parameter(kwargs: dict, parameter: str) -> None:
    args = {"n_wafers": 10, "seed": 0} | kwargs
    n_wafers, seed = args.pop("n_wafers"), args.pop("seed")
    with pytest.raises(InputError) as caught:
        simulate(SMALL, DefectModel(0.1), n_wafers, seed, **args)
    assert caught.value.parameter == parameter


def test_absurd_density_is_rejected_before_any_worker_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(montecarlo, "ProcessPoolExecutor", None)  # would raise if used
    with pytest.raises(InputError) as caught:
        simulate(SMALL, DefectModel(1e4), 10, 0, workers=2)
    assert caught.value.parameter == "d0_per_cm2"


@pytest.mark.parametrize("address", ["garbage", "tcp://host", "tcp://host:0", "tcp://host:99999", "http://host:8786",
                                     "tcp://-bad-:8786", "", "tcp://10.0.0.1:8786/extra", 8786])
def test_malformed_scheduler_addresses_are_input_errors(address: object) -> None:
    with pytest.raises(InputError, match="must be an address like tcp://host:8786") as caught:
        check_scheduler_address(address)
    assert caught.value.parameter == "scheduler"


@pytest.mark.parametrize("address", ["tcp://10.0.0.5:8786", "localhost:8786", "tls://sched.example.org:443",
                                     "tcp://[::1]:8786", "inproc://10.0.0.1/4242/1",
                                     "tcp://dask_scheduler.local:8786"])
def test_well_formed_scheduler_addresses_pass(address: str) -> None:
    assert check_scheduler_address(address) == address


def test_unreachable_scheduler_is_a_failure_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("dask.distributed", reason="the 'distributed' extra is not installed")
    monkeypatch.setattr(montecarlo, "DASK_CONNECT_TIMEOUT_S", 1.0)
    with pytest.raises(Failure, match="cannot reach the Dask scheduler at tcp://127.0.0.1:1: "):
        simulate(SMALL, DefectModel(0.1), 10, 0, scheduler="tcp://127.0.0.1:1")


def test_cluster_lost_mid_run_is_a_failure_naming_it() -> None:
    distributed = pytest.importorskip("dask.distributed", reason="the 'distributed' extra is not installed")
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)
    address = cluster.scheduler_address
    try:
        with pytest.raises(Failure, match=f"lost the Dask cluster at {address} after"):
            simulate(SMALL, DefectModel(0.5), 6 * BLOCK_WAFERS, 0, scheduler=address, blocks_per_task=1,
                     progress=lambda _: cluster.close())
    finally:
        cluster.close()


class RecordingPool:
    """A ProcessPoolExecutor stand-in that runs tasks inline and records its size."""

    sizes: list[int] = []

    def __init__(self, max_workers: int) -> None:
        RecordingPool.sizes.append(max_workers)

    def __enter__(self) -> "RecordingPool":
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def submit(self, fn, *args):  # noqa: ANN001, ANN002, ANN201
        future: Future = Future()
        future.set_result(fn(*args))
        return future


def test_workers_are_capped_at_the_tasks_and_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(montecarlo, "ProcessPoolExecutor", RecordingPool)
    monkeypatch.setattr(montecarlo, "_usable_cpus", lambda: 64)
    RecordingPool.sizes = []
    model = DefectModel(0.2)
    one_task = simulate(SMALL, model, 100, 3, workers=1000)
    assert RecordingPool.sizes == []  # one task: no pool at all
    assert one_task.to_dict() == simulate(SMALL, model, 100, 3).to_dict()
    simulate(SMALL, model, 2 * BLOCK_WAFERS + 1, 3, workers=1000, blocks_per_task=1)
    assert RecordingPool.sizes == [3]
    monkeypatch.setattr(montecarlo, "_usable_cpus", lambda: 2)
    simulate(SMALL, model, 2 * BLOCK_WAFERS + 1, 3, workers=1000, blocks_per_task=1)
    assert RecordingPool.sizes == [3, 2]
    assert worker_count(1000, 10 * BLOCK_WAFERS, 1) <= max(montecarlo._usable_cpus(), 1)


def test_out_of_memory_in_the_repair_check_says_what_was_built(monkeypatch: pytest.MonkeyPatch) -> None:
    def exhausted(design):  # noqa: ANN001, ANN202
        def assess(batch):  # noqa: ANN001, ANN202
            raise MemoryError()
        return assess

    monkeypatch.setattr(montecarlo, "assessor_for", exhausted)
    with pytest.raises(Failure, match=r"out of memory assessing the row-shift repair of 10 wafers x .* on design small"):
        simulate(SMALL, DefectModel(0.5), 10, 0)


def test_record_reproduces_the_model_and_repr_is_one_line() -> None:
    model = DefectModel(0.7, alpha=2.0, spatial="thomas", cluster_mean_size=4.0, cluster_sigma_mm=9.0, x0_um=1.0)
    result = simulate(SMALL, model, 50, seed=8)
    record = result.to_dict()
    assert DefectModel(**{k: record[k] for k in model.to_dict()}) == model
    assert record["stream_version"] == STREAM_VERSION
    assert json.loads(json.dumps(record)) == record
    assert "\n" not in repr(result) and "seed 8" in repr(result)
    assert "\n" not in repr(result.aggregate)
