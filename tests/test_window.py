"""Sampling window: probability mass against closed forms, points in place."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.stat_tolerance import proportion_tolerance
from yieldkit.design import load_design
from yieldkit.window import _mass, window_for, window_points

R = 100.0


def test_window_covering_the_circle_has_all_the_mass() -> None:
    assert _mass(-R, R, -R, R, R, 0.0, 4.0) == pytest.approx(1.0, abs=1e-7)
    assert _mass(-2 * R, 2 * R, -2 * R, 2 * R, R, 3.0, 4.0) == pytest.approx(1.0, abs=1e-7)


def test_uniform_mass_of_an_inner_rectangle_is_its_area() -> None:
    assert _mass(-30, 50, -20, 10, R, 0.0, 4.0) == pytest.approx(80 * 30 / (math.pi * R * R), rel=1e-9)


def test_radial_mass_matches_the_polynomial_integral() -> None:
    # f = 1 + beta (r/R)^2 over [a,b]x[c,d] inside the circle integrates exactly
    a, b, c, d, beta = -40.0, 20.0, 5.0, 60.0, 2.0
    integral = (b - a) * (d - c) + beta / R**2 * ((b**3 - a**3) / 3 * (d - c) + (d**3 - c**3) / 3 * (b - a))
    total = math.pi * R * R * (1 + 2 * beta / 4)
    assert _mass(a, b, c, d, R, beta, 2.0) == pytest.approx(integral / total, rel=1e-9)


def test_half_plane_mass_is_one_half() -> None:
    assert _mass(0, R, -R, R, R, 0.0, 4.0) == pytest.approx(0.5, abs=1e-6)


def test_points_lie_in_the_window_and_follow_the_density() -> None:
    design = load_design("wse")
    window = window_for(design, 0.0, 2.0, 2.0)
    rng = np.random.default_rng(3)
    n = 200_000
    x, y = window_points(rng, n, window)
    assert x.size == n
    assert np.all((x >= window.x_lo) & (x <= window.x_hi) & (y >= window.y_lo) & (y <= window.y_hi))
    assert np.all(np.hypot(x, y) <= window.radius_mm)
    # the share in the right half of the window is the ratio of masses
    half = _mass(0.0, window.x_hi, window.y_lo, window.y_hi, window.radius_mm, 2.0, 2.0) / window.mass
    share = float(np.mean(x >= 0))
    assert abs(share - half) < proportion_tolerance(half, n)
    # and the outer part holds more than its area share under an edge-heavy profile
    inner = _mass(-50, 50, -50, 50, window.radius_mm, 2.0, 2.0) / window.mass
    inner_share = float(np.mean((np.abs(x) < 50) & (np.abs(y) < 50)))
    assert abs(inner_share - inner) < proportion_tolerance(inner, n)
