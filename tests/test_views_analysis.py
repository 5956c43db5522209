"""Analysis functions of the views, tested numerically on constructed data."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from yieldkit import views
from yieldkit.design import Design, load_design
from yieldkit.views.signatures import _site_geometry

DISC = Design(name="disc", rows=100, cols=100, pitch_x_mm=3.0, pitch_y_mm=3.0, logical_rows=80, logical_cols=80,
              reticle_rows=5, reticle_cols=5)
EXIST = np.flatnonzero(DISC.site_exists.reshape(-1))


def rc(r, c):
    return r * DISC.cols + c


# --- signatures ----------------------------------------------------------------------------------

def test_edge_ring_is_edge_ring():
    rng = np.random.default_rng(1)
    sites, radius, _ = _site_geometry(DISC)
    ring = sites[radius > np.quantile(radius, 0.92)]
    dead = np.concatenate([rng.choice(ring, 60, replace=False), rng.choice(EXIST, 15, replace=False)])
    assert views.classify_signature(DISC, dead)["signature"] == "edge_ring"


def test_local_edge_cluster_is_not_a_ring():
    dead = [rc(5 + i, 40 + j) for i in range(4) for j in range(4)]
    out = views.classify_signature(DISC, [s for s in dead if DISC.site_exists.reshape(-1)[s]])
    assert out["signature"] == "cluster" and out["edge_octants"] < 4


@pytest.mark.parametrize("direction", ["row", "diagonal", "column"])
def test_scratch_is_line(direction):
    rng = np.random.default_rng(2)
    line = {"row": [rc(30, 20 + i) for i in range(30)], "diagonal": [rc(20 + i, 15 + i) for i in range(30)],
            "column": [rc(15 + i, 70) for i in range(30)]}[direction]
    dead = np.concatenate([line, rng.choice(EXIST, 20, replace=False)])
    assert views.classify_signature(DISC, dead)["signature"] == "line"


def test_centre_and_cluster():
    rng = np.random.default_rng(3)
    sites, radius, _ = _site_geometry(DISC)
    centre = rng.choice(sites[radius < np.quantile(radius, 0.1)], 40, replace=False)
    assert views.classify_signature(DISC, np.concatenate([centre, rng.choice(EXIST, 10)]))["signature"] == "centre"
    blob = [rc(20 + i, 70 + j) for i in range(4) for j in range(4)]
    assert views.classify_signature(DISC, np.concatenate([blob, rng.choice(EXIST, 10)]))["signature"] == "cluster"


@pytest.mark.parametrize("density", [0.003, 0.01, 0.03])
def test_uniform_random_maps_are_random(density):
    """Poisson maps: at least 99 % random (each test at alpha = 0.001; 400 maps)."""
    rng = np.random.default_rng(int(density * 1e4))
    labels = Counter(views.classify_signature(DISC, rng.choice(EXIST, rng.poisson(density * EXIST.size),
                                                               replace=False))["signature"]
                     for _ in range(400))
    assert labels["random"] + labels["none"] >= 396, labels


def test_zone_statistics_add_up():
    rng = np.random.default_rng(4)
    dead = rng.choice(EXIST, 80, replace=False)
    z = views.zone_statistics(DISC, dead)
    for kind in ("radial", "reticle"):
        part = z[z["kind"] == kind]
        assert part["dead"].sum() == 80 and part["sites"].sum() == EXIST.size
        np.testing.assert_allclose(part["expected"].sum(), 80)
    radial = z[z["kind"] == "radial"]
    assert len(radial) == 5 and radial["sites"].max() - radial["sites"].min() < 0.05 * EXIST.size / 5


def test_lot_summary_shares():
    frame = pd.DataFrame({"lot": ["A"] * 4 + ["B"] * 2, "signature": ["random", "line", "cluster", "none", "random",
                                                                       "random"],
                          "lost": [True, True, True, False, True, False]})
    out = views.lot_signature_summary(frame).set_index("lot")
    assert out.loc["A", "lost_systematic"] == 2 and out.loc["A", "share_lost_random"] == pytest.approx(1 / 3)
    assert out.loc["B", "share_lost_random"] == 1.0


# --- commonality ---------------------------------------------------------------------------------

def test_commonality_finds_a_planted_station():
    rng = np.random.default_rng(5)
    n = 400
    runs = pd.DataFrame({"station": rng.choice(["S1", "S2", "S3", "S4"], n), "operator": rng.choice(["a", "b"], n),
                         "temperature_c": rng.choice([105.0, 125.0], n), "voltage_v": rng.choice([0.8, 0.9], n),
                         "lot": rng.choice(["L1", "L2", "L3"], n), "hours": rng.choice([24.0, 48.0], n)})
    rate = np.where(runs["station"] == "S3", 0.25, 0.1)
    runs["failures"] = rng.poisson(rate * runs["hours"])
    ranking = views.commonality(runs)
    assert ranking.iloc[0]["factor"] == "station" and ranking.iloc[0]["worst_level"] == "S3"
    assert ranking.iloc[0]["p_value"] < 1e-6 and ranking["rank"].tolist() == [1, 2, 3, 4, 5]
    # the statistic is Pearson's against exposure-proportional expectations
    levels = views.commonality_levels(runs, "station")
    expected = runs["failures"].sum() * levels["exposure"] / runs["hours"].sum()
    chi2 = (((levels["observed"] - expected) ** 2) / expected).sum()
    assert ranking.iloc[0]["statistic"] == pytest.approx(chi2)


def test_commonality_exact_test_for_small_counts():
    runs = pd.DataFrame({"station": ["S1", "S2"], "failures": [4, 0], "hours": [10.0, 10.0]})
    row = views.commonality(runs, ["station"]).iloc[0]
    assert row["test"] == "exact"
    assert row["p_value"] == pytest.approx(stats.binomtest(4, 4, 0.5).pvalue)


# --- control charts ------------------------------------------------------------------------------

def test_p_chart_limits():
    frame = pd.DataFrame({"cores_failed": [12, 20, 9, 15], "cores_tested": [1000, 2000, 800, 1500]})
    chart = views.p_chart(frame)
    p_bar = 56 / 5300
    np.testing.assert_allclose(chart["centre"], p_bar)
    np.testing.assert_allclose(chart["ucl"], p_bar + 3 * np.sqrt(p_bar * (1 - p_bar) / frame["cores_tested"]))
    np.testing.assert_allclose(chart["lcl"], np.maximum(0, p_bar - 3 * np.sqrt(p_bar * (1 - p_bar)
                                                                               / frame["cores_tested"])))


def test_u_chart_limits():
    frame = pd.DataFrame({"failures": [30, 50, 20], "core_hours": [1e4, 2e4, 5e3]})
    chart = views.u_chart(frame)
    u_bar = 100 / 35
    np.testing.assert_allclose(chart["centre"], u_bar)
    np.testing.assert_allclose(chart["ucl"], u_bar + 3 * np.sqrt(u_bar / (frame["core_hours"] / 1000)))


@pytest.mark.parametrize("rule, series, index", [
    (1, [0.2, -0.5, 3.2, 0.1], 2),
    (2, [0.1, 2.3, -0.4, 2.5, 0.0], 3),
    (3, [0.2, 1.3, 1.5, -0.2, 1.2, 1.1, 0.0], 5),
    (4, [-0.3, 0.4, 0.2, 0.6, 0.1, 0.5, 0.3, 0.2, 0.8, -1.0], 8),
])
def test_western_electric_rule_flagged(rule, series, index):
    flags = views.western_electric(series)
    assert flags[f"rule{rule}"].iloc[index] and flags["out_of_control"].iloc[index]
    assert not flags[f"rule{rule}"].iloc[:index].any()


def test_western_electric_false_alarm_rates():
    """On an in-control normal series each rule fires at the rate it implies per point."""
    z = np.random.default_rng(6).standard_normal(400_000)
    flags = views.western_electric(z)
    p3, p2, p1 = (stats.norm.sf(k) for k in (3, 2, 1))
    expected = {
        "rule1": 2 * p3,
        "rule2": 2 * p2 * (1 - (1 - p2) ** 2),
        "rule3": 2 * p1 * stats.binom.sf(2, 4, p1),
        "rule4": 2 * 0.5 ** 8,
    }
    for rule, rate in expected.items():
        assert flags[rule].mean() == pytest.approx(rate, rel=0.15), rule


# --- waterfall -----------------------------------------------------------------------------------

def test_waterfall_balances():
    design = load_design("wse")
    w = views.waterfall_steps(design, dead_at_fab_out=300, mapped_out_in_burn_in=25)
    assert w["cores"].iloc[0] == design.rows * design.cols == 972_000
    assert w["cores"].iloc[0] + w["cores"].iloc[1:-1].sum() == w["cores"].iloc[-1] == design.logical_cores
    assert w.loc[w["step"] == "edge loss", "cores"].item() == -(972_000 - 969_712)
    counts = pd.DataFrame({"dead_at_fab_out": [300, 100], "mapped_out": [25, 5], "logical_cores": [np.nan, np.nan]})
    mean = views.lot_waterfall(design, counts)
    assert mean.loc[mean["step"] == "dead at fab-out", "cores"].item() == -200


def test_signatures_at_wafer_scale():
    """The same rule on a 10^6-site wse map: a ring of dead cores at the edge, a scratch, random defects."""
    wse = load_design("wse")
    rng = np.random.default_rng(7)
    sites, radius, _ = _site_geometry(wse)
    ring = rng.choice(sites[radius > np.quantile(radius, 0.95)], 150, replace=False)
    background = rng.choice(sites, 150, replace=False)
    assert views.classify_signature(wse, np.concatenate([ring, background]))["signature"] == "edge_ring"
    scratch = [(400 + i) * wse.cols + 300 + i // 2 for i in range(60)]
    assert views.classify_signature(wse, np.concatenate([scratch, background]))["signature"] == "line"
    assert views.classify_signature(wse, background)["signature"] == "random"
