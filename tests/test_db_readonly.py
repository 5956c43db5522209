"""Read-only databases: db/engine.py ``make_engine(read_only=True)`` and the read commands of db/cli.py."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from db.engine import DatabaseReadOnly, make_engine, write_transaction
from db.queries import table_counts
from db.writer import ensure_lot, write_fault_events

READ_COMMANDS = (("current",), ("stats",), ("pareto",), ("failures",), ("export", "--table", "fault_events"))


def _events(run_id: int, n: int) -> list[dict]:
    return [{"run_id": run_id, "seq": s, "time_h": s * 0.5, "core_row": 1, "core_col": s,
             "fault_class": "sram", "detection": "ecc"} for s in range(n)]


def test_read_only_engine_reads_and_refuses_writes(db_url, db_seed):
    run = db_seed(1)["runs"][0]
    writer = make_engine(db_url)
    write_fault_events(writer, _events(run, 7))
    writer.dispose()
    engine = make_engine(db_url, read_only=True)
    try:
        counts = dict(zip(*table_counts(engine)[["table", "rows"]].to_dict("list").values()))
        assert counts["fault_events"] == 7 and counts["lots"] == 1
        with pytest.raises(DatabaseReadOnly, match="read-only"):
            with write_transaction(engine) as conn:
                ensure_lot(conn, "L-new")
        with pytest.raises(DatabaseReadOnly, match="read-only"):
            write_fault_events(engine, _events(run, 9))
    finally:
        engine.dispose()
    check = make_engine(db_url)
    try:
        assert dict(zip(*table_counts(check)[["table", "rows"]].to_dict("list").values()))["fault_events"] == 7
    finally:
        check.dispose()


def test_read_only_engine_needs_an_existing_file(tmp_path):
    from db.engine import DatabaseUnreachable

    with pytest.raises(DatabaseUnreachable, match="no database"):
        make_engine(tmp_path / "missing.db", read_only=True)
    assert not (tmp_path / "missing.db").exists()


def _read_only_mount_permitted(tmp_path: Path) -> str:
    """'' when this process may bind-mount a folder read-only in a private mount namespace, else why not."""
    if shutil.which("unshare") is None or sys.platform != "linux":
        return "needs Linux and unshare(1) to mount a folder read-only"
    probe = tmp_path / "probe"
    probe.mkdir()
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && ! touch "$1/x" 2>/dev/null'
    done = subprocess.run(["unshare", "--mount", "--map-root-user", "sh", "-c", script, "sh", str(probe)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        return f"cannot bind-mount a folder read-only here: {done.stderr.strip() or done.returncode}"
    return ""


def test_read_commands_work_on_read_only_media(tmp_path):
    """A SQLite WAL database on read-only media (a read-only bind mount): read commands work, writes are refused."""
    reason = _read_only_mount_permitted(tmp_path)
    if reason:
        pytest.skip(reason)
    from db.migrate import upgrade
    from db.writer import add_run, add_wafer, ensure_campaign

    media = tmp_path / "media"
    media.mkdir()
    url = f"sqlite:///{media / 'burnin.db'}"
    upgrade(url)
    engine = make_engine(url)
    with write_transaction(engine) as conn:
        wafer = add_wafer(conn, ensure_lot(conn, "L1"), "W1", "small")
        run = add_run(conn, campaign_id=ensure_campaign(conn, "C1"), wafer_id=wafer, station="S1", operator="op",
                      temperature_c=125.0, voltage_v=0.9, hours=24.0)
    write_fault_events(engine, _events(run, 5))
    engine.dispose()
    assert sorted(p.name for p in media.iterdir()) == ["burnin.db"]  # WAL checkpointed, no side files

    # Every read command through the CLI root, in one process inside the read-only mount.
    reads = [[*command, "--db", url, *(() if command[0] == "export" else ("--json",))] for command in READ_COMMANDS]
    code = ("import json, sys; from click.testing import CliRunner; from yieldkit.cli import cli\n"
            "results = [CliRunner().invoke(cli, ['db', *args]) for args in json.loads(sys.argv[1])]\n"
            "print(json.dumps([[r.exit_code, r.stdout, r.stderr] for r in results]))")
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && shift && exec "$@"'
    done = subprocess.run(["unshare", "--mount", "--map-root-user", "sh", "-c", script, "sh", str(media),
                           sys.executable, "-c", code, json.dumps(reads)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = dict(zip((c[0] for c in READ_COMMANDS), json.loads(done.stdout)))
    assert {name: r[0] for name, r in results.items()} == dict.fromkeys(results, 0), results
    outputs = {name: r[1] for name, r in results.items()}
    assert json.loads(outputs["pareto"]) == [{"fault_class": "sram", "count": 5, "share": 1.0,
                                              "cumulative_share": 1.0}]
    assert len(outputs["export"].splitlines()) == 1 + 5
    assert json.loads(outputs["current"])["at_head"] is True

    lot = [sys.executable, "-c", "from db.engine import make_engine, write_transaction; from db.writer import "
           f"ensure_lot\nwith write_transaction(make_engine({url!r})) as conn: ensure_lot(conn, 'L2')"]
    done = subprocess.run(["unshare", "--mount", "--map-root-user", "sh", "-c", script, "sh", str(media), *lot],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0  # a write is refused, saying why
    assert "DatabaseReadOnly" in done.stderr and "is on read-only media" in done.stderr
