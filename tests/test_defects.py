"""Defect sampler: counts, kill rates, sizes, links and spatial models."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.stat_tolerance import Z, mean_tolerance, proportion_tolerance
from yieldkit.defect_map import DefectMap, link_endpoints
from yieldkit.defects import (DefectModel, DefectModelError, _distinct_pairs, _distinct_pairs_numpy, _item_bits,
                              _landing, _landing_numpy, _large_defect_sites, _positions, dead_from_defects,
                              sample_batch, sample_defect_map, sample_sizes_um)
from yieldkit.design import load_design
from yieldkit.errors import Failure
from yieldkit.models import site_failure_probability

SMALL = load_design("small")
WSE = load_design("wse")


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_poisson_counts_mean_and_variance() -> None:
    model = DefectModel(0.05, x0_um=0)
    n = 4000
    counts = sample_batch(WSE, model, n, rng(1)).n_defects
    mean = model.mean_defects(WSE)
    assert abs(counts.mean() - mean) < mean_tolerance(math.sqrt(mean), n)
    # sample variance of a Poisson: SE ~ sqrt((mu4 - sigma^4)/n) = sqrt((mean + 2 mean^2)/n)
    assert abs(counts.var(ddof=1) - mean) < Z * math.sqrt((mean + 2 * mean**2) / n)


def test_negative_binomial_counts_are_overdispersed() -> None:
    alpha = 2.0
    model = DefectModel(0.05, alpha=alpha, x0_um=0)
    n = 6000
    counts = sample_batch(WSE, model, n, rng(2)).n_defects
    mean = model.mean_defects(WSE)
    var = mean + mean**2 / alpha
    assert abs(counts.mean() - mean) < mean_tolerance(math.sqrt(var), n)
    # P(N = 0) of the negative binomial
    p0 = (1 + mean / alpha) ** -alpha
    assert abs(np.mean(counts == 0) - p0) < proportion_tolerance(p0, n)
    assert counts.var() > 3 * mean


def test_point_defects_kill_sites_at_the_poisson_rate() -> None:
    d0 = 2.0
    n = 5000
    batch = sample_batch(SMALL, DefectModel(d0, x0_um=0), n, rng(3))
    p = float(site_failure_probability(d0, SMALL.site_area_mm2))
    dead = batch.dead_per_wafer()
    expected = SMALL.existing_sites * p
    assert abs(dead.mean() - expected) < mean_tolerance(math.sqrt(SMALL.existing_sites * p * (1 - p)), n)


def test_kill_probability_thins_the_kills() -> None:
    n = 5000
    full = sample_batch(SMALL, DefectModel(2.0, x0_um=0), n, rng(4)).dead_per_wafer().mean()
    half = sample_batch(SMALL, DefectModel(2.0, x0_um=0, kill_probability=0.5), n, rng(5)).dead_per_wafer().mean()
    p_half = float(site_failure_probability(1.0, SMALL.site_area_mm2))
    assert abs(half - SMALL.existing_sites * p_half) < mean_tolerance(math.sqrt(SMALL.existing_sites * p_half), n)
    assert half < full
    assert sample_batch(SMALL, DefectModel(2.0, kill_probability=0.0), 100, rng(6)).site.size == 0


def test_large_defects_kill_neighbours() -> None:
    n = 3000
    point = sample_batch(SMALL, DefectModel(1.0, x0_um=0), n, rng(7)).dead_per_wafer().mean()
    big = sample_batch(SMALL, DefectModel(1.0, x0_um=400.0, max_size_um=3000.0), n, rng(8)).dead_per_wafer().mean()
    assert big > 1.2 * point


@settings(max_examples=60, deadline=None)
@given(x=st.floats(-40, 40), y=st.floats(-40, 40), radius=st.floats(0.01, 4.0))
def test_large_defect_covers_exactly_the_cells_its_disk_overlaps(x: float, y: float, radius: float) -> None:
    index, sites = _large_defect_sites(SMALL, np.array([x]), np.array([y]), np.array([radius]))
    assert np.all(index == 0)
    # brute force over every cell of the grid
    rows, cols = np.divmod(np.arange(SMALL.n_sites), SMALL.cols)
    left = SMALL.x0_mm + cols * SMALL.pitch_x_mm
    top = SMALL.y0_mm - rows * SMALL.pitch_y_mm
    dx = np.clip(x, left, left + SMALL.pitch_x_mm) - x
    dy = np.clip(y, top - SMALL.pitch_y_mm, top) - y
    expected = np.flatnonzero((dx * dx + dy * dy <= radius * radius) & SMALL.site_exists.ravel())
    np.testing.assert_array_equal(np.sort(sites), expected)


@pytest.mark.parametrize("design, n", [(SMALL, 300), (WSE, 12)], ids=["small", "wse"])
def test_large_defect_sites_of_many_disks_are_each_disks_cells(design, n: int) -> None:  # noqa: ANN001
    """Several disks at once, from a fraction of a pitch to a tenth of the wafer, some beyond the grid:
    each disk's (index, site) pairs are exactly the existing cells it overlaps (brute force)."""
    gen = rng(21)
    half = design.wafer_diameter_mm / 2
    x, y = gen.uniform(-half, half, n), gen.uniform(-half, half, n)
    radius = design.pitch_x_mm * np.exp(gen.uniform(np.log(0.05), np.log(0.1 * half / design.pitch_x_mm), n))
    index, sites = _large_defect_sites(design, x, y, radius)
    rows, cols = np.divmod(np.arange(design.n_sites), design.cols)
    left = design.x0_mm + cols * design.pitch_x_mm
    top = design.y0_mm - rows * design.pitch_y_mm
    for i in range(n):
        dx = np.clip(x[i], left, left + design.pitch_x_mm) - x[i]
        dy = np.clip(y[i], top - design.pitch_y_mm, top) - y[i]
        expected = np.flatnonzero((dx * dx + dy * dy <= radius[i] * radius[i]) & design.site_exists.ravel())
        np.testing.assert_array_equal(np.sort(sites[index == i]), expected)
    assert sites.size > n


