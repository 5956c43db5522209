"""``yieldkit db`` through the CLI root: db/cli.py."""

from __future__ import annotations

import io
import json
import os
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from db.engine import make_engine, write_transaction
from db.migrate import head_revision
from db import add_defect_map, write_fault_events
from yieldkit.defect_map import DefectMap
from yieldkit.cli import cli

README = Path(__file__).resolve().parents[1] / "README.md"


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, ["db", *args], env=env)


def error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr  # one line, no traceback
    return lines[0]


def test_upgrade_current_stats_export(empty_db_url, tmp_path):
    up = run("upgrade", "--db", empty_db_url, "--json")
    assert up.exit_code == 0, up.output
    assert json.loads(up.stdout)["revision"] == head_revision()
    cur = run("current", "--db", empty_db_url, "--json")
    assert cur.exit_code == 0 and json.loads(cur.stdout)["at_head"] is True

    engine = make_engine(empty_db_url)
    with write_transaction(engine) as conn:
        conn.exec_driver_sql("INSERT INTO lots (name) VALUES ('L1')")
        conn.exec_driver_sql("INSERT INTO wafers (lot_id, serial, design) VALUES (1, 'W1', 'small')")
        conn.exec_driver_sql("INSERT INTO campaigns (name) VALUES ('C')")
        conn.exec_driver_sql("INSERT INTO runs (campaign_id, wafer_id, station, operator, temperature_c, voltage_v,"
                             " hours) VALUES (1, 1, 'S1', 'op', 125, 0.9, 24)")
        add_defect_map(conn, 1, DefectMap(20, 20, [258]))
    write_fault_events(engine, [{"run_id": 1, "seq": i, "time_h": i, "core_row": 0, "core_col": i,
                                 "fault_class": "sram", "detection": "ecc"} for i in range(5)])
    engine.dispose()

    stats = run("stats", "--db", empty_db_url, "--json")
    assert stats.exit_code == 0, stats.output
    counts = {r["table"]: r["rows"] for r in json.loads(stats.stdout)}
    assert counts["fault_events"] == 5 and counts["lots"] == 1

    csv_out = run("export", "--db", empty_db_url, "--table", "fault_events", "--format", "csv")
    assert csv_out.exit_code == 0, csv_out.output
    frame = pd.read_csv(io.StringIO(csv_out.stdout))
    assert len(frame) == 5 and frame["fault_class"].eq("sram").all()
    blobs = run("export", "--db", empty_db_url, "--table", "defect_maps")
    exported = pd.read_csv(io.StringIO(blobs.stdout), dtype=str, keep_default_na=False)
    assert exported["dead_sites"].tolist() == ["0201000000000000"]  # little-endian int64 258
    assert exported["dead_links"].tolist() == [""]

    pareto_out = run("pareto", "--db", empty_db_url, "--json", "--lot", "L1", "--class", "sram")
    assert pareto_out.exit_code == 0, pareto_out.output
    assert json.loads(pareto_out.stdout) == [{"fault_class": "sram", "count": 5, "share": 1.0,
                                              "cumulative_share": 1.0}]
    hours = run("failures", "--db", empty_db_url, "--csv", "--bin-h", "2", "--end-h", "4")
    assert hours.exit_code == 0, hours.output
    assert pd.read_csv(io.StringIO(hours.stdout))["failures"].tolist() == [2, 2]
    bad = run("pareto", "--db", empty_db_url, "--class", "gremlins")
    assert bad.exit_code == 2 and "gremlins" in error_line(bad)
    bad = run("failures", "--db", empty_db_url, "--bin-h", "0")
    assert bad.exit_code == 2 and "--bin-h" in error_line(bad)

    to_stdout = run("export", "--db", empty_db_url, "--table", "fault_events", "--format", "parquet", "-o", "-")
    assert to_stdout.exit_code == 0
    assert pd.read_parquet(io.BytesIO(to_stdout.stdout_bytes))["seq"].tolist() == [0, 1, 2, 3, 4]

    target = tmp_path / "events.parquet"
    pq = run("export", "--db", empty_db_url, "--table", "fault_events", "--format", "parquet", "-o", str(target))
    assert pq.exit_code == 0, pq.output
    assert "wrote 5 rows" in pq.stderr
    assert pd.read_parquet(target)["seq"].tolist() == [0, 1, 2, 3, 4]
    assert not list(tmp_path.glob("*.partial"))


def test_db_url_from_environment_and_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("YIELDKIT_DB", raising=False)
    assert run("upgrade", "--json").exit_code == 0
    assert (tmp_path / "yieldkit.db").exists()
    other = tmp_path / "other.db"
    result = run("upgrade", "--json", env={"YIELDKIT_DB": f"sqlite:///{other}"})
    assert result.exit_code == 0 and other.exists()
    assert json.loads(result.stdout)["url"] == f"sqlite:///{other}"


