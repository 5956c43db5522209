"""Burn-in feedback: ``db.feedback``, ``yieldkit.views.feedback`` and ``yieldkit feedback``, on both back-ends."""

from __future__ import annotations

import json
import math

import pandas as pd
from matplotlib.figure import Figure

from db.feedback import feedback_counts
from tests.cli_runner import one_error_line, run
from yieldkit.defects import DefectModel
from yieldkit.model_file import Provenance, save_model
from yieldkit.views.feedback import lot_feedback, plot_feedback


def _lot(db_url: str, name: str, d0: float, seed: int, wafers: int = 6) -> None:
    out = run("lot", "create", "--design", "small", "--wafers", str(wafers), "--d0", str(d0), "--seed", str(seed),
              "--name", name, "--db", db_url, "--json", "-q")
    assert out.exit_code == 0, out.output


def _model(tmp_path, d0: float = 0.1, design: str = "small") -> str:
    path = tmp_path / f"model-{design}.toml"
    save_model(DefectModel(d0_per_cm2=d0), path, Provenance(method="manual", design=design))
    return str(path)


def test_fab_out_rate_agrees_with_the_model_and_a_3x_density_lot_is_flagged(db_url, db_engine, tmp_path):
    _lot(db_url, "LOK", 0.1, 1)
    _lot(db_url, "LHI", 0.3, 2)
    counts = feedback_counts(db_engine)
    assert list(counts.columns) == ["lot", "wafer", "design", "dead_at_fab_out", "has_map", "mapped_out_burn_in",
                                    "dead_total"]
    assert len(counts) == 12 and counts["has_map"].all() and (counts["mapped_out_burn_in"] == 0).all()
    assert len(feedback_counts(db_engine, lot="LOK")) == 6

    out = run("feedback", "--db", db_url, "--model", _model(tmp_path), "--plot", tmp_path / "fb.png", "--json")
    assert out.exit_code == 0, out.output
    rows = {r["lot"]: r for r in json.loads(out.output)}
    ok, high = rows["LOK"], rows["LHI"]
    assert ok["wafers"] == 6 and ok["predicted_mean"] > 0
    # the interval derived from the sample size (6 wafers) holds the observed fab-out mean
    assert ok["predicted_low"] <= ok["fab_out_mean"] <= ok["predicted_high"] and not ok["flagged"]
    assert ok["fab_out_low"] <= ok["fab_out_mean"] <= ok["fab_out_high"]
    assert high["flagged"] and high["fab_out_mean"] > high["predicted_high"]
    assert 2.0 < high["ratio_fab_out"] < 4.5
    assert math.isclose(ok["dead_total_mean"], ok["fab_out_mean"] + ok["mapped_out_burn_in_mean"])
    assert (tmp_path / "fb.png").stat().st_size > 0


def test_bad_input_is_one_line_and_exit_2(db_url, tmp_path):
    model = _model(tmp_path)
    empty = run("feedback", "--db", db_url, "--model", model, "--json")
    assert empty.exit_code == 2 and "no wafers" in one_error_line(empty)
    _lot(db_url, "L1", 0.1, 1, wafers=2)
    unknown = run("feedback", "--db", db_url, "--model", model, "--lot", "NOPE", "--json")
    assert unknown.exit_code == 2 and "NOPE" in one_error_line(unknown)
    other = run("feedback", "--db", db_url, "--model", _model(tmp_path, design="wse"), "--json")
    assert other.exit_code == 2 and "'wse'" in one_error_line(other)


def test_comparison_and_plot_are_pure():
    counts = pd.DataFrame({"lot": ["A"] * 5 + ["B"] * 5, "design": ["small"] * 10,
                           "dead_at_fab_out": [10, 9, 11, 10, 10, 30, 31, 29, 30, 30],
                           "mapped_out_burn_in": [1, 0, 1, 0, 3, 0, 0, 0, 0, 0]})
    table = lot_feedback(counts, 10.0, math.sqrt(10.0))
    assert table["flagged"].tolist() == [False, True]
    assert table.loc[0, "ratio_total"] == 1.1
    half = 1.959963984540054 * math.sqrt(10.0) / math.sqrt(5)
    assert math.isclose(table.loc[0, "predicted_high"], 10.0 + half)
    fig = plot_feedback(table)
    assert isinstance(fig, Figure)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "model prediction interval" in labels and fig.axes[0].collections  # the prediction band
