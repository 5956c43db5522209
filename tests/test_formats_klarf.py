"""KLARF 1.2 / 1.8 reader and 1.2 writer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from yieldkit.defects import DefectModel, _positions, sample_sizes_um
from yieldkit.design import load_design
from yieldkit.errors import InputError
from yieldkit.formats.inspection import InspectionDefects
from yieldkit.formats.klarf import KlarfError, iter_klarf, read_klarf, write_klarf

DATA = Path(__file__).parent / "data"
V12 = DATA / "two_wafers_v12.klarf"
V18 = DATA / "two_wafers_v18.klarf"


@pytest.mark.parametrize("path", [V12, V18])
def test_example_files_give_the_expected_defects(path: Path) -> None:
    d = read_klarf(path)
    assert d.wafer_ids == ["W01", "W02"]
    assert {w.lot_id for w in d.wafers} == {"LOT42"}
    # position = index * pitch + die origin + REL - sample centre, in mm
    np.testing.assert_allclose(d.x_mm, [0.0, -9.5, 29.999, -10.0])
    np.testing.assert_allclose(d.y_mm, [12.5, -24.75, 0.0, 0.0])
    np.testing.assert_allclose(d.size_um, [2.0, 0.5, 4.0, 1.5])
    assert d.class_number.tolist() == [1, 3, 1, 2]
    assert d.wafer_index.tolist() == [0, 0, 0, 1]
    assert d.wafers[0].die_pitch_um == (20000.0, 25000.0)
    assert d.wafers[0].sample_plan == ((7, 6), (7, 5), (8, 6))


def test_versions_agree_and_a_wafer_can_be_chosen() -> None:
    one = read_klarf(V18, wafer="W02")
    assert one.n_wafers == 1 and one.n_defects == 1
    with pytest.raises(InputError, match="no wafer 'W09'"):
        read_klarf(V12, wafer="W09")


def test_reader_streams_one_wafer_at_a_time() -> None:
    stream = iter_klarf(V12)
    first = next(stream)
    assert first.wafer_ids == ["W01"] and first.n_defects == 3
    assert next(stream).wafer_ids == ["W02"]
    assert next(stream, None) is None


def test_notch_orientation_rotates_to_notch_down(tmp_path: Path) -> None:
    text = V12.read_text().replace("OrientationMarkLocation DOWN;", "OrientationMarkLocation UP;")
    path = tmp_path / "up.klarf"
    path.write_text(text)
    d = read_klarf(path)
    np.testing.assert_allclose(d.x_mm, -read_klarf(V12).x_mm, atol=1e-12)
    np.testing.assert_allclose(d.y_mm, -read_klarf(V12).y_mm, atol=1e-12)


BAD_12 = [
    ("DiePitch 2.0000000e+04 2.5000000e+04;", "DiePitch 2.0000000e+04 abc;", 12, "expected a number in DiePitch"),
    (" 3 19999.0 0.0 8 6 4.0 3.0 4.0 1;", " 3 19999.0 0.0 8 6 4.0 3.0 4.0;", 27, "rows of 9 values.*the last row has 8"),
    ("EndOfFile;\n", "", 39, "expected .* got the end of the file"),
    ("FileVersion 1 2;", "FileVersion 1 3;", 1, "expected FileVersion 1 2"),
    (" 2 500.0 250.0 7 5 0.5 0.5 0.5 3", " 2 500.0 250.0 7.5 5 0.5 0.5 0.5 3", 26, "an integer in column XINDEX"),
    (" 2 500.0 250.0 7 5 0.5 0.5 0.5 3", " 2 500.0 250.0 7 5 0.5 0.5 -0.5 3", 26, "a size >= 0 in column DEFECTSIZE"),
    ("SampleCenterLocation 1.5000000e+05 1.5000000e+05;\nInspectionTest 1;\nSampleTestPlan 1",
     "InspectionTest 1;\nSampleTestPlan 1", 31, "expected SampleCenterLocation"),
]


@pytest.mark.parametrize("old, new, line, message", BAD_12)
def test_malformed_12_names_file_and_line(tmp_path: Path, old: str, new: str, line: int, message: str) -> None:
    text = V12.read_text()
    assert old in text
    path = tmp_path / "bad.klarf"
    path.write_text(text.replace(old, new, 1) if old != "EndOfFile;\n" else text.replace(old, new))
    with pytest.raises(KlarfError, match=rf"bad.klarf:{line}: .*{message}"):
        read_klarf(path)


BAD_18 = [
    ("Data 3\n        {\n          1 1.0e+04", "Data 4\n        {\n          1 1.0e+04", 28, "expected 4 rows"),
    ("          2 500.0 250.0 7 5 0.5 0.5 0.5 3;", "          2 500.0 250.0 7 5 0.5 0.5 0.5;", 31,
     "expected 9 values in a row"),
    ('Record FileRecord "1.8"', 'Record FileRecord "1.7"', 1, 'expected file version "1.8"'),
    ("Field DiePitch 2 {2.0000000e+04, 2.5000000e+04}", "Field DiePitch 3 {2.0000000e+04, 2.5000000e+04}",
     9, "expected 3 values in Field DiePitch"),
]


@pytest.mark.parametrize("old, new, line, message", BAD_18)
def test_malformed_18_names_file_and_line(tmp_path: Path, old: str, new: str, line: int, message: str) -> None:
    text = V18.read_text()
    assert old in text
    path = tmp_path / "bad.klarf"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(KlarfError, match=rf"bad.klarf:{line}: {message}"):
        read_klarf(path)


def test_unbalanced_braces_18(tmp_path: Path) -> None:
    path = tmp_path / "cut.klarf"
    path.write_text("\n".join(V18.read_text().splitlines()[:30]) + "\n")
    with pytest.raises(KlarfError, match=r"cut.klarf:30: expected .*end of the file"):
        read_klarf(path)


def test_not_a_klarf(tmp_path: Path) -> None:
    path = tmp_path / "x.klarf"
    path.write_text("hello world;\n")
    with pytest.raises(KlarfError, match=r"x.klarf:1: expected FileVersion"):
        read_klarf(path)
    assert issubclass(KlarfError, InputError)


def test_sampled_defects_written_and_read_back_are_the_same(tmp_path: Path) -> None:
    """A KLARF generated from sampled positions reads back to the same defects."""
    design = load_design("small")
    model = DefectModel(0.5, alpha=2.0, x0_um=0.5)
    rng = np.random.default_rng(11)
    wafer, x, y, _ = _positions(rng, design, model, np.full(3, model.mean_defects(design)))
    size = sample_sizes_um(rng, model, wafer.size)
    cls = rng.integers(0, 5, wafer.size)
    defects = InspectionDefects.from_arrays([f"W{w}" for w in wafer], x, y, size, cls, lot_id="L1")
    path = tmp_path / "sample.klarf"
    write_klarf(defects, path, die_pitch_um=(26000.0, 33000.0), die_origin_um=(100.0, -50.0))
    back = read_klarf(path)
    assert back.wafer_ids == defects.wafer_ids
    assert back.wafer_index.tolist() == defects.wafer_index.tolist()
    np.testing.assert_allclose(back.x_mm, defects.x_mm, atol=1e-9)
    np.testing.assert_allclose(back.y_mm, defects.y_mm, atol=1e-9)
    np.testing.assert_allclose(back.size_um, defects.size_um)
    assert back.class_number.tolist() == defects.class_number.tolist()
    # the same dead sites through the sampler's kill rule
    for w in defects.wafer_ids:
        a = defects.to_defect_map(design, w).defect_map
        b = back.to_defect_map(design, w).defect_map
        assert a.dead_sites.tolist() == b.dead_sites.tolist()


def test_large_file_is_streamed_not_held_as_text(tmp_path: Path) -> None:
    """A wafer of 20 000 defects: the reader keeps numeric columns (tens of bytes a defect), not tokens."""
    import tracemalloc

    n = 20_000
    rng = np.random.default_rng(0)
    path = tmp_path / "big.klarf"
    with open(path, "w") as out:
        out.write('FileVersion 1 2;\nLotID "L";\nDiePitch 1e4 1e4;\nDieOrigin 0 0;\nWaferID "W";\n'
                  "SampleCenterLocation 1.5e5 1.5e5;\n"
                  "DefectRecordSpec 7 DEFECTID XREL YREL XINDEX YINDEX DEFECTSIZE CLASSNUMBER;\nDefectList\n")
        xi, yi = rng.integers(5, 25, n), rng.integers(5, 25, n)
        xr, yr = rng.random(n) * 1e4, rng.random(n) * 1e4
        out.write("\n".join(f" {i} {a:.3f} {b:.3f} {c} {d} 1.5 2" for i, (a, b, c, d) in
                            enumerate(zip(xr, yr, xi, yi))) + ";\nEndOfFile;\n")
    tracemalloc.start()
    try:
        d = read_klarf(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert d.n_defects == n
    np.testing.assert_allclose(d.x_mm, (xi * 1e4 + np.round(xr, 3) - 1.5e5) / 1000.0)
    # 7 tokens a defect held as text objects would take ~800 bytes a defect
    assert peak < 300 * n, peak / n
