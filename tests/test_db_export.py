"""Table export to files: db/export.py (written whole or not at all)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from db.engine import make_engine, write_transaction
from db.export import export_table
from db.migrate import upgrade
from db.writer import add_run, add_wafer, ensure_campaign, ensure_lot, write_fault_events
from yieldkit.errors import InputError

N_EVENTS = 100_000  # a CSV of ~7 MB: the export takes long enough to be killed half-way


def _database(path, n_events: int) -> str:
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    with write_transaction(engine) as conn:
        wafer = add_wafer(conn, ensure_lot(conn, "L1"), "W1", "small")
        run = add_run(conn, campaign_id=ensure_campaign(conn, "C1"), wafer_id=wafer, station="S1", operator="op",
                      temperature_c=125.0, voltage_v=0.9, hours=24.0)
    events = pd.DataFrame({"run_id": run, "seq": range(n_events), "time_h": [s * 1e-3 for s in range(n_events)],
                           "core_row": 3, "core_col": 4, "fault_class": "sram", "detection": "ecc"})
    write_fault_events(engine, events)
    engine.dispose()
    return url


def _visible(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def test_export_killed_half_way_leaves_the_old_file_and_a_rerun_succeeds(tmp_path):
    url = _database(tmp_path / "y.db", N_EVENTS)
    out = tmp_path / "out"
    out.mkdir()
    target = out / "events.csv"
    target.write_text("id\n1\n")  # the previous export
    code = ("import sys; from db.engine import make_engine; from db.export import export_table; "
            "export_table(make_engine(sys.argv[1], read_only=True), 'fault_events', 'csv', sys.argv[2])")
    proc = subprocess.Popen([sys.executable, "-c", code, url, str(target)])
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            # Kill once the new content is being written (some bytes out, far from all of them).
            if any(p.stat().st_size > 0 for p in out.iterdir() if p.name != target.name):
                break
            time.sleep(0.002)
        else:
            pytest.fail("the export finished or never started writing before it could be killed")
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    if target.read_text() != "id\n1\n":  # the kill landed after the rename: then the new file is whole
        assert len(pd.read_csv(target)) == N_EVENTS
    assert _visible(out) == ["events.csv"]  # no stray visible partial file (e.g. events.csv.partial)

    done = subprocess.run([sys.executable, "-c", code, url, str(target)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(target)
    assert len(frame) == N_EVENTS and frame["seq"].is_monotonic_increasing
    assert _visible(out) == ["events.csv"]


def test_export_file_follows_the_umask(tmp_path):
    url = _database(tmp_path / "y.db", 3)
    old = os.umask(0o027)
    try:
        assert export_table(make_engine(url), "fault_events", "parquet", tmp_path / "e.parquet") == 3
    finally:
        os.umask(old)
    assert (tmp_path / "e.parquet").stat().st_mode & 0o777 == 0o640
    assert pd.read_parquet(tmp_path / "e.parquet")["seq"].tolist() == [0, 1, 2]


def test_export_to_a_missing_folder_is_refused_before_any_work(tmp_path):
    url = _database(tmp_path / "y.db", 3)
    with pytest.raises(InputError, match="output: .*does not exist"):
        export_table(make_engine(url), "lots", "csv", tmp_path / "nowhere" / "lots.csv")
