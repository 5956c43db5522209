"""``yieldkit report --lot``: the lot report of a burnt-in demo lot, its errors, and Chromium renders it."""

from __future__ import annotations

import pytest
from tests.cli_runner import one_error_line, run
from tests.test_report_browser import assert_self_contained, check_in_browser, needs_chromium

from burnin.demo import build_demo_lot
from burnin.lot_report import lot_campaigns, lot_report
from db.engine import make_engine


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("lot") / "burnin.db"
    lot, spec, _, _ = build_demo_lot(path, seed=3, wafers=3, hours=12.0)
    return path, lot, spec.name


def test_library_report_has_every_section(demo_db, tmp_path):
    path, lot, campaign = demo_db
    engine = make_engine(f"sqlite:///{path}", must_exist=True)
    try:
        assert lot_campaigns(engine, lot) == [campaign]
        report = lot_report(engine, lot)
    finally:
        engine.dispose()
    text = report.write(tmp_path / "r.html").read_text()
    for heading in ("Summary", "Wafers at fab-out", "Burn-in", "Wafers by final state", "Remap history"):
        assert f"<h2>{heading}</h2>" in text
    assert text.count('src="data:image/png;base64,') >= 4
    assert_self_contained(text)


def test_cli_writes_the_report(demo_db, tmp_path):
    path, lot, campaign = demo_db
    out = tmp_path / "lot.html"
    result = run("report", "--lot", lot, "--campaign", campaign, "--db", f"sqlite:///{path}", "-o", out)
    assert result.exit_code == 0, result.output + result.stderr
    assert out.exists() and "report:" in result.stdout


@pytest.mark.parametrize("args, word", [
    (["--lot", "NOPE"], "NOPE"),
    (["--campaign", "NOPE"], "NOPE"),
])
def test_bad_input_is_one_line_and_writes_nothing(demo_db, tmp_path, args, word):
    path, lot, _ = demo_db
    if "--lot" not in args:
        args = ["--lot", lot, *args]
    out = tmp_path / "lot.html"
    result = run("report", *args, "--db", f"sqlite:///{path}", "-o", out)
    assert result.exit_code == 2
    assert word in one_error_line(result)
    assert not out.exists()


def test_old_revision_and_missing_folder_are_refused(demo_db, tmp_path):
    from db.migrate import downgrade
    import shutil

    path, lot, _ = demo_db
    old = tmp_path / "old.db"
    shutil.copy(path, old)
    engine = make_engine(f"sqlite:///{old}")
    try:
        downgrade(engine, "-1")
    finally:
        engine.dispose()
    out = tmp_path / "lot.html"
    result = run("report", "--lot", lot, "--db", f"sqlite:///{old}", "-o", out)
    assert result.exit_code == 2, result.output + result.stderr
    one_error_line(result)
    assert not out.exists()
    result = run("report", "--lot", lot, "--db", f"sqlite:///{path}", "-o", tmp_path / "no" / "x.html")
    assert result.exit_code == 2
    one_error_line(result)


@needs_chromium
def test_lot_report_in_chromium(demo_db, tmp_path):
    path, lot, _ = demo_db
    out = tmp_path / "lot.html"
    assert run("report", "--lot", lot, "--db", f"sqlite:///{path}", "-o", out).exit_code == 0
    result = check_in_browser(out, tmp_path, "lot-report")
    assert result["errors"] == [] and result["broken"] == []
    assert result["images"] >= 4 and all(w > 0 and h > 0 for w, h in result["sizes"])
