"""CLI of the yield analysis: design, defects, simulate, sweep, demo."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from tests.stat_tolerance import proportion_tolerance
from tests.cli_runner import run



def test_design_show_json() -> None:
    result = run("design", "show", "wse", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    for key in ("rows", "cols", "existing_sites", "logical_rows", "logical_cols", "pitch_x_mm", "grid_area_mm2", "scheme"):
        assert key in data
    assert data["logical_rows"] * data["logical_cols"] == 893_064


def test_design_show_csv_and_table() -> None:
    csv = run("design", "show", "small", "--csv").output.splitlines()
    assert csv[0].startswith("name,rows,cols") and csv[1].startswith("small,64,68")
    assert "existing_sites" in run("design", "show", "small", "--table").output


def test_unknown_key_in_a_design_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[grid]\nrows = 4\ncols = 4\npitch_mm = 1.0\nfoo = 1\n[logical]\nrows = 4\ncols = 4\n")
    result = run("design", "show", str(path))
    assert result.exit_code == 2
    assert "unknown key 'grid.foo'" in result.output
    assert "Traceback" not in result.output


def test_simulate_prints_the_contract_fields() -> None:
    result = run("simulate", "--design", "small", "--d0", "1", "--alpha", "2", "--wafers", "3000", "--seed", "7", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    for key in ("wafers", "full_fabric_yield", "ci_low", "ci_high", "ci_method", "mean_dead_cores", "mean_defects", "seed"):
        assert key in data
    assert data["wafers"] == 3000 and data["seed"] == 7 and data["alpha"] == 2.0
    assert data["ci_low"] <= data["full_fabric_yield"] <= data["ci_high"]


def test_simulate_workers_do_not_change_the_result() -> None:
    args = ["simulate", "--design", "small", "--d0", "2", "--wafers", "5000", "--seed", "3", "--json"]
    one = json.loads(run(*args).output)
    two = json.loads(run(*args, "--workers", "2").output)
    assert one == two


@pytest.mark.parametrize(("args", "message"), [
    (["simulate", "--d0", "-1"], "--d0"),
    (["simulate", "--d0", "0.1", "--alpha", "0"], "--alpha"),
    (["simulate", "--d0", "0.1", "--wafers", "0"], "--wafers"),
    (["simulate", "--d0", "0.1", "--design", "nowhere"], "no design 'nowhere'"),
    (["simulate", "--d0", "0.1", "--kill-probability", "2"], "--kill-probability"),
    (["simulate", "--d0", "0.1", "--spatial", "spiral"], "--spatial"),
    (["simulate"], "--d0"),
    (["sweep", "--d0", "a,b"], "--d0"),
    (["sweep", "--d0", "0.1", "--alpha", "-2"], "alpha"),
    (["sweep", "--d0", "0.1", "--spares", "x"], "--spares"),
    (["sweep", "--d0", "0.1", "-o", "t.xlsx"], "extension"),
    (["sweep", "--d0", "0.1", "--plot", "p.bmp"], "extension"),
    (["defects", "sample", "--d0", "0.1"], "--seed"),
    (["nonsense"], "No such command"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.output
    assert message in lines[0]


def test_sweep_writes_csv_parquet_and_plot(tmp_path: Path) -> None:
    csv, parquet, png = tmp_path / "t.csv", tmp_path / "t.parquet", tmp_path / "y.png"
    args = ["sweep", "--design", "small", "--d0", "0.5,2", "--alpha", "poisson,2", "--spares", "2,4",
            "--wafers", "500", "--seed", "1", "--quiet"]
    result = run(*args, "-o", str(csv), "--plot", str(png))
    assert result.exit_code == 0, result.output
    table = pd.read_csv(csv)
    assert len(table) == 8
    assert set(table["spares_per_row"]) == {2, 4}
    assert {"full_fabric_yield", "ci_low", "ci_high", "mean_dead_cores", "seed"} <= set(table.columns)
    # more spares do not lower the yield beyond sampling noise (the grids differ, so draws are not paired)
    pivot = table.assign(alpha=table["alpha"].fillna(0)).pivot_table(
        index=["d0_per_cm2", "alpha"], columns="spares_per_row", values="full_fabric_yield")
    noise = [math.sqrt(2) * proportion_tolerance(max(p, 0.01), 500) for p in pivot[2]]
    assert (pivot[4] >= pivot[2] - noise).all()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert run(*args, "-o", str(parquet)).exit_code == 0
    pd.testing.assert_frame_equal(pd.read_parquet(parquet), table, check_dtype=False)


def test_sweep_prints_json_without_output_file() -> None:
    result = run("sweep", "--design", "small", "--d0", "0.5", "--wafers", "300", "--json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)) == 1


def test_defects_sample_and_show_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    result = run("defects", "sample", "--design", "small", "--d0", "3", "--seed", "4", "--link-fraction", "0.2",
                 "-o", str(path))
    assert result.exit_code == 0, result.output
    data = json.loads(path.read_text())
    shown = json.loads(run("defects", "show", "--design", "small", str(path), "--json").output)
    assert shown["dead_cores"] == len(data["dead_sites"]) > 0
    assert shown["dead_links"] == len(data["dead_links"])
    # the same file on stdin
    assert json.loads(run("defects", "show", "--design", "small", "-", "--json", input=path.read_text()).output) == shown


def test_defects_show_rejects_a_map_of_another_design(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    run("defects", "sample", "--design", "small", "--d0", "1", "--seed", "1", "-o", str(path))
    result = run("defects", "show", "--design", "wse", str(path))
    assert result.exit_code == 2 and "does not match" not in result.output
    assert "64x68" in result.output and "Traceback" not in result.output
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = run("defects", "show", "--design", "small", str(broken))
    assert result.exit_code == 2 and "invalid JSON" in result.output


def test_demo_writes_a_report(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = run("demo", "--design", "small", "--wafers", "200", "-o", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    report = out / "report.html"
    assert str(report.resolve()) in result.output
    html = report.read_text()
    assert "<img" in html and "Full-fabric yield" in html
    for name in ("yield_curves.png", "wafer_map.png", "yield_sweep.csv", "wafer_defects.json", "wafer_repair.npz",
                 "wafer.fabimg", "fabric_image.png"):
        assert (out / name).stat().st_size > 0
    # the stages agree with each other: the image verifies against the wafer's defects
    verified = run("firmware", "verify", str(out / "wafer.fabimg"), "--defects", str(out / "wafer_defects.json"),
                   "--design", "small", "--json")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["ok"] is True


def test_no_arguments_prints_help_and_exits_0() -> None:
    result = run()
    assert result.exit_code == 0 and "Usage:" in result.output and "Error" not in result.output


def test_an_absurd_d0_is_refused_before_sampling() -> None:
    result = run("defects", "sample", "--design", "small", "--d0", "1e7", "--seed", "1")
    assert result.exit_code == 2 and "defects per wafer" in result.output


def test_an_unwritable_output_path_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run("sweep", "--design", "small", "--d0", "0.5", "--wafers", "100", "-o", str(tmp_path / "no" / "t.csv"))
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("Error:"), result.output


@pytest.mark.parametrize(("param", "message"), [
    ("reach=-1", "integer >= 0"), ("reach=1.5", "integer >= 0"), ("reach=abc", "integer >= 0"),
    ("foo=1", "has no parameter 'foo'"),
])
def test_repair_rejects_bad_scheme_parameters(tmp_path: Path, param: str, message: str) -> None:
    out = tmp_path / "r.npz"
    result = run("repair", "--design", "small", "--seed", "5", "--param", param, "-o", str(out))
    assert result.exit_code == 2 and message in result.output, result.output
    assert not out.exists()


def test_repair_writes_the_file_name_it_was_given(tmp_path: Path) -> None:
    out = tmp_path / "wafer.map"
    result = run("repair", "--design", "small", "--seed", "5", "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    assert out.is_file() and not (tmp_path / "wafer.map.npz").exists()
    assert run("firmware", "build", str(out), "-o", str(tmp_path / "w.fabimg")).exit_code == 0


def test_defects_show_takes_the_design_the_map_names(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    run("defects", "sample", "--design", "small", "--d0", "1", "--seed", "2", "-o", str(path))
    result = run("defects", "show", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["design"] == "small"
