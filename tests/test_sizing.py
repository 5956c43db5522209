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
