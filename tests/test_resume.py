"""``yieldkit sweep -o FILE`` survives SIGKILL: ``--resume`` continues from the checkpoint, same table."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from yieldkit.defects import DefectModel
from yieldkit.design import load_design
from yieldkit.errors import InputError
from yieldkit.montecarlo import BLOCK_WAFERS
from yieldkit.sweep import Checkpoint, checkpoint_path, sweep

SMALL = load_design("small")
ARGS = ["sweep", "--design", "small", "--d0", "0.5,1,2,4", "--alpha", "poisson,2", "--wafers", str(3 * BLOCK_WAFERS),
        "--seed", "5", "--quiet"]


def run_cli(args: list[str], **kwargs) -> subprocess.Popen:  # noqa: ANN003
    code = "from yieldkit.cli import main; main()"
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            **kwargs)


def test_checkpointed_sweep_equals_the_plain_one_and_resumes_from_stored_tasks(tmp_path: Path) -> None:
    model = DefectModel(0.0)
    plain = sweep(SMALL, model, [0.5, 2.0], 2 * BLOCK_WAFERS + 3, 7, blocks_per_task=1)
    folder = tmp_path / "t.parquet.partial"
    first = sweep(SMALL, model, [0.5, 2.0], 2 * BLOCK_WAFERS + 3, 7, blocks_per_task=1, checkpoint=folder)
    pd.testing.assert_frame_equal(first, plain)
    stored = sorted(p.name for p in folder.glob("p*.json"))
    assert stored == ["p0-b0-1.json", "p0-b1-2.json", "p0-b2-3.json", "p1-b0-1.json", "p1-b1-2.json", "p1-b2-3.json"]
    # a resumed run computes nothing that is stored: drop one task and count what runs again
    (folder / "p1-b1-2.json").unlink()
    seen: list[int] = []
    again = sweep(SMALL, model, [0.5, 2.0], 2 * BLOCK_WAFERS + 3, 7, blocks_per_task=1, checkpoint=folder,
                  resume=True, progress=seen.append)
    pd.testing.assert_frame_equal(again, plain)
    assert sum(seen) == 2 * (2 * BLOCK_WAFERS + 3)


def test_resume_refuses_a_checkpoint_of_other_parameters(tmp_path: Path) -> None:
    folder = tmp_path / "t.csv.partial"
    sweep(SMALL, DefectModel(0.0), [0.5], 100, 7, checkpoint=folder)
    with pytest.raises(InputError, match="other parameters"):
        sweep(SMALL, DefectModel(0.0), [0.5], 100, 8, checkpoint=folder, resume=True)
    Checkpoint.open(folder, {"other": 1}, resume=False)  # without --resume it is replaced
    assert json.loads((folder / "run.json").read_text())["parameters"] == {"other": 1}


def test_cli_resume_of_other_parameters_exits_2_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    Checkpoint.open(checkpoint_path(out), {"other": 1}, resume=False)
    proc = run_cli([*ARGS, "-o", str(out), "--resume"])
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2
    assert len(err.decode().strip().splitlines()) == 1 and "other parameters" in err.decode()
    assert not out.exists()


def test_sigkill_then_resume_gives_the_uninterrupted_table(tmp_path: Path) -> None:
    reference = tmp_path / "reference.parquet"
    start = time.perf_counter()
    proc = run_cli([*ARGS, "-o", str(reference)])
    assert proc.wait(timeout=600) == 0, proc.stderr.read().decode()
    full_time = time.perf_counter() - start
    expected = pd.read_parquet(reference)
    assert not checkpoint_path(reference).exists()
    rng = random.Random(1)
    for trial in range(3):
        out = tmp_path / f"t{trial}.parquet"
        proc = run_cli([*ARGS, "-o", str(out)])
        time.sleep(rng.uniform(0.3, 1.0) * full_time)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        # never a partial file at the final path: either nothing or the whole table
        if out.exists():
            pd.testing.assert_frame_equal(pd.read_parquet(out), expected)
        resumed = run_cli([*ARGS, "-o", str(out), "--resume"])
        assert resumed.wait(timeout=600) == 0, resumed.stderr.read().decode()
        pd.testing.assert_frame_equal(pd.read_parquet(out), expected)
        assert not checkpoint_path(out).exists()
        assert os.listdir(tmp_path).count(out.name) == 1