@pytest.mark.parametrize("command", ["current", "stats"])
def test_missing_sqlite_file_is_not_created(tmp_path, command):
    path = tmp_path / "typo.db"
    result = run(command, "--db", f"sqlite:///{path}")
    assert result.exit_code == 2
    assert "no database at" in error_line(result) and "yieldkit db upgrade" in error_line(result)
    assert not path.exists()


def test_unreachable_postgres_is_one_line_exit_2():
    result = run("current", "--db", "postgresql+psycopg://postgres@127.0.0.1:1/test")
    assert result.exit_code == 2
    line = error_line(result)
    assert line.startswith("Error: cannot open database postgresql+psycopg://postgres@127.0.0.1:1/test")


def test_password_is_masked_in_errors():
    result = run("stats", "--db", "postgresql+psycopg://u:s3cret@127.0.0.1:1/test")
    assert result.exit_code == 2 and "s3cret" not in result.stderr


@pytest.mark.parametrize("url, message", [
    ("nosuchdialect://x/y", "unsupported database URL"),
    ("postgresql://u@host:notaport/db", "not a database URL"),
])
def test_bad_url(url, message):
    result = run("upgrade", "--db", url)
    assert result.exit_code == 2 and message in error_line(result)


def test_missing_directory(tmp_path):
    result = run("upgrade", "--db", f"sqlite:///{tmp_path}/no/such/dir/x.db")
    assert result.exit_code == 2 and "does not exist" in error_line(result)


def test_not_a_database_file(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"this is not sqlite" * 100)
    before = path.read_bytes()
    result = run("upgrade", "--db", f"sqlite:///{path}")
    assert result.exit_code == 2 and "not a" in error_line(result)
    assert path.read_bytes() == before


def test_unknown_revision_is_refused(empty_db_url):
    assert run("upgrade", "--db", empty_db_url).exit_code == 0
    engine = make_engine(empty_db_url)
    with write_transaction(engine) as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999future'")
    engine.dispose()
    for command in ("upgrade", "current", "stats"):
        result = run(command, "--db", empty_db_url)
        assert result.exit_code == 2, (command, result.output)
        assert "9999future" in error_line(result) and "unknown" in error_line(result)


def test_read_only_database(tmp_path):
    path = tmp_path / "ro.db"
    sqlite3.connect(path).close()  # an existing, empty file
    ro = f"sqlite:///file:{path}?mode=ro&uri=true"
    result = run("upgrade", "--db", ro)
    assert result.exit_code == 2
    assert "read-only" in error_line(result)
    assert path.stat().st_size == 0  # nothing written
    # A migrated database opened read-only still answers the read commands.
    assert run("upgrade", "--db", f"sqlite:///{path}").exit_code == 0
    assert run("stats", "--db", ro, "--json").exit_code == 0


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_file_permissions(tmp_path):
    path = tmp_path / "perm.db"
    sqlite3.connect(path).close()
    path.chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        result = run("upgrade", "--db", f"sqlite:///{path}")
        assert result.exit_code == 2 and ("read-only" in result.stderr or "cannot open" in result.stderr)
    finally:
        tmp_path.chmod(0o755)


def test_export_bad_input(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert run("upgrade", "--db", url).exit_code == 0
    result = run("export", "--db", url, "--table", "nope")
    assert result.exit_code == 2 and "unknown table 'nope'" in error_line(result)
    result = run("export", "--db", url, "--table", "lots", "-o", str(tmp_path / "no/dir/out.csv"))
    assert result.exit_code == 2 and "does not exist" in error_line(result)
    result = run("export", "--db", url, "--table", "lots", "--format", "xlsx")
    assert result.exit_code == 2 and "xlsx" in error_line(result)


def test_every_command_has_help_with_example_and_readme_entry():
    readme = README.read_text()
    assert "### yieldkit db" in readme
    for command in ("upgrade", "current", "stats", "pareto", "failures", "export"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Example" in result.output and "--db" in result.output
        assert f"yieldkit db {command}" in readme


@pytest.mark.parametrize(("command", "header"), [
    (["pareto"], "fault_class,count,share,cumulative_share"),
    (["failures", "--by-class"], "fault_class"),
])
def test_an_empty_result_still_prints_the_csv_header(db_url, command, header):
    result = run(*command, "--db", db_url, "--csv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and header in lines[0]


@pytest.mark.parametrize("option", ["--start-h", "--end-h", "--bin-h"])
def test_nan_hours_are_refused(tmp_path, option):
    path = tmp_path / "x.db"
    command = "failures" if option == "--bin-h" else "pareto"
    result = run(command, "--db", f"sqlite:///{path}", option, "nan")
    assert result.exit_code == 2 and option in error_line(result)
    assert not path.exists()


def test_export_checks_the_output_path_before_reading(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert run("upgrade", "--db", url).exit_code == 0
    result = run("export", "--db", url, "--table", "lots", "-o", str(tmp_path))
    assert result.exit_code == 2 and "--output" in error_line(result) and "is a directory" in error_line(result)
