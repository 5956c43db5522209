"""Sweep tables: the same fields and types as one simulation, written atomically."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from yieldkit.defects import DefectModel
from yieldkit.design import load_design
from yieldkit.errors import InputError
from yieldkit.montecarlo import HARVEST_BINS, simulate
from yieldkit.sweep import sweep, write_table

SMALL = load_design("small")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return sweep(SMALL, DefectModel(0.0), [1.0, 3.0], 300, seed=4, alphas=[None, 2.0], spares=[None, 1])


def test_rows_have_the_fields_and_types_of_simulate(table: pd.DataFrame) -> None:
    assert len(table) == 8
    row = table.iloc[5].to_dict()  # spares 1, alpha None, D0 3
    assert (row["spares_per_row"], row["alpha"], row["d0_per_cm2"]) == (1, None, 3.0)
    alone = simulate(SMALL.with_spares_per_row(1), DefectModel(3.0), 300, seed=4).to_dict()
    histogram = json.loads(row.pop("harvest_histogram"))
    assert histogram == alone.pop("harvest_histogram") and len(histogram) == HARVEST_BINS
    assert {k: row[k] for k in alone} == alone
    assert table["alpha"].tolist() == [None, None, 2.0, 2.0] * 2


def test_csv_and_parquet_read_back_the_same_table(table: pd.DataFrame, tmp_path) -> None:  # noqa: ANN001
    csv = pd.read_csv(write_table(table, tmp_path / "sweep.csv"))
    parquet = pd.read_parquet(write_table(table, tmp_path / "sweep.parquet"))
    pd.testing.assert_frame_equal(csv, parquet, check_dtype=False)
    assert [json.loads(cell) for cell in csv["harvest_histogram"]] == [json.loads(c) for c in table["harvest_histogram"]]
    assert csv["alpha"].isna().tolist() == [a is None for a in table["alpha"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.csv", "sweep.parquet"]  # no temporary file left


def test_unknown_table_format_is_an_input_error(table: pd.DataFrame, tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(InputError) as caught:
        write_table(table, tmp_path / "sweep.xlsx")
    assert caught.value.parameter == "path"
    assert not (tmp_path / "sweep.xlsx").exists()
