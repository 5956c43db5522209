"""``sweep`` and ``plan`` on a real Dask cluster: the same tables, even when a worker is killed mid-run."""

from __future__ import annotations

import os
import signal

import pandas as pd
import pytest

from yieldkit.defects import DefectModel
from yieldkit.design import load_design
from yieldkit.montecarlo import BLOCK_WAFERS
from yieldkit.sizing import size_redundancy
from yieldkit.sweep import sweep

distributed = pytest.importorskip("dask.distributed", reason="the 'distributed' extra (dask) is not installed")

SMALL = load_design("small")
MODEL = DefectModel(0.0, alpha=2.0)


@pytest.fixture(scope="module")
def cluster():  # noqa: ANN201
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  death_timeout="60s") as local:
        with distributed.Client(local.scheduler_address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield local


def test_sweep_with_a_worker_killed_mid_run_equals_one_process(cluster) -> None:  # noqa: ANN001
    n = 3 * BLOCK_WAFERS + 11
    reference = sweep(SMALL, MODEL, [0.5, 1.0, 2.0], n, 13, blocks_per_task=1)
    with distributed.Client(cluster.scheduler_address, timeout="60s") as client:
        pids = sorted(client.run(os.getpid).values())
    assert len(pids) == 2
    killed: list[int] = []

    def kill_one(_: int) -> None:
        if not killed:  # after the first finished task: the others are queued or running
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    table = sweep(SMALL, MODEL, [0.5, 1.0, 2.0], n, 13, blocks_per_task=1, scheduler=cluster.scheduler_address,
                  progress=kill_one)
    assert killed
    pd.testing.assert_frame_equal(table, reference)
    with distributed.Client(cluster.scheduler_address, timeout="60s") as client:
        assert pids[0] not in client.run(os.getpid).values()


def test_plan_on_the_cluster_equals_one_process(cluster) -> None:  # noqa: ANN001
    model = DefectModel(1.0, alpha=2.0)
    local = size_redundancy(SMALL, model, 0.9, 300, 3, ("none", "row-shift"))
    remote = size_redundancy(SMALL, model, 0.9, 300, 3, ("none", "row-shift"), scheduler=cluster.scheduler_address)
    assert remote == local