@pytest.mark.parametrize("design", [SMALL, WSE], ids=["small", "wse"])
def test_landing_kernel_equals_its_numpy_reference(design) -> None:  # noqa: ANN001
    """The one-pass kill rule gives the keys, large candidates and hits of the whole-array reference:
    positions on and off the grid and the wafer, on cell edges, point and large defects, kills, links."""
    gen = rng(17)
    n = 20_000
    half = design.wafer_diameter_mm / 2 + 5.0
    x = gen.uniform(-half, half, n)
    y = gen.uniform(-half, half, n)
    on_edge = gen.random(n) < 0.05  # exactly on a cell corner: ties between the gaps
    x[on_edge] = design.x0_mm + design.pitch_x_mm * gen.integers(-1, design.cols + 1, on_edge.sum())
    y[on_edge] = design.y0_mm - design.pitch_y_mm * gen.integers(-1, design.rows + 1, on_edge.sum())
    size = np.where(gen.random(n) < 0.5, 0.0, 2000.0 * gen.exponential(design.pitch_x_mm / 4, n))
    args = (gen.integers(0, 9, n), x, y, size, gen.random(n) < 0.8, gen.random(n) < 0.3, design.site_exists,
            float(design.x0_mm), float(design.y0_mm), float(design.pitch_x_mm), float(design.pitch_y_mm),
            _item_bits(design.n_sites))
    fast, ref = _landing(*args), _landing_numpy(*args)
    for name, a, b in zip(("site_key", "maybe", "maybe_key", "link_key", "hit"), fast, ref):
        assert np.array_equal(a, b), name
    assert all(part.size for part in fast)


@pytest.mark.parametrize("n, top", [(0, 1), (1, 5), (7, 1), (5000, 3), (20_000, 1 << 31), (20_000, 1 << 45)])
def test_radix_distinct_pairs_equal_numpy_unique(n: int, top: int) -> None:
    """The radix sort keeps exactly np.unique's keys, split by shift and mask: empty, one key, all equal,
    many duplicates, a Monte-Carlo block's range and keys past four digits."""
    keys = rng(n).integers(0, top, n)
    for bits in (0, 3, 20):
        fast, ref = _distinct_pairs(keys, bits), _distinct_pairs_numpy(keys, bits)
        assert all(np.array_equal(a, b) for a, b in zip(fast, ref))
    assert [_item_bits(k) for k in (0, 1, 2, 3, 4, 5, 972_000, 1 << 20)] == [0, 0, 1, 2, 2, 3, 20, 20]


@pytest.mark.parametrize("kill, link", [(1.0, 0.0), (0.6, 0.0), (1.0, 1.0), (0.0, 0.4), (1.0, 0.3), (0.5, 1.0)])
def test_certain_coins_are_not_drawn_and_change_no_wafer(kill: float, link: float) -> None:
    """The sampler skips the trailing kill / link draws whose outcome is certain: the same wafers as
    a replay of its stream that draws every coin."""
    model = DefectModel(1.0, alpha=1.5, x0_um=200.0, max_size_um=5000.0, kill_probability=kill, link_fraction=link)
    batch = sample_batch(SMALL, model, 30, rng(3))
    replay = rng(3)
    lam = replay.gamma(model.alpha, model.mean_defects(SMALL) / model.alpha, size=30)
    wafer, x, y, counts = _positions(replay, SMALL, model, lam)
    size = sample_sizes_um(replay, model, wafer.size)
    kills = replay.random(wafer.size) < kill
    on_link = replay.random(wafer.size) < link
    ref, _ = dead_from_defects(SMALL, wafer, x, y, size, 30, kills=kills, on_link=on_link, n_defects=counts)
    for name in ("site_wafer", "site", "link_wafer", "link", "n_defects"):
        assert np.array_equal(getattr(batch, name), getattr(ref, name)), name
    assert batch.site.size + batch.link.size > 0 or kill == 0


