"""InspectionDefects -> DefectMap, and CSV / Parquet defect lists."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from yieldkit.defects import DefectModel, _positions, sample_sizes_um, dead_from_defects, sample_batch
from yieldkit.design import load_design
from yieldkit.errors import InputError
from yieldkit.formats.defect_list import read_defect_list, write_defect_list
from yieldkit.formats.inspection import InspectionDefects

SMALL = load_design("small")


def test_kill_rule_is_the_samplers() -> None:
    """The sampler now goes through dead_from_defects: same stream, same maps as before the split."""
    model = DefectModel(1.0, alpha=1.5, x0_um=200.0, max_size_um=5000.0, link_fraction=0.1)
    a = sample_batch(SMALL, model, 20, np.random.default_rng(3))
    # replay the same stream by hand
    rng = np.random.default_rng(3)
    lam = rng.gamma(model.alpha, model.mean_defects(SMALL) / model.alpha, size=20)
    wafer, x, y, counts = _positions(rng, SMALL, model, lam)
    size = sample_sizes_um(rng, model, wafer.size)
    kills = rng.random(wafer.size) < model.kill_probability
    on_link = rng.random(wafer.size) < model.link_fraction
    b, hit = dead_from_defects(SMALL, wafer, x, y, size, 20, kills=kills, on_link=on_link, n_defects=counts)
    assert a.site.tolist() == b.site.tolist() and a.link.tolist() == b.link.tolist()
    assert hit.any() and not hit.all()


def test_defects_outside_every_site_are_reported() -> None:
    # grid of small: 68 x 64 sites of 1 mm centred on the wafer
    d = InspectionDefects.from_arrays(["A"] * 4, [0.5, 100.0, -0.5, 33.9], [0.5, 100.0, -0.5, 0.0],
                                      size_um=[0.0, 0.0, np.nan, 500.0])
    imported = d.to_defect_map(SMALL)
    assert imported.outside.tolist() == [1]
    rows, cols = np.divmod(imported.defect_map.dead_sites, SMALL.cols)
    # (0.5, 0.5) -> row 31, col 34; (-0.5, -0.5) -> row 32, col 33; (33.9, 0) large: cols 67 of rows 31, 32
    assert sorted(zip(rows.tolist(), cols.tolist())) == [(31, 34), (31, 67), (32, 33), (32, 67)]
    assert imported.to_dict()["outside_sites"] == 1
    assert imported.defect_map.design == "small"


def test_kill_probability_and_validation() -> None:
    d = InspectionDefects.from_arrays(["A"] * 1000, np.zeros(1000) + 0.5, np.zeros(1000) + 0.5)
    with pytest.raises(InputError, match="rng"):
        d.to_defect_map(SMALL, kill_probability=0.5)
    none = d.to_defect_map(SMALL, kill_probability=0.0, rng=np.random.default_rng(1))
    assert none.defect_map.n_dead_sites == 0 and none.outside.size == 0
    with pytest.raises(InputError, match="wafer"):
        InspectionDefects.concat([d, InspectionDefects.from_arrays(["B"], [0], [0])]).to_defect_map(SMALL)
    with pytest.raises(InputError, match="finite"):
        InspectionDefects.from_arrays(["A"], [np.inf], [0.0])
    with pytest.raises(InputError, match="sizes"):
        InspectionDefects.from_arrays(["A"], [0.0], [0.0], size_um=[-1.0])


def _sample_defects(n: int = 4) -> InspectionDefects:
    model = DefectModel(0.3, alpha=2.0)
    rng = np.random.default_rng(5)
    wafer, x, y, _ = _positions(rng, SMALL, model, np.full(n, model.mean_defects(SMALL)))
    size = sample_sizes_um(rng, model, wafer.size)
    size[::7] = np.nan
    cls = rng.integers(-1, 4, wafer.size)
    return InspectionDefects.from_arrays([f"W{w}" for w in wafer], x, y, size, cls, lot_id="L9")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_defect_list_round_trip(tmp_path: Path, suffix: str) -> None:
    d = _sample_defects()
    path = tmp_path / f"list{suffix}"
    write_defect_list(d, path)
    back = read_defect_list(path)
    assert back.wafer_ids == d.wafer_ids and [w.lot_id for w in back.wafers] == ["L9"] * d.n_wafers
    assert back.wafer_index.tolist() == d.wafer_index.tolist()
    assert back.x_mm.tolist() == d.x_mm.tolist() and back.y_mm.tolist() == d.y_mm.tolist()
    np.testing.assert_array_equal(back.size_um, d.size_um)
    assert back.class_number.tolist() == d.class_number.tolist()


def test_minimal_csv_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("wafer,x_mm,y_mm\nW1,1.5,2\n\nW2,-3,4e0\n")
    d = read_defect_list(path)
    assert d.wafer_ids == ["W1", "W2"] and np.isnan(d.size_um).all() and (d.class_number == -1).all()
    path.write_text("wafer,x_mm,y_mm,size\nW1,1,2,3\n")
    with pytest.raises(InputError, match=r"d.csv:1: unknown column 'size'"):
        read_defect_list(path)
    path.write_text("wafer,x_mm\nW1,1\n")
    with pytest.raises(InputError, match=r"d.csv:1: missing column\(s\) y_mm"):
        read_defect_list(path)
    path.write_text("wafer,x_mm,y_mm\nW1,1,2\nW1,one,2\n")
    with pytest.raises(InputError, match=r"d.csv:3: expected a number in column x_mm, got 'one'"):
        read_defect_list(path)
    path.write_text("wafer,x_mm,y_mm,class\nW1,1,2,1.5\n")
    with pytest.raises(InputError, match=r"d.csv:2: expected an integer in column class"):
        read_defect_list(path)
    path.write_text("wafer,x_mm,y_mm\nW1,1\n")
    with pytest.raises(InputError, match=r"d.csv:2: expected 3 fields, got 2"):
        read_defect_list(path)


def test_writer_is_atomic(tmp_path: Path) -> None:
    d = _sample_defects(1)
    target = tmp_path / "out.csv"
    write_defect_list(d, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_read_defects_recognises_the_format(tmp_path: Path) -> None:
    from yieldkit.formats.io import defects_format, read_defects

    data = Path(__file__).parent / "data"
    assert defects_format(data / "two_wafers_v12.klarf") == "klarf"
    assert read_defects(data / "two_wafers_v12.klarf", wafer="W02").n_defects == 1
    d = _sample_defects(2)
    for name in ("a.csv", "a.parquet", "noext"):
        write_defect_list(d, tmp_path / name, fmt="parquet" if name != "a.csv" else "csv")
        back = read_defects(tmp_path / name)
        assert back.n_defects == d.n_defects
    assert defects_format(tmp_path / "noext") == "parquet"
    assert read_defects(tmp_path / "a.csv", wafer=d.wafer_ids[1]).n_wafers == 1
