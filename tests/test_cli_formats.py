"""The CLI of the industry formats: KLARF / CSV import, G85 / E142 maps, calibrate, --model files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from yieldkit.defect_map import DefectMap
from yieldkit.formats.io import read_defects, read_map
from yieldkit.model_file import file_sha256, load_model
from tests.cli_runner import run

DATA = Path(__file__).resolve().parent / "data"



def error_line(result) -> str:  # noqa: ANN001
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.output
    return lines[0]


def files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.fixture(scope="module")
def lot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sampled lot of 12 wafers on small (D0 0.3, alpha 2), as KLARF."""
    path = tmp_path_factory.mktemp("lot") / "lot1.klarf"
    result = run("defects", "sample-lot", "--design", "small", "--d0", "0.3", "--alpha", "2", "--wafers", "12",
                 "--seed", "5", "--lot", "L1", "-o", path, "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["wafers"] == 12 and record["format"] == "klarf" and record["lots"] == "L1"
    return path


# -- defects sample-lot -------------------------------------------------------------------------

def test_sample_lot_writes_klarf_or_a_list_by_extension(lot: Path, tmp_path: Path) -> None:
    klarf = read_defects(lot)
    assert klarf.wafer_ids == [f"W{i:02d}" for i in range(1, 13)]
    assert (klarf.size_um >= 0.5 - 1e-9).all()
    csv = tmp_path / "lot1.csv"
    result = run("defects", "sample-lot", "--design", "small", "--d0", "0.3", "--alpha", "2", "--wafers", "12",
                 "--seed", "5", "--lot", "L1", "-o", csv, "--json")
    assert result.exit_code == 0 and json.loads(result.output)["format"] == "csv"
    listed = read_defects(csv)
    assert listed.n_defects == klarf.n_defects
    assert abs(listed.x_mm - klarf.x_mm).max() < 1e-6  # the same wafers in both formats


def test_sample_lot_covers_the_whole_circle_and_refuses_idle_options(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    assert run("defects", "sample-lot", "--design", "small", "--d0", "0.2", "--wafers", "3", "-o", path).exit_code == 0
    d = read_defects(path)
    assert (d.x_mm**2 + d.y_mm**2).max() ** 0.5 > 120  # far beyond the 64 x 68 mm grid
    result = run("defects", "sample-lot", "--design", "small", "--d0", "0.2", "--kill-probability", "0.5",
                 "-o", tmp_path / "k.klarf")
    assert result.exit_code == 2 and "--kill-probability" in error_line(result)
    assert not (tmp_path / "k.klarf").exists()


# -- defects import -----------------------------------------------------------------------------

def test_import_writes_one_map_per_wafer_into_a_folder(lot: Path, tmp_path: Path) -> None:
    out = tmp_path / "maps"
    result = run("defects", "import", lot, "--design", "small", "-o", out, "--defect-list", tmp_path / "l.csv",
                 "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["wafer_id"] for r in rows] == [f"W{i:02d}" for i in range(1, 13)]
    assert all(r["outside_sites"] > 0 for r in rows) and "touch no core site" in result.stderr
    first = DefectMap.load(out / "W01.json")
    assert first.n_dead_sites == rows[0]["dead_sites"] and first.design == "small"
    assert read_defects(tmp_path / "l.csv").n_defects == sum(r["defects"] for r in rows)


def test_import_one_wafer_to_a_file_and_a_pattern(lot: Path, tmp_path: Path) -> None:
    one = run("defects", "import", lot, "--design", "small", "--wafer", "W03", "-o", tmp_path / "w3.json", "--json")
    assert one.exit_code == 0, one.output
    assert (tmp_path / "w3.json").exists()
    pattern = run("defects", "import", DATA / "two_wafers_v18.klarf", "--design", "wse",
                  "-o", str(tmp_path / "{lot}-{wafer}.json"), "--csv")
    assert pattern.exit_code == 0, pattern.output
    assert {"LOT42-W01.json", "LOT42-W02.json"} <= files(tmp_path)


def test_import_refuses_several_wafers_into_one_file(lot: Path, tmp_path: Path) -> None:
    result = run("defects", "import", lot, "--design", "small", "-o", tmp_path / "all.json")
    assert result.exit_code == 2 and "{wafer}" in error_line(result)
    assert files(tmp_path) == set()
    missing = run("defects", "import", lot, "--design", "small", "--wafer", "W99", "-o", tmp_path / "x.json")
    assert missing.exit_code == 2 and "--wafer" in error_line(missing) and files(tmp_path) == set()


@pytest.mark.parametrize("text, where", [
    ("FileVersion 1 2;\nLotID \"L\";\nDiePitch abc 1;\n", "bad.klarf:3:"),
    ("FileVersion 1 2;\nLotID \"L\";\nWaferID \"W1\";\nDefectRecordSpec 3 XREL YREL XINDEX;\n", "bad.klarf:4:"),
    ("FileVersion 1 2;\nLotID \"L\";\nWaferID \"W1\"\n", "bad.klarf:"),
])
def test_a_malformed_klarf_is_one_line_with_its_line_and_nothing_is_written(tmp_path: Path, text: str,
                                                                            where: str) -> None:
    bad = tmp_path / "bad.klarf"
    bad.write_text(text)
    out = tmp_path / "out"
    result = run("defects", "import", bad, "--design", "small", "-o", out, "--defect-list", tmp_path / "l.csv")
    assert result.exit_code == 2
    assert where in error_line(result) and "expected" in error_line(result)
    assert files(tmp_path) == {"bad.klarf"}


def test_a_bad_csv_list_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("wafer,x_mm,y_mm\nW1,1.0,2.0\nW1,oops,2.0\n")
    result = run("defects", "import", bad, "--design", "small", "-o", tmp_path / "m.json")
    assert result.exit_code == 2 and "bad.csv:3:" in error_line(result)
    assert files(tmp_path) == {"bad.csv"}


# -- calibrate ----------------------------------------------------------------------------------

def test_calibrate_writes_a_model_with_its_provenance(lot: Path, tmp_path: Path) -> None:
    out = tmp_path / "model.toml"
    result = run("calibrate", "--design", "small", lot, "-o", out, "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    for key in ("d0_per_cm2_ci_low", "d0_per_cm2_ci_high", "alpha_ci_low", "lr_p_value", "chi2_poisson_p_value",
                "chi2_nb_p_value", "radial_p_value", "x0_um", "model_d0_per_cm2"):
        assert key in record, key
    assert record["d0_per_cm2_ci_low"] < 0.3 < record["d0_per_cm2_ci_high"]
    model, prov = load_model(out)
    assert model.d0_per_cm2 == pytest.approx(record["model_d0_per_cm2"])
    assert prov.sources == ((str(lot), file_sha256(lot)),) and prov.design == "small"
    assert prov.method.startswith("calibrate") and "d0_per_cm2_ci_low" in prov.estimates


def test_calibrate_refuses_a_bad_file_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.klarf"
    bad.write_text("FileVersion 1 2;\nDiePitch 1;\n")
    result = run("calibrate", "--design", "small", bad, "-o", tmp_path / "m.toml")
    assert result.exit_code == 2 and "bad.klarf:2:" in error_line(result)
    assert files(tmp_path) == {"bad.klarf"}
    suffix = run("calibrate", "--design", "small", bad, "-o", tmp_path / "m.txt")
    assert suffix.exit_code == 2 and "--output" in error_line(suffix)


# -- --model ------------------------------------------------------------------------------------

@pytest.fixture()
def model_file(tmp_path: Path) -> Path:
    from yieldkit.defects import DefectModel
    from yieldkit.model_file import Provenance, save_model

    path = tmp_path / "model.toml"
    save_model(DefectModel(0.2, alpha=2.0, spatial="radial", radial_beta=1.0), path, Provenance(method="manual"))
    return path


def test_model_file_is_the_base_and_typed_flags_override(model_file: Path) -> None:
    base = run("simulate", "--design", "small", "--model", model_file, "--wafers", "50", "--json")
    assert base.exit_code == 0, base.output
    record = json.loads(base.output)
    assert (record["d0_per_cm2"], record["alpha"], record["spatial"], record["radial_beta"]) == (0.2, 2.0, "radial", 1)
    assert record["model_file"] == str(model_file) and record["model_sha256"] == file_sha256(model_file)
    over = json.loads(run("simulate", "--design", "small", "--model", model_file, "--d0", "0.05",
                          "--spatial", "uniform", "--wafers", "50", "--json").output)
    assert (over["d0_per_cm2"], over["alpha"], over["spatial"], over["radial_beta"]) == (0.05, 2.0, "uniform", 0)
    sweep = run("sweep", "--design", "small", "--model", model_file, "--alpha", "poisson,3", "--wafers", "20", "--json")
    assert sweep.exit_code == 0, sweep.output
    rows = json.loads(sweep.output)
    assert {r["alpha"] for r in rows} == {None, 3.0} and {r["d0_per_cm2"] for r in rows} == {0.2}


def test_model_file_for_every_defect_model_command(model_file: Path, tmp_path: Path) -> None:
    sample = run("defects", "sample", "--design", "small", "--model", model_file, "--seed", "2",
                 "-o", tmp_path / "w.json")
    assert sample.exit_code == 0, sample.output
    repair = run("repair", "--design", "small", "--model", model_file, "--seed", "2", "-o", tmp_path / "w.npz",
                 "--allow-degraded", "--json")
    assert repair.exit_code == 0 and json.loads(repair.output)["model_file"] == str(model_file)
    idle = run("repair", "--design", "small", "--model", model_file, "--defects", tmp_path / "w.json",
               "-o", tmp_path / "x.npz")
    assert idle.exit_code == 2 and "--model" in error_line(idle)


def test_d0_is_required_only_without_a_model_and_a_bad_model_is_one_line(tmp_path: Path) -> None:
    missing = run("simulate", "--design", "small", "--wafers", "10")
    assert missing.exit_code == 2 and "--d0" in error_line(missing)
    bad = tmp_path / "bad.toml"
    bad.write_text('format = "yieldkit.defect-model"\nversion = 1\n[model]\nd0_per_cm2 = 0.1\nspatial = "x"\n')
    result = run("simulate", "--design", "small", "--model", bad, "--wafers", "10")
    assert result.exit_code == 2 and "bad.toml" in error_line(result)
    idle = run("simulate", "--design", "small", "--model", bad, "--cluster-size", "3", "--wafers", "10")
    assert idle.exit_code == 2


# -- map export / import, plan --die-map ---------------------------------------------------------

@pytest.fixture(scope="module")
def repaired(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("repaired")
    assert run("repair", "--design", "small", "--seed", "3", "--d0", "0.2", "-o", folder / "w3.npz").exit_code == 0
    assert run("firmware", "build", folder / "w3.npz", "-o", folder / "w3.img", "--wafer-id", "W3").exit_code == 0
    return folder


@pytest.mark.parametrize("fmt", ["g85", "e142"])
def test_map_export_of_a_repair_map_and_an_image_round_trips(repaired: Path, tmp_path: Path, fmt: str) -> None:
    from_map = run("map", "export", repaired / "w3.npz", "--format", fmt, "-o", tmp_path / "a.xml",
                   "--wafer-id", "W3", "--lot-id", "L1", "--json")
    assert from_map.exit_code == 0, from_map.output
    from_image = run("map", "export", repaired / "w3.img", "--format", fmt, "-o", tmp_path / "b.xml", "--json")
    assert from_image.exit_code == 0, from_image.output
    a, b = json.loads(from_map.output), json.loads(from_image.output)
    assert a["source_kind"] == "repair_map" and b["source_kind"] == "image" and b["wafer_id"] == "W3"
    assert (read_map(tmp_path / "a.xml").states == read_map(tmp_path / "b.xml").states).all()
    assert a["dead"] > 0 and a["good"] + a["spare_in_use"] == 64 * 64
    back = run("map", "import", tmp_path / "a.xml", "--json")
    assert back.exit_code == 0
    record = json.loads(back.output)
    assert (record["wafer_id"], record["lot_id"], record["dead"]) == ("W3", "L1", a["dead"])


def test_map_export_refuses_other_files_and_map_import_bad_xml(lot: Path, tmp_path: Path) -> None:
    other = run("map", "export", lot, "-o", tmp_path / "m.xml")
    assert other.exit_code == 2 and "not a repair map" in error_line(other) and files(tmp_path) == set()
    bad = tmp_path / "bad.xml"
    bad.write_text('<?xml version="1.0"?>\n<Map>\n<Device Rows="2"></Device></Map>\n')
    result = run("map", "import", bad)
    assert result.exit_code == 2 and "bad.xml:" in error_line(result)
    wrong = run("map", "export", lot, "--design", "wse", "-o", tmp_path / "m.xml")
    assert wrong.exit_code == 2


def test_map_export_of_a_map_of_another_design_is_refused(repaired: Path, tmp_path: Path) -> None:
    result = run("map", "export", repaired / "w3.npz", "--design", "wse", "-o", tmp_path / "m.xml")
    assert result.exit_code == 2 and "--design" in error_line(result) and not (tmp_path / "m.xml").exists()


def test_plan_writes_the_die_level_g85_map(tmp_path: Path) -> None:
    out = tmp_path / "dies.xml"
    result = run("plan", "--design", "small", "--d0", "0.2", "--schemes", "none", "--wafers", "50",
                 "--die-area-mm2", "100", "--die-map", out, "--json")
    assert result.exit_code == 0, result.output
    m = read_map(out)
    assert m.pitch_x_mm == pytest.approx(10.0) and m.counts()["dead"] > 0 and m.counts()["good"] > 0
    bad = run("plan", "--design", "small", "--d0", "0.2", "--die-map", tmp_path / "no" / "dies.xml")
    assert bad.exit_code == 2 and "--die-map" in error_line(bad)


def test_import_into_an_existing_folder_and_bad_outputs_before_reading(lot: Path, tmp_path: Path) -> None:
    (tmp_path / "maps").mkdir()
    assert run("defects", "import", lot, "--design", "small", "-o", tmp_path / "maps", "--csv").exit_code == 0
    assert len(files(tmp_path / "maps")) == 12
    for output in (tmp_path / "no" / "{wafer}.json", tmp_path / "{wafer}-{x}.json", tmp_path / "no" / "w.json"):
        result = run("defects", "import", lot, "--design", "small", "-o", output)
        assert result.exit_code == 2 and "--output" in error_line(result)
    assert files(tmp_path) == {"maps"}


def test_calibrate_refuses_a_wafer_given_twice(lot: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.klarf"
    copy.write_bytes(lot.read_bytes())
    result = run("calibrate", "--design", "small", lot, copy, "-o", tmp_path / "m.toml")
    assert result.exit_code == 2 and "copy.klarf: lot 'L1' wafer 'W01' is also in" in error_line(result)
    assert files(tmp_path) == {"copy.klarf"}