def test_link_defects_make_dead_links_between_existing_sites() -> None:
    batch = sample_batch(WSE, DefectModel(0.2, link_fraction=0.5), 200, rng(10))
    assert batch.link.size > 0
    a, b = link_endpoints(batch.link, WSE.cols)
    exists = WSE.site_exists.ravel()
    assert exists[a].all() and exists[b].all()
    with_links = batch.link.size / 200
    sites = batch.site.size / 200
    assert 0.5 < with_links / sites < 2.0


def test_thomas_clusters_raise_the_variance() -> None:
    n = 3000
    poisson = sample_batch(WSE, DefectModel(0.05, x0_um=0), n, rng(11)).dead_per_wafer()
    thomas = sample_batch(WSE, DefectModel(0.05, x0_um=0, spatial="thomas", cluster_mean_size=10.0,
                                           cluster_sigma_mm=0.3), n, rng(12)).dead_per_wafer()
    assert poisson.var() / poisson.mean() < 1.3
    assert thomas.var() / thomas.mean() > 3.0


def test_radial_profile_moves_defects_off_the_grid() -> None:
    n = 3000
    uniform = sample_batch(WSE, DefectModel(0.1, x0_um=0), n, rng(13)).dead_per_wafer().mean()
    edge = sample_batch(WSE, DefectModel(0.1, x0_um=0, spatial="radial", radial_beta=4.0), n, rng(14))
    assert edge.dead_per_wafer().mean() < 0.9 * uniform
    # the total count over the circle is unchanged
    mean = DefectModel(0.1).mean_defects(WSE)
    assert abs(edge.n_defects.mean() - mean) < mean_tolerance(math.sqrt(mean), n)


def test_batch_slices_into_wafers() -> None:
    batch = sample_batch(WSE, DefectModel(0.3, link_fraction=0.1), 50, rng(15))
    maps = [batch.wafer(i) for i in range(50)]
    assert sum(m.n_dead_sites for m in maps) == batch.site.size
    assert sum(m.n_dead_links for m in maps) == batch.link.size
    np.testing.assert_array_equal(np.concatenate([m.dead_sites for m in maps]), batch.site)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), d0=st.floats(0, 3), alpha=st.one_of(st.none(), st.floats(0.2, 10)),
       spatial=st.sampled_from(["uniform", "radial", "thomas"]), x0=st.sampled_from([0.0, 0.5, 300.0]),
       links=st.floats(0, 1))
def test_sampled_maps_are_valid(seed: int, d0: float, alpha: float | None, spatial: str, x0: float, links: float
                                ) -> None:
    model = DefectModel(d0, alpha=alpha, spatial=spatial, radial_beta=2.0 if spatial == "radial" else 0.0,
                        x0_um=x0, link_fraction=links)
    defect_map = sample_defect_map(SMALL, model, rng(seed))
    defect_map.check_design(SMALL)  # every dead site exists
    a, b = link_endpoints(defect_map.dead_links, SMALL.cols)
    assert SMALL.site_exists.ravel()[a].all() and SMALL.site_exists.ravel()[b].all()
    again = DefectMap.loads(__import__("json").dumps(defect_map.to_dict()))
    np.testing.assert_array_equal(again.dead_sites, defect_map.dead_sites)
    np.testing.assert_array_equal(again.dead_links, defect_map.dead_links)


def test_same_generator_state_same_map() -> None:
    model = DefectModel(0.5, alpha=1.0, link_fraction=0.2)
    a = sample_defect_map(WSE, model, rng(99))
    b = sample_defect_map(WSE, model, rng(99))
    np.testing.assert_array_equal(a.dead_sites, b.dead_sites)
    np.testing.assert_array_equal(a.dead_links, b.dead_links)


INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize(("kwargs", "parameter", "reason"), [
    ({"d0_per_cm2": -1.0}, "d0_per_cm2", "must be >= 0, got -1.0"),
    ({"d0_per_cm2": INF}, "d0_per_cm2", "must be a finite number, got inf"),
    ({"d0_per_cm2": NAN}, "d0_per_cm2", "must be a finite number, got nan"),
    ({"d0_per_cm2": "1"}, "d0_per_cm2", "must be a finite number, got '1'"),
    ({"alpha": 0.0}, "alpha", "must be > 0 (or omitted for Poisson), got 0.0"),
    ({"alpha": INF}, "alpha", "must be a finite number, got inf"),
    ({"spatial": "spiral"}, "spatial", "must be one of uniform, radial, thomas, got 'spiral'"),
    ({"kill_probability": 1.5}, "kill_probability", "must be in [0, 1], got 1.5"),
    ({"kill_probability": INF}, "kill_probability", "must be a finite number, got inf"),
    ({"link_fraction": -0.1}, "link_fraction", "must be in [0, 1], got -0.1"),
    ({"spatial": "thomas", "cluster_mean_size": INF}, "cluster_mean_size", "must be a finite number, got inf"),
    ({"spatial": "thomas", "cluster_mean_size": 0.0}, "cluster_mean_size", "must be > 0, got 0.0"),
    ({"spatial": "thomas", "cluster_sigma_mm": -1.0}, "cluster_sigma_mm", "must be >= 0, got -1.0"),
    # the user set x0 only: blame x0, against the default maximum
    ({"x0_um": 1e9}, "x0_um", "must be <= max_size_um (2000 um), got 1000000000.0"),
    # the user set the maximum below the default x0: blame the maximum
    ({"max_size_um": 0.1}, "max_size_um", "must be >= x0_um (0.5 um), got 0.1"),
    ({"max_size_um": 1e9}, "max_size_um", "must be <= 300000 (a whole 300 mm wafer), got 1000000000.0"),
    ({"spatial": "radial", "radial_beta": 1e308}, "radial_beta", "must be <= 1e+15"),
    ({"spatial": "radial", "radial_power": 1e308}, "radial_power", "must be <= 100, got 1e+308"),
    ({"spatial": "radial", "radial_power": 0.0}, "radial_power", "must be > 0, got 0.0"),
])
def test_bad_model_parameters_name_the_parameter_and_the_reason(kwargs: dict, parameter: str, reason: str) -> None:
    with pytest.raises(DefectModelError) as caught:
        DefectModel(**({"d0_per_cm2": 0.1} | kwargs))
    assert caught.value.parameter == parameter
    assert caught.value.reason.startswith(reason)
    assert str(caught.value).startswith(f"{parameter}: {reason}")


@pytest.mark.parametrize(("kwargs", "parameter"), [
    ({"radial_beta": 2.0}, "radial_beta"),
    ({"spatial": "thomas", "radial_power": 2.0}, "radial_power"),
    ({"cluster_mean_size": 3.0}, "cluster_mean_size"),
    ({"spatial": "radial", "cluster_sigma_mm": 10.0}, "cluster_sigma_mm"),
])
def test_parameters_of_another_spatial_model_are_rejected(kwargs: dict, parameter: str) -> None:
    with pytest.raises(DefectModelError, match="only acts with spatial=") as caught:
        DefectModel(0.1, **kwargs)
    assert caught.value.parameter == parameter


def test_defaults_of_another_spatial_model_are_accepted() -> None:
    # what the CLI passes when the user set nothing
    DefectModel(0.1, spatial="uniform", radial_beta=0.0, radial_power=4.0, cluster_mean_size=5.0, cluster_sigma_mm=2.0)
    DefectModel(0.1, spatial="radial", radial_beta=1e15, radial_power=100.0)


def test_steepest_allowed_radial_profile_keeps_the_defects() -> None:
    model = DefectModel(0.1, x0_um=0, spatial="radial", radial_beta=1e15, radial_power=100.0)
    n = 500
    counts = sample_batch(WSE, model, n, rng(16)).n_defects
    mean = model.mean_defects(WSE)
    assert abs(counts.mean() - mean) < mean_tolerance(math.sqrt(mean), n)


def test_absurd_density_names_d0() -> None:
    with pytest.raises(DefectModelError, match="is D0 in defects per cm") as caught:
        sample_batch(WSE, DefectModel(1e4), 1, rng(0))
    assert caught.value.parameter == "d0_per_cm2"


def test_out_of_memory_says_what_was_being_built(monkeypatch: pytest.MonkeyPatch) -> None:
    def exhausted(*args: object) -> None:
        raise MemoryError()

    monkeypatch.setattr("yieldkit.defects._positions", exhausted)
    with pytest.raises(Failure, match=r"out of memory sampling 7 wafers x 679 mean defects on design small"):
        sample_batch(SMALL, DefectModel(1.0), 7, rng(0))


def test_records_and_reprs_are_one_line() -> None:
    model = DefectModel(0.2, alpha=2.0, spatial="thomas", cluster_sigma_mm=3.0)
    assert DefectModel(**model.to_dict()) == model
    batch = sample_batch(SMALL, model, 5, rng(1))
    assert batch.to_dict()["wafers"] == 5 and batch.to_dict()["dead_sites"] == batch.site.size
    for text in (repr(model), repr(batch)):
        assert "\n" not in text and len(text) < 120
