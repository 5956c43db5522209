"""Designs: presets, geometry, and malformed TOML rejected by key."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from yieldkit.design import DesignError, list_presets, load_design

SMALL_TOML = """
[design]
name = "t"
[wafer]
diameter_mm = 300.0
edge_exclusion_mm = 3.0
[grid]
rows = 10
cols = 12
pitch_mm = 1.0
[logical]
rows = 10
cols = 10
[redundancy]
scheme = "row-shift"
reach = 1
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "d.toml"
    path.write_text(text)
    return path


def test_presets_are_listed_and_load() -> None:
    assert {"wse", "small"} <= set(list_presets())
    for name in list_presets():
        assert load_design(name).existing_sites > 0


def test_wse_matches_public_figures() -> None:
    d = load_design("wse")
    s = d.to_dict()
    assert (s["logical_rows"], s["logical_cols"], s["logical_cores"]) == (1172, 762, 893_064)
    assert abs(s["grid_area_mm2"] - 46_225) / 46_225 < 1e-3
    assert 960_000 <= s["existing_sites"] <= 980_000
    assert 0.045 <= s["site_area_mm2"] <= 0.055
    # The square's corners are clipped by the usable circle, the middle is not.
    assert not d.site_exists[0, 0] and not d.site_exists[-1, -1]
    assert d.site_exists[d.rows // 2].all()
    assert s["min_spares_per_row"] >= 1


def test_site_exists_is_the_cell_inside_the_circle() -> None:
    d = load_design("wse")
    rows, cols = np.nonzero(d.site_exists)
    # farthest corner of each existing cell lies inside the usable radius
    x = d.x0_mm + (cols + (cols >= d.cols / 2)) * d.pitch_x_mm
    y = d.y0_mm - (rows + (rows >= d.rows / 2)) * d.pitch_y_mm
    assert np.all(np.hypot(x, y) <= d.usable_radius_mm + 1e-9)
    # and the clipped area is about the square's area outside the circle
    assert d.existing_sites < d.n_sites


def test_small_has_four_spares_everywhere() -> None:
    d = load_design("small")
    assert d.existing_sites == d.n_sites == 64 * 68
    assert np.all(d.spares_per_row == 4)


def test_fingerprint_changes_with_the_grid() -> None:
    d = load_design("small")
    assert d.fingerprint == load_design("small").fingerprint
    assert d.with_spares_per_row(2).fingerprint != d.fingerprint


def test_pitch_from_core_area(tmp_path: Path) -> None:
    d = load_design(write(tmp_path, SMALL_TOML.replace("pitch_mm = 1.0", "core_area_mm2 = 0.25")))
    assert math.isclose(d.pitch_x_mm, 0.5) and math.isclose(d.pitch_y_mm, 0.5)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("rows = 10\ncols = 12", "rows = -10\ncols = 12", "grid.rows"),
        ("pitch_mm = 1.0", "pitch_mm = 0.0", "grid.pitch_mm"),
        ("[logical]\nrows = 10\ncols = 10", "[logical]\nrows = 10\ncols = 13", "logical.cols"),
        ("[logical]\nrows = 10", "[logical]\nrows = 11", "logical.rows"),
        ("scheme = ", "colour = 3\nscheme = ", "redundancy.colour"),
        ("[wafer]", "[wafer]\nnotch = 1", "wafer.notch"),
        ("[design]", "[desing]", "desing"),
        ("pitch_mm = 1.0", "pitch_mm = 'big'", "grid.pitch_mm"),
        ("edge_exclusion_mm = 3.0", "edge_exclusion_mm = 200.0", "wafer.edge_exclusion_mm"),
    ],
)
def test_malformed_design_names_the_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    text = SMALL_TOML.replace(old, new)
    assert text != SMALL_TOML
    with pytest.raises(DesignError, match=key.replace(".", r"\.")):
        load_design(write(tmp_path, text))


def test_logical_grid_larger_than_the_wafer(tmp_path: Path) -> None:
    text = SMALL_TOML.replace("rows = 10\ncols = 12\npitch_mm = 1.0", "rows = 400\ncols = 400\npitch_mm = 1.0")
    text = text.replace("[logical]\nrows = 10\ncols = 10", "[logical]\nrows = 400\ncols = 400")
    with pytest.raises(DesignError, match="usable circle"):
        load_design(write(tmp_path, text))


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DesignError, match="invalid TOML"):
        load_design(write(tmp_path, "[grid\nrows=1"))
    with pytest.raises(DesignError, match="not a preset"):
        load_design(tmp_path / "absent.toml")
    with pytest.raises(DesignError, match="missing table 'logical'"):
        load_design(write(tmp_path, "[grid]\nrows=1\ncols=1\npitch_mm=1.0"))
