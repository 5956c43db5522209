"""Conventional-die comparison formulas and redundancy sizing."""

from __future__ import annotations

import math

import pytest

from yieldkit.defects import DefectModel
from yieldkit.design import load_design
from yieldkit.dies import die_yield_with_units, gross_dies_per_wafer
from yieldkit.models import negative_binomial_yield, poisson_yield
from yieldkit.sizing import size_redundancy, variant


def test_gross_dies_formula() -> None:
    a = 100.0
    expected = math.pi * 150**2 / a - math.pi * 300 / math.sqrt(2 * a)
    assert gross_dies_per_wafer(a, 300.0, 0.0) == pytest.approx(expected)


@pytest.mark.parametrize("alpha", [None, 0.5, 2.0, 10.0])
def test_units_all_needed_reduces_to_die_yield(alpha: float | None) -> None:
    y = die_yield_with_units(0.1, 814.0, alpha, 144, 144, 0.8)
    ref = poisson_yield(0.1, 8.14) if alpha is None else negative_binomial_yield(0.1, 8.14, alpha)
    assert y == pytest.approx(float(ref), rel=1e-6)


def test_spare_units_help() -> None:
    assert die_yield_with_units(0.1, 814.0, 2.0, 144, 132, 0.8) > die_yield_with_units(0.1, 814.0, 2.0, 144, 144, 0.8)


def test_size_redundancy_reaches_target() -> None:
    design = load_design("small")
    rows = size_redundancy(design, DefectModel(0.2, alpha=2.0), 0.8, 300, 1, schemes=("none", "row-col"))
    by = {r["scheme"]: r for r in rows}
    assert by["none"]["area_overhead"] == 0
    assert by["row-col"]["reached"] and by["row-col"]["level"] >= 1
    assert variant(design, "row-col", 2).rows == design.logical_rows + 2


def test_sequential_test_stops_early_both_ways() -> None:
    from yieldkit.sizing import STAGES, evaluate_sequential

    design = load_design("small")
    below = evaluate_sequential(variant(design, "none", 0), DefectModel(2.0), 0.99, 2000, 3)
    assert below["stopped"] == "clearly below" and below["wafers"] == STAGES[0]
    above = evaluate_sequential(variant(design, "row-shift", 8), DefectModel(0.01), 0.9, 2000, 3)
    assert above["stopped"] == "clearly above" and above["wafers"] < 2000 and above["ci_low"] >= 0.9
    last = evaluate_sequential(variant(design, "row-shift", 8), DefectModel(0.01), 0.9, 30, 3)
    assert last["stopped"] == "all wafers" and last["wafers"] == 30


def test_sizing_knows_block_and_reports_progress() -> None:
    # regression: 'plan --schemes block' said sizing does not know block
    design = load_design("small")
    seen: list[dict] = []
    rows = size_redundancy(design, DefectModel(0.3, alpha=2.0), 0.5, 60, 2, schemes=("block",), progress=seen.append)
    assert rows[0]["scheme"] == "block" and rows[0]["scheme_params"]["b"] == 8
    assert [r["level"] for r in seen][-1] == rows[0]["level"] and len(seen) >= 1
    assert seen[0]["level"] == 0 and "spare sites per 8x8 block" in seen[0]["redundancy"]
    v = variant(design, "block", 9)
    assert v.cols == design.logical_cols // 8 * (8 + 2) and v.scheme_params == {"b": 8, "s": 9}


def test_sizing_with_workers_gives_the_same_rows() -> None:
    design = load_design("small")
    model = DefectModel(0.3, alpha=2.0)
    one = size_redundancy(design, model, 0.6, 100, 4, schemes=("row-shift",))
    two = size_redundancy(design, model, 0.6, 100, 4, schemes=("row-shift",), workers=2)
    assert one == two


def test_sizing_rejects_an_unknown_scheme_before_simulating() -> None:
    from yieldkit.errors import InputError

    with pytest.raises(InputError, match="schemes: sizing does not know scheme 'hex'"):
        size_redundancy(load_design("small"), DefectModel(0.3), 0.5, 50, 1, schemes=("none", "hex"))
