"""firmware_map.inspection: site classes, summary counts, plot, diff."""

from __future__ import annotations

import numpy as np
import pytest

from yieldkit.defect_map import DefectMap
from yieldkit.errors import InputError

from firmware_map import build_image, parse_image
from firmware_map.inspection import (
    ABSENT,
    BYPASSED,
    DEAD,
    IN_PLACE,
    MOVED,
    diff_images,
    diff_records,
    plot_image,
    site_classes,
    inspect_image,
)
from yieldkit.design import Design, load_design
from yieldkit.repair import repair_wafer


def tiny_design(rows: int = 8) -> Design:
    """8 x 10 sites (all exist), 6 x 8 logical cores on rows 1..6, nominal columns 1..8, row-shift reach 1."""
    return Design(name="tiny", rows=rows, cols=10, pitch_x_mm=1.0, pitch_y_mm=1.0, logical_rows=6, logical_cols=8,
                  scheme="row-shift", scheme_params={"reach": 1})


@pytest.fixture(scope="module")
def tiny():
    return tiny_design()


def _image(design, dead=(), links=(), with_design=True):
    defects = DefectMap(design.rows, design.cols, list(dead), list(links), design=design.name)
    report = repair_wafer(design, defects)
    assert report.repairable, report.repair_map.reason
    return parse_image(build_image(report.repair_map, design=design if with_design else None))


def test_site_classes_of_a_row_shift_map(tiny):
    # tiny: 8x10 physical, 6x8 logical on rows 1..6 and nominal columns 1..8; (2, 3) dead, (4, 0) dead
    fi = _image(tiny, dead=[2 * 10 + 3, 4 * 10 + 0])
    cls = site_classes(fi)
    assert cls[0].tolist() == [BYPASSED] * 10                      # spare row
    assert cls[1].tolist() == [BYPASSED] + [IN_PLACE] * 8 + [BYPASSED]
    # row 2: the cores right of the dead site move one right, onto the spare at column 9
    assert cls[2].tolist() == [BYPASSED] + [IN_PLACE] * 2 + [DEAD] + [MOVED] * 6
    assert cls[4].tolist() == [DEAD] + [IN_PLACE] * 8 + [BYPASSED]  # a dead spare moves nothing
    s = inspect_image(fi).to_dict()
    assert s["dead_cores"] == 2 and s["moved_cores"] == 6
    assert s["serving_sites"] == 48 and s["mapped_out_sites"] == 80 - 48
    assert s["absent_sites"] == 0 and s["explicit_map_rows"] == 0


@pytest.mark.parametrize("scheme,params", [("row-shift", {"reach": 1}), ("block", {"b": 2, "s": 1}),
                                           ("row-col", {"d": 1}), ("none", {})])
def test_a_defect_free_wafer_has_every_core_in_place_in_every_scheme(scheme, params):
    # regression: on a defect-free block wafer, 'firmware inspect' reported 192 of 256 cores as 'spare used'
    design = Design(name="t", rows=8, cols=12, pitch_x_mm=1.0, pitch_y_mm=1.0, logical_rows=8, logical_cols=8,
                    scheme=scheme, scheme_params=params)
    for with_design in (True, False):
        fi = _image(design, with_design=with_design)
        s = inspect_image(fi, design if with_design else None).to_dict()
        assert s["moved_cores"] == 0 and s["serving_sites"] == 64, (scheme, with_design)
    if scheme != "none":
        fi = _image(design, dead=[int(fi.repair_map.physical_of_logical[0, 0])])
        assert inspect_image(fi, design).to_dict()["moved_cores"] >= 1


def test_absent_sites_appear_when_the_image_knows_them():
    wse = load_design("wse")
    empty = DefectMap.empty(wse)
    fi = parse_image(build_image(repair_wafer(wse, empty).repair_map, design=wse))
    cls = site_classes(fi)
    assert (cls == ABSENT).sum() == wse.rows * wse.cols - wse.existing_sites
    assert cls[0, 0] == ABSENT and cls[600, 400] == IN_PLACE
    assert inspect_image(fi).to_dict()["absent_sites"] == 2288
    fi2 = parse_image(build_image(repair_wafer(wse, empty).repair_map))
    assert fi2.absent_sites is None and inspect_image(fi2).to_dict()["absent_sites"] is None


def test_plot_returns_a_figure_and_draws_on_a_given_axes(tiny):
    from matplotlib.figure import Figure

    fi = _image(tiny, dead=[23])
    fig = plot_image(fi)
    assert isinstance(fig, Figure)
    images = fig.axes[0].get_images()
    assert len(images) == 1 and images[0].get_array().shape == (8, 10)   # one raster, not a patch per core
    own = Figure()
    ax = own.add_subplot()
    assert plot_image(fi, ax=ax, origin="lower", title="t") is own
    assert ax.get_title() == "t"


def test_diff_between_two_images(tiny):
    old = _image(tiny)
    new = _image(tiny, dead=[2 * 10 + 3])
    d = diff_images(old, new, limit=3)
    assert d["n_newly_dead"] == 1 and d["newly_dead"] == [[2, 3]]
    assert d["n_newly_mapped_out"] == 1 and d["newly_mapped_out"] == [[2, 3]]
    assert d["n_moved"] == 6 and len(d["moved"]) == 3                   # logical (1, 2..7) shift right
    assert d["moved"][0] == {"logical": [1, 2], "old": [2, 3], "new": [2, 4]}
    # (2, 9) now serves: bypass cleared; links around the skipped site change
    changed = {tuple(e["physical"]) for e in diff_images(old, new, limit=100)["router_changed"]}
    assert (2, 9) in changed
    rows = diff_records(d)
    assert {r["change"] for r in rows} == {"mapped_out", "dead", "moved", "router"}
    assert all(list(r)[0] == "change" for r in rows)
    assert diff_images(old, old)["n_router_changed"] == 0


def test_diff_refuses_different_grids(tiny):
    other = tiny_design(rows=9)
    with pytest.raises(InputError, match="different physical grids"):
        diff_images(_image(tiny), _image(other))


def test_summary_counts_match_sections(tiny):
    fi = _image(tiny, dead=[23], links=[2 * 5 + 1])
    s = inspect_image(fi).to_dict()
    by_name = {x["name"]: x for x in s["sections"]}
    assert by_name["DEAD_CORES"]["count"] == 1 and by_name["DEAD_LINKS"]["count"] == 1
    assert s["enabled_east_links"] == int(fi.router[1].sum())
    assert np.isclose(s["map_router_bytes_per_core"], (by_name["MAP"]["length"] + by_name["ROUTER"]["length"]) / 48)
