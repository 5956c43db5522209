"""Thomas cluster process: the density D0 is kept at every spread, the cost does not grow with it.

References for the exact values: a stationary Thomas process with parent
intensity ``D0 / mu`` and Poisson(mu) Gaussian children leaves a set B empty
with probability ``exp(-(D0 / mu) * integral (1 - exp(-mu p_B(x))) dx)``,
``p_B(x)`` the chance a child of a parent at x lands in B (Chiu, Stoyan,
Kendall, Mecke, *Stochastic Geometry and its Applications*, 3rd ed., 2013,
sec. 5.3); the mean count in B is ``D0 |B|`` whatever the spread.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr

from tests.stat_tolerance import Z, mean_tolerance
from yieldkit.defects import DefectModel, _positions, sample_batch
from yieldkit.design import load_design
from yieldkit.models import site_failure_probability
from yieldkit.montecarlo import simulate

SMALL = load_design("small")
D0 = 1.0  # cm^-2: 679 defects per wafer on the usable circle, 43 dead cores of 4352
MU = 5.0
N = 800


def thomas(sigma_mm: float, **kwargs: float) -> DefectModel:
    return DefectModel(D0, x0_um=0, spatial="thomas", cluster_mean_size=MU, cluster_sigma_mm=sigma_mm, **kwargs)


def exact_dead_probability(d0_per_cm2: float, mu: float, sigma_mm: float, width_mm: float, height_mm: float) -> float:
    """P(a width x height site holds at least one defect) under the stationary Thomas process (quadrature)."""
    def one_axis(size: float) -> tuple[np.ndarray, np.ndarray]:
        t = np.linspace(-9 * sigma_mm, size + 9 * sigma_mm, 1201)
        return t, ndtr((size - t) / sigma_mm) - ndtr(-t / sigma_mm)

    tx, px = one_axis(width_mm)
    ty, py = one_axis(height_mm)
    missed = 1.0 - np.exp(-mu * px[:, None] * py[None, :])
    integral = np.trapezoid(np.trapezoid(missed, ty, axis=1), tx)  # [mm^2]
    return -math.expm1(-d0_per_cm2 / 100.0 / mu * integral)


@pytest.mark.parametrize("sigma_mm", [0.3, 2.0, 30.0, 300.0, 1e6])
def test_placed_defects_keep_the_density_at_every_spread(sigma_mm: float) -> None:
    counts = sample_batch(SMALL, thomas(sigma_mm), N, np.random.default_rng(40)).n_defects
    expected = thomas(sigma_mm).mean_defects(SMALL)  # D0 x usable area
    assert abs(counts.mean() - expected) < mean_tolerance(counts.std(ddof=1), N)


@pytest.mark.parametrize("sigma_mm", [0.3, 2.0, 30.0, 300.0])
def test_dead_cores_match_the_exact_thomas_value(sigma_mm: float) -> None:
    dead = sample_batch(SMALL, thomas(sigma_mm), N, np.random.default_rng(41)).dead_per_wafer()
    p = exact_dead_probability(D0, MU, sigma_mm, SMALL.pitch_x_mm, SMALL.pitch_y_mm)
    assert abs(dead.mean() - SMALL.existing_sites * p) < mean_tolerance(dead.std(ddof=1), N)


@pytest.mark.parametrize("sigma_mm", [30.0, 300.0, 1e4, 1e6])
def test_wide_clusters_kill_like_uniform_defects(sigma_mm: float) -> None:
    dead = sample_batch(SMALL, thomas(sigma_mm), N, np.random.default_rng(42)).dead_per_wafer()
    uniform = SMALL.existing_sites * float(site_failure_probability(D0, SMALL.site_area_mm2))
    assert abs(dead.mean() - uniform) < mean_tolerance(dead.std(ddof=1), N)


def test_tight_clusters_stack_defects_on_the_same_site() -> None:
    # The exact value is far below the uniform one at this spread: the test above could fail.
    tight = SMALL.existing_sites * exact_dead_probability(D0, MU, 0.3, SMALL.pitch_x_mm, SMALL.pitch_y_mm)
    uniform = SMALL.existing_sites * float(site_failure_probability(D0, SMALL.site_area_mm2))
    assert tight < 0.6 * uniform


def test_clusters_wider_than_the_wafer_give_poisson_counts() -> None:
    counts = sample_batch(SMALL, thomas(1e6), N, np.random.default_rng(43)).n_defects
    mean = thomas(1e6).mean_defects(SMALL)
    # sample variance of a Poisson count: standard error sqrt((mean + 2 mean^2) / n)
    assert abs(counts.var(ddof=1) - mean) < Z * math.sqrt((mean + 2 * mean**2) / N)


def test_tight_clusters_are_overdispersed() -> None:
    counts = sample_batch(SMALL, thomas(2.0), N, np.random.default_rng(44)).n_defects
    mean = thomas(2.0).mean_defects(SMALL)
    # a Poisson count would have var = mean within Z standard errors; clusters of 5 give about 6x
    assert counts.var(ddof=1) > mean + Z * math.sqrt((mean + 2 * mean**2) / N)


def test_cost_does_not_depend_on_the_spread() -> None:
    # The placement makes exactly the same random draws at any sigma: same generator state afterwards.
    lam = np.full(50, thomas(2.0).mean_defects(SMALL))
    states = []
    for sigma_mm in (0.0, 2.0, 1e3, 1e12):
        rng = np.random.default_rng(45)
        _positions(rng, SMALL, thomas(sigma_mm), lam)
        states.append(rng.bit_generator.state)
    assert all(state == states[0] for state in states)


def test_simulate_reports_the_placed_defects() -> None:
    n = 400
    result = simulate(SMALL, thomas(300.0), n, seed=3)
    record = result.to_dict()
    expected = thomas(300.0).mean_defects(SMALL)
    # Var(count) = mean + (D0 / mu) mu^2 integral p(x)^2 dx <= mean (1 + mu), since p <= 1
    assert abs(record["mean_defects"] - expected) < mean_tolerance(math.sqrt(expected * (1 + MU)), n)
    uniform = SMALL.existing_sites * float(site_failure_probability(D0, SMALL.site_area_mm2))
    assert abs(result.mean_dead_cores - uniform) < mean_tolerance(result.std_dead_cores, n)
