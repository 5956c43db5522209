"""What a person sees at a terminal: readable tables, and everything in --json/--csv."""

from __future__ import annotations

import io
import json

import pandas as pd

from yieldkit.cli.plan import COMPARISON_COLUMNS, SCHEME_COLUMNS
from yieldkit.cli.sweep import TABLE_COLUMNS
from yieldkit.design import load_design
from tests.cli_runner import run

SWEEP = ["sweep", "--design", "small", "--d0", "0.5,2", "--alpha", "poisson,2", "--wafers", "200", "--quiet"]
PLAN = ["plan", "--design", "small", "--d0", "0.3", "--alpha", "2", "--target-yield", "0.9", "--wafers", "200",
        "--schemes", "none,row-shift", "--quiet"]



def header(line: str) -> list[str]:
    return line.split()


def test_sweep_table_shows_the_main_columns_and_csv_keeps_all() -> None:
    table = run(*SWEEP, "--table")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert header(lines[0]) == list(TABLE_COLUMNS)
    assert max(len(line) for line in lines[:-1]) <= 140
    assert lines[-1].startswith("(") and "harvest_histogram" in lines[-1]
    full = pd.read_csv(io.StringIO(run(*SWEEP, "--csv").stdout))
    assert set(TABLE_COLUMNS) < set(full.columns) and "harvest_histogram" in full.columns
    assert len(full) == len(lines) - 3


def test_plan_table_is_two_readable_tables_and_json_keeps_all() -> None:
    result = run(*PLAN, "--table")
    assert result.exit_code == 0, result.output
    blocks = result.stdout.split("\n\n")
    assert header(blocks[0].splitlines()[0]) == list(SCHEME_COLUMNS)
    assert header(blocks[1].splitlines()[0]) == list(COMPARISON_COLUMNS)
    records = json.loads(run(*PLAN, "--json").stdout)
    assert {"physical_rows", "scheme_params", "kind"} <= set(records[0])


def test_plan_reports_the_enabled_share_of_units_for_wafer_and_die() -> None:
    rows = [r for r in json.loads(run(*PLAN, "--json", "--die-units", "144", "--die-units-needed", "132").stdout)
            if r["kind"] == "comparison"]
    design = load_design("small")
    wafer, all_units, redundant = rows
    assert wafer["units_enabled"] == design.logical_cores and wafer["units_built"] == design.existing_sites
    assert wafer["enabled_unit_share"] == design.logical_cores / design.existing_sites
    assert all_units["enabled_unit_share"] == 1.0
    assert (redundant["units_enabled"], redundant["units_built"]) == (132, 144)
    assert redundant["enabled_unit_share"] == 132 / 144
