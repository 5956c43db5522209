"""``yieldkit reliability``: fit, rate, alt, policy, sample; the --db provider hook; one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from yieldkit.cli import reliability as rel_cli
from yieldkit.reliability import (
    AccelerationModel,
    LFPWeibullFitter,
    LifeData,
    WeibullFitter,
    elfr_constant_rate,
    failure_rate_fit,
)

from tests.cli_runner import one_error_line, run




@pytest.fixture(scope="module")
def units(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rel") / "units.csv"
    done = run("reliability", "sample", "--units", "4000", "--p", "0.03", "--beta", "0.5", "--eta-h", "40",
               "--hours", "168", "--scan-h", "12", "--classes", "oxide,via", "--seed", "1", "-o", str(path))
    assert done.exit_code == 0, done.output
    return path


def test_sample_writes_interval_and_right_censored_units(units: Path) -> None:
    frame = pd.read_csv(units)
    assert list(frame.columns) == ["start_h", "end_h", "fault_class", "count"]
    assert frame["count"].sum() == 4000
    right = np.isinf(frame["end_h"])
    assert (frame.loc[right, "start_h"] == 168).all() and frame.loc[right, "fault_class"].isna().all()
    failed = frame[~right]
    assert ((failed["end_h"] - failed["start_h"]) == 12).all() and set(failed["fault_class"]) == {"oxide", "via"}


def test_fit_is_the_library_fit(units: Path) -> None:
    done = run("reliability", "fit", str(units), "--dist", "weibull", "--json")
    assert done.exit_code == 0, done.stderr
    got = json.loads(done.stdout)
    frame = pd.read_csv(units)
    ref = WeibullFitter().fit(LifeData.from_intervals(frame["start_h"], frame["end_h"], frame["count"])).to_dict()
    assert got == pytest.approx(ref)


def test_fit_time_event_columns_from_stdin_and_lr_intervals() -> None:
    csv = "time_h,event\n" + "\n".join(f"{t},{e}" for t, e in
                                        [(120, 1), (190, 1), (260, 1), (300, 0), (410, 1), (500, 0)])
    done = run("reliability", "fit", "-", "--ci", "lr", "--json", input=csv)
    assert done.exit_code == 0, done.stderr
    got = json.loads(done.stdout)
    ref = WeibullFitter().fit([120.0, 190.0, 260.0, 300.0, 410.0, 500.0], [1, 1, 1, 0, 1, 0],
                              ci_method="likelihood-ratio")
    assert got["ci_method"] == "likelihood-ratio"
    assert got["beta"] == pytest.approx(ref.beta_) and got["beta_lower"] == pytest.approx(ref.to_dict()["beta_lower"])


def test_by_a_failure_cause_is_competing_risks(units: Path) -> None:
    done = run("reliability", "fit", str(units), "--by", "fault_class", "--json")
    assert done.exit_code == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [r["fault_class"] for r in rows] == ["oxide", "via"]
    assert {r["analysis"] for r in rows} == {"competing-risks"}
    assert all(r["n_units"] == 4000 for r in rows)  # every class is fitted on all units


def test_by_a_grouping_column_fits_each_group_on_its_units(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    t = np.r_[100 * rng.weibull(1.5, 30), 300 * rng.weibull(1.5, 40)]
    frame = pd.DataFrame({"time_h": t, "event": 1, "lot": ["A"] * 30 + ["B"] * 40})
    frame.to_csv(tmp_path / "lots.csv", index=False)
    done = run("reliability", "fit", str(tmp_path / "lots.csv"), "--by", "lot", "--csv")
    assert done.exit_code == 0, done.stderr
    out = pd.read_csv(__import__("io").StringIO(done.stdout))
    assert list(out["lot"]) == ["A", "B"] and list(out["n_units"]) == [30, 40]
    assert set(out["analysis"]) == {"by-group"}
    assert out.loc[1, "eta"] > 2 * out.loc[0, "eta"]


def test_parquet_units_fit_like_csv(units: Path, tmp_path: Path) -> None:
    parquet = tmp_path / "units.parquet"
    pd.read_csv(units).to_parquet(parquet)
    from_parquet = run("reliability", "fit", str(parquet), "--json")
    assert from_parquet.exit_code == 0, from_parquet.stderr
    assert json.loads(from_parquet.stdout) == json.loads(run("reliability", "fit", str(units), "--json").stdout)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    done = run("reliability", "fit", str(empty))
    assert done.exit_code == 2 and "not a CSV table of units" in one_error_line(done)


def test_plot_is_written(units: Path, tmp_path: Path) -> None:
    png = tmp_path / "weibull.png"
    done = run("reliability", "fit", str(units), "--dist", "weibull-ds", "--plot", str(png), "--json")
    assert done.exit_code == 0, done.stderr
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_a_bad_plot_path_is_refused_before_the_fit(units: Path, tmp_path: Path) -> None:
    done = run("reliability", "fit", str(units), "--plot", str(tmp_path / "w.bmp"))
    assert done.exit_code == 2 and "--plot" in one_error_line(done)


# --- bad input: one line, exit 2; a fit that does not converge: exit 1 -----------------------------

@pytest.mark.parametrize(("text", "needle"), [
    ("a,b\n1,2\n", "needs the columns start_h and end_h (or time_h and event); it has a, b"),
    ("start_h,end_h\n-1,5\n", "column 'start_h', row 1: negative time -1 h"),
    ("start_h,end_h\n0,5\n10,4\n", "row 2: end before start (end_h 4 < start_h 10)"),
    ("start_h,end_h\n0,5\n1,nan\n", "column 'end_h', row 2: empty or NaN"),
    ("start_h,end_h\n0,5\n1,\n", "column 'end_h', row 2"),
    ("start_h,end_h\n0,abc\n", "'abc' is not a number"),
    ("time_h,event\n5,2\n", "column 'event', row 1: must be 0 (survived) or 1 (failed)"),
    ("start_h,end_h\n10,inf\n20,inf\n", "needs at least 2 failure(s), got 0"),
    ("start_h,end_h\n", "no units"),
])
def test_bad_units_are_one_line_naming_the_file_and_exit_2(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    done = run("reliability", "fit", str(path))
    line = one_error_line(done)
    assert done.exit_code == 2 and str(path) in line and needle in line, line


def test_a_fit_that_does_not_converge_is_a_failure_exit_1(tmp_path: Path) -> None:
    # infant mortality (shape < 1): the 3-parameter Weibull's location runs into the first failure
    t = 50.0 * np.random.default_rng(0).weibull(0.5, 60)
    pd.DataFrame({"time_h": t, "event": 1}).to_csv(tmp_path / "im.csv", index=False)
    done = run("reliability", "fit", str(tmp_path / "im.csv"), "--dist", "weibull3")
    line = one_error_line(done)
    assert done.exit_code == 1 and "im.csv" in line and "2-parameter" in line


def test_file_and_db_are_exclusive_and_one_is_needed(units: Path) -> None:
    assert run("reliability", "fit").exit_code == 2
    done = run("reliability", "fit", str(units), "--db", "sqlite:///x.db")
    assert done.exit_code == 2 and "one of them" in one_error_line(done)


def test_missing_by_column_names_it(units: Path) -> None:
    done = run("reliability", "fit", str(units), "--by", "lot")
    assert done.exit_code == 2 and "no column 'lot' for --by" in one_error_line(done)


# --- the --db provider hook ----------------------------------------------------------------------

class _EntryPoint:
    def __init__(self, name: str, func) -> None:  # noqa: ANN001
        self.name, self.value, self._func = name, f"tests:{name}", func

    def load(self):  # noqa: ANN201
        return self._func


def test_db_without_a_provider_is_one_line_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rel_cli, "entry_points", lambda group: [])
    done = run("reliability", "fit", "--db", "sqlite:///burnin.db")
    line = one_error_line(done)
    assert done.exit_code == 2 and line.startswith("Error: --db: no life-data provider is installed")


def test_db_reads_the_survival_table_of_the_provider_and_fits_it(monkeypatch: pytest.MonkeyPatch,
                                                                 units: Path) -> None:
    calls = []
    table = pd.read_csv(units)

    def survival_table(url: str, campaign: str | None) -> pd.DataFrame:
        calls.append((url, campaign))
        return table

    def lookup(group: str) -> list[_EntryPoint]:
        assert group == "yieldkit.life_data"
        return [_EntryPoint("db", survival_table)]

    monkeypatch.setattr(rel_cli, "entry_points", lookup)
    done = run("reliability", "fit", "--db", "sqlite:///burnin.db", "--campaign", "C1", "--dist", "weibull-ds",
               "--by", "fault_class", "--json")
    assert done.exit_code == 0, done.stderr
    assert calls == [("sqlite:///burnin.db", "C1")]
    from_file = json.loads(run("reliability", "fit", str(units), "--dist", "weibull-ds", "--by", "fault_class",
                               "--json").stdout)
    assert json.loads(done.stdout) == from_file
    # policy takes the same source
    done = run("reliability", "policy", "--db", "sqlite:///burnin.db", "--fit-temp-c", "125", "--durations-h",
               "0,24,48", "--oven-per-hour", "1", "--fallout-per-unit", "1", "--field-failure-per-unit", "1000",
               "--target-elfr-ppm", "1e6", "--json")
    assert done.exit_code == 0, done.stderr
    assert len(calls) == 2 and len(json.loads(done.stdout)) == 3


def test_db_provider_errors_are_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rel_cli, "entry_points", lambda group: [_EntryPoint("db", lambda url, c: "nope")])
    done = run("reliability", "fit", "--db", "sqlite:///burnin.db")
    assert done.exit_code == 2 and "returned str, not a table" in one_error_line(done)
    missing = pd.DataFrame({"core": [1, 2]})
    monkeypatch.setattr(rel_cli, "entry_points", lambda group: [_EntryPoint("db", lambda url, c: missing)])
    done = run("reliability", "fit", "--db", "sqlite:///burnin.db")
    assert done.exit_code == 2 and "--db sqlite:///burnin.db: needs the columns start_h" in one_error_line(done)


# --- rate, alt, policy ---------------------------------------------------------------------------

def test_rate_is_the_library_fit_and_elfr() -> None:
    done = run("reliability", "rate", "--units", "2000", "--hours", "48", "--failures", "3", "--stress-temp-c",
               "125", "--use-temp-c", "55", "--ea-ev", "0.7", "--confidence", "0.6,0.9", "--json")
    assert done.exit_code == 0, done.stderr
    rows = json.loads(done.stdout)
    af = AccelerationModel(activation_energy_ev=0.7, use_temp_c=55.0, voltage_law="none").af(125.0, 0.8)
    for row, cl in zip(rows, (0.6, 0.9), strict=True):
        fr = failure_rate_fit(3, 2000 * 48.0, af, cl)
        elfr = elfr_constant_rate(3, 2000, 48.0, af, 8760.0, cl)
        assert row["confidence"] == cl and row["acceleration_factor"] == pytest.approx(af)
        assert row["fit_upper"] == pytest.approx(fr.fit_upper) and row["fit_lower"] == pytest.approx(fr.fit_lower)
        assert row["elfr_upper_ppm"] == pytest.approx(elfr["elfr_ppm"])


def test_rate_refuses_nan_and_a_voltage_without_use_voltage() -> None:
    done = run("reliability", "rate", "--units", "10", "--hours", "nan", "--failures", "0")
    assert done.exit_code == 2 and "--hours" in one_error_line(done)
    done = run("reliability", "rate", "--units", "10", "--hours", "5", "--failures", "0", "--stress-voltage-v", "1")
    assert done.exit_code == 2 and "--use-voltage-v" in one_error_line(done)


def test_alt_recovers_the_activation_energy(tmp_path: Path) -> None:
    path = tmp_path / "alt.csv"
    assert run("reliability", "sample", "--dist", "weibull", "--units", "600", "--beta", "1.5", "--eta-h", "2e5",
               "--hours", "3000", "--stress-temp-c", "125,150,175", "--ea-ev", "0.7", "--seed", "3",
               "-o", str(path)).exit_code == 0
    png = tmp_path / "alt.png"
    done = run("reliability", "alt", str(path), "--stress", "temp_c", "--use-temp-c", "55", "--plot", str(png),
               "--json")
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert done.exit_code == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["Ea_lower"] < 0.7 < got["Ea_upper"] and got["beta_lower"] < 1.5 < got["beta_upper"]
    assert got["af_125C_lower"] < got["af_125C"] < got["af_125C_upper"]
    assert got["use_life_lower_h"] < 2e5 * (-np.log(0.9)) ** (1 / 1.5) < got["use_life_upper_h"]


def test_alt_needs_its_stress_column(units: Path) -> None:
    done = run("reliability", "alt", str(units), "--stress", "temp_c")
    assert done.exit_code == 2 and "no stress column temp_c" in one_error_line(done)
    done = run("reliability", "alt", str(units), "--stress", "pressure")
    assert done.exit_code == 2 and "--stress" in one_error_line(done)


def _policy_args(*extra: str) -> list[str]:
    return ["reliability", "policy", "--durations-h", "0,6,12,24,48", "--temps-c", "125", "--oven-per-hour", "2",
            "--fallout-per-unit", "10", "--field-failure-per-unit", "5000", "--field-window-h", "8760", *extra]


def test_policy_from_parameters_marks_the_library_choice() -> None:
    done = run(*_policy_args("--p", "1e-3", "--beta", "0.4", "--eta-h", "1e5", "--use-voltage-v", "0.8",
                             "--voltages-v", "0.8,0.88", "--target-elfr-ppm", "100", "--json"))
    assert done.exit_code == 0, done.stderr
    rows = json.loads(done.stdout)
    chosen = [r for r in rows if r["chosen"]]
    assert len(chosen) == 1 and chosen[0]["duration_h"] == 48 and chosen[0]["voltage_v"] == 0.88
    assert done.stderr.startswith("burn in 48 h at 125 C, 0.88 V")


def test_policy_from_a_fit_of_a_file(units: Path) -> None:
    done = run(*_policy_args(str(units), "--fit-temp-c", "125", "--target-elfr-ppm", "1e5", "--json"))
    assert done.exit_code == 0, done.stderr
    frame = pd.read_csv(units)
    fit = LFPWeibullFitter().fit(LifeData.from_intervals(frame["start_h"], frame["end_h"], frame["count"]))
    rows = json.loads(done.stdout)
    assert "voltage_v" not in rows[0]
    no_burn_in = next(r for r in rows if r["duration_h"] == 0)
    af = AccelerationModel(use_temp_c=55.0, voltage_law="none").af(125.0, 1.0)
    assert no_burn_in["residual_elfr_ppm"] == pytest.approx(
        1e6 * fit.p_ * -np.expm1(-(8760.0 / (fit.eta_ * af)) ** fit.beta_), rel=1e-6)


def test_policy_that_meets_no_target_prints_the_frontier_and_exits_1() -> None:
    done = run(*_policy_args("--p", "0.01", "--beta", "0.4", "--eta-h", "1e5", "--target-elfr-ppm", "1", "--csv"))
    assert done.exit_code == 1 and "no candidate meets 1 ppm" in one_error_line(done)
    assert done.stdout.startswith("duration_h,temp_c,af")


def test_policy_needs_one_population() -> None:
    done = run(*_policy_args("--target-elfr-ppm", "100"))
    assert done.exit_code == 2 and "--p, --beta and --eta-h" in one_error_line(done)
    done = run(*_policy_args("--p", "0.1", "--beta", "0.5", "--eta-h", "10", "-", "--target-elfr-ppm", "100"),
               input="start_h,end_h\n0,5\n")
    assert done.exit_code == 2 and "exclusive" in one_error_line(done)
