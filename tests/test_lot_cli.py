"""``yieldkit lot`` and the operator commands of ``yieldkit burnin`` through the CLI, on both back-ends."""

from __future__ import annotations

import json

import pytest

from sqlalchemy import select

from db.engine import make_engine
from db.models import RemapAction, Wafer
from tests.cli_runner import run



def test_lot_create_list_show_and_a_refused_duplicate(db_url):
    first = run("lot", "create", "--design", "small", "--wafers", "3", "--d0", "0.1", "--seed", "4", "--name", "LX",
                "--db", db_url, "--json", "-q")
    assert first.exit_code == 0, first.output
    wafers = json.loads(first.output)
    assert [w["wafer"] for w in wafers] == ["LX-W01", "LX-W02", "LX-W03"]
    again = run("lot", "create", "--design", "small", "--wafers", "3", "--d0", "0.1", "--seed", "4", "--name", "LX",
                "--db", db_url, "--json", "-q")
    assert again.exit_code == 2 and "already exists" in again.output
    listed = json.loads(run("lot", "list", "--db", db_url, "--json").output)
    assert len(listed) == 1 and listed[0]["wafers"] == 3 and listed[0]["design"] == "small"
    shown = json.loads(run("lot", "show", "LX", "--db", db_url, "--json").output)
    assert {w["wafer"] for w in shown} == {"LX-W01", "LX-W02", "LX-W03"}
    assert all(w["logical_grid"] == "64x64" for w in shown if w["state"] == "repaired")


def test_manual_remap_records_old_and_new_image_and_firmware_diff_shows_it(db_url, tmp_path):
    assert run("lot", "create", "--design", "small", "--wafers", "1", "--d0", "0", "--seed", "4", "--name", "LM",
               "--db", db_url, "--json", "-q").exit_code == 0
    out = run("burnin", "remap", "LM-W01", "--core", "10,12", "--reason", "hot spot", "--images", str(tmp_path),
              "--db", db_url, "--json")
    assert out.exit_code == 0, out.output
    record = json.loads(out.output)
    assert record["method"] == "local" and 0 < record["moved"] < 64 and record["state"] == "repaired"
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            remaps = conn.execute(select(RemapAction)).all()
            state = conn.scalar(select(Wafer.state))
    finally:
        engine.dispose()
    assert len(remaps) == 1 and remaps[0].old_image_id != remaps[0].new_image_id
    assert remaps[0].cores_moved == record["moved"] and remaps[0].reason == "hot spot" and state == "repaired"
    diff = run("firmware", "diff", str(tmp_path / "LM-W01-old.fabimg"), str(tmp_path / "LM-W01-new.fabimg"),
               "--json")
    assert diff.exit_code == 0, diff.output
    assert "mapped_out" in diff.output


def test_scan_prints_findings_and_writes_nothing(db_url):
    assert run("lot", "create", "--design", "small", "--wafers", "1", "--d0", "0.1", "--seed", "4", "--name", "LS",
               "--db", db_url, "--json", "-q").exit_code == 0
    out = run("burnin", "scan", "LS-W01", "--db", db_url, "--json")
    assert out.exit_code == 0, out.output
    status = json.loads(run("burnin", "status", "--lot", "LS", "--db", db_url, "--json").output)
    assert status[0]["runs"] == 0 and status[0]["remaps"] == 0


@pytest.mark.parametrize("args", [["lot", "show", "L1"], ["lot", "list"], ["burnin", "status"], ["burnin", "evaluate"],
                                  ["burnin", "run", "--lot", "L1", "--hours", "1", "--station", "S", "--operator", "o",
                                   "--seed", "1"]])
def test_commands_other_than_lot_create_do_not_create_a_missing_database(tmp_path, args):
    path = tmp_path / "nope.db"
    result = run(*args, "--db", f"sqlite:///{path}")
    assert result.exit_code == 2, result.output
    assert "nope.db" in result.output and not path.exists()
