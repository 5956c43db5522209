"""Campaigns: SIGKILL + --resume equals an uninterrupted run; two stations at once; bad input exit 2."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from db.engine import make_engine
from db.models import TABLES

YK = [str(Path(sys.executable).parent / "yieldkit")]
_SKIP = {"id", "created_at", "updated_at", "started_at", "ended_at"}


def _yk(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    out = subprocess.run([*YK, *args], capture_output=True, text=True, timeout=300)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def _second_db(db_url: str, pg_schemas, tmp_path: Path) -> str:
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'reference.db'}"
    return pg_schemas.new()


_REFERS = {"lot_id": "lots", "wafer_id": "wafers", "campaign_id": "campaigns", "run_id": "runs",
           "defect_map_id": "defect_maps", "repair_map_id": "repair_maps", "parent_id": "fabric_images",
           "fabric_image_id": "fabric_images", "old_image_id": "fabric_images", "new_image_id": "fabric_images"}


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every table's rows without timestamps; ids (and the foreign ids pointing at them) replaced by their rank.

    PostgreSQL sequences are not transactional, so a killed transaction leaves a gap in the ids; the rank of an
    id in its table (the order of insertion) is what a resumed campaign must reproduce.
    """
    engine = make_engine(url)
    raw = {}
    try:
        with engine.connect() as conn:
            for name, table in TABLES.items():
                cols = [c for c in table.c if c.name not in _SKIP - {"id"}]
                raw[name] = ([c.name for c in cols], conn.execute(select(*cols)).all())
    finally:
        engine.dispose()
    rank = {name: {i: k for k, i in enumerate(sorted(r[cols.index("id")] for r in rows))}
            for name, (cols, rows) in raw.items() if "id" in cols}
    out = {}
    for name, (cols, rows) in raw.items():
        fixed = []
        for r in rows:
            values = []
            for col, v in zip(cols, r):
                if isinstance(v, memoryview):
                    v = bytes(v)
                if col == "id":
                    v = rank[name][v]
                elif col in _REFERS and v is not None:
                    v = rank[_REFERS[col]][v]
                values.append(v)
            fixed.append(tuple(values))
        out[name] = sorted(fixed, key=repr)
    return out


def _lot(url: str, name: str = "K1", wafers: str = "2") -> None:
    _yk("lot", "create", "--design", "small", "--wafers", wafers, "--d0", "0.1", "--seed", "3", "--name", name,
        "--db", url, "--json", "-q")


RUN = ["burnin", "run", "--lot", "K1", "--hours", "24", "--step-h", "2", "--seed", "5", "-q", "--json"]


def test_killed_campaign_resumes_to_the_uninterrupted_database(db_url, pg_schemas, tmp_path):
    reference = _second_db(db_url, pg_schemas, tmp_path)
    for url in (db_url, reference):
        _lot(url)
    _yk(*RUN, "--db", reference)
    rng = random.Random(11)
    killed_mid_run = 0
    for trial in range(3):
        proc = subprocess.Popen([*YK, *RUN, "--db", db_url, *(["--resume"] if trial else [])],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.0, 2.5))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed_mid_run += 1
        proc.wait()
    _yk(*RUN, "--db", db_url, "--resume")
    assert killed_mid_run >= 1
    assert snapshot(db_url) == snapshot(reference)


def test_resume_of_a_finished_campaign_adds_nothing(db_url):
    _lot(db_url)
    _yk(*RUN, "--db", db_url)
    before = snapshot(db_url)
    _yk(*RUN, "--db", db_url, "--resume")
    assert snapshot(db_url) == before
    again = _yk(*RUN, "--db", db_url, check=False)
    assert again.returncode == 2 and "--resume" in again.stderr


def test_two_stations_run_on_different_wafers_into_one_database(db_url):
    _lot(db_url)
    procs = [subprocess.Popen([*YK, "burnin", "run", "--wafer", w, "--station", s, "--hours", "12", "--seed", "5",
                               "-q", "--json", "--db", db_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
             for w, s in (("K1-W01", "S1"), ("K1-W02", "S2"))]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            runs = conn.execute(select(TABLES["runs"].c.station, TABLES["runs"].c.wafer_id)).all()
    finally:
        engine.dispose()
    assert {s for s, _ in runs} == {"S1", "S2"} and len({w for _, w in runs}) == 2


@pytest.mark.parametrize("args, needle", [
    (["burnin", "run", "--wafer", "NOPE"], "NOPE"),
    (["burnin", "run", "--lot", "NOPE"], "NOPE"),
    (["burnin", "run", "--lot", "K1", "--hours", "-1"], "hours"),
    (["burnin", "scan", "NOPE"], "NOPE"),
    (["burnin", "remap", "NOPE", "--core", "1,1", "--reason", "x"], "NOPE"),
    (["burnin", "evaluate", "--campaign", "NOPE"], "NOPE"),
    (["lot", "show", "NOPE"], "NOPE"),
])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(db_url, args, needle):
    _lot(db_url)
    before = snapshot(db_url)
    out = _yk(*args, "--db", db_url, check=False)
    assert out.returncode == 2, out.stderr
    assert needle in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert snapshot(db_url) == before


def test_a_database_at_an_old_revision_is_refused(tmp_path):
    from db.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0002")
    out = _yk("lot", "list", "--db", url, check=False)
    assert out.returncode == 2 and "0002" in out.stderr
    out = _yk("burnin", "status", "--db", url, check=False)
    assert out.returncode == 2


def test_a_wafer_without_image_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'scrap.db'}"
    _yk("lot", "create", "--design", "small", "--wafers", "1", "--d0", "200", "--seed", "1", "--name", "Z",
        "--db", url, "-q", "--json")
    before = snapshot(url)
    out = _yk("burnin", "run", "--wafer", "Z-W01", "--db", url, check=False)
    assert out.returncode == 2 and "no fabric image" in out.stderr
    assert snapshot(url) == before


_KILL_INSIDE_A_STEP = """
import os, signal, sys
import burnin.campaign as campaign
original, calls = campaign.insert_fault_events, [0]
def insert_then_die(conn, rows):
    original(conn, rows)
    calls[0] += 1
    if calls[0] == int(os.environ["KILL_AT_STEP"]):
        os.kill(os.getpid(), signal.SIGKILL)   # inside the step's transaction, before its commit
    return len(rows)
campaign.insert_fault_events = insert_then_die
from yieldkit.cli import main
sys.argv = ["yieldkit", *sys.argv[1:]]
main()
"""


def test_a_kill_inside_a_step_transaction_loses_only_that_step(db_url, pg_schemas, tmp_path):
    reference = _second_db(db_url, pg_schemas, tmp_path)
    for url in (db_url, reference):
        _lot(url)
    _yk(*RUN, "--db", reference)
    for at in (3, 9):  # a step of the first wafer, then (resumed) one of the second
        proc = subprocess.run([sys.executable, "-c", _KILL_INSIDE_A_STEP, *RUN, "--db", db_url,
                               *(["--resume"] if at > 3 else [])], env={**os.environ, "KILL_AT_STEP": str(at)},
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        assert snapshot(db_url) != snapshot(reference)
    _yk(*RUN, "--db", db_url, "--resume")
    assert snapshot(db_url) == snapshot(reference)
