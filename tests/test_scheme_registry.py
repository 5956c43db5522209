"""The scheme registry drives validation: every command sees the same checks when a design is loaded."""

from __future__ import annotations

import io
import math
import re
import time
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from yieldkit.design import MAX_SITES, DesignError, load_design
from yieldkit.redundancy import SCHEMES, describe_schemes, parse_scheme_params, resolve_scheme_params
from yieldkit.redundancy.specs import SchemeError, scheme_reach
from yieldkit.repair_map import RepairMap, RepairMapError
from tests.cli_runner import run

SMALL_TOML = (resources.files("yieldkit") / "presets" / "small.toml").read_text(encoding="utf-8")


def small_copy(tmp_path: Path, old: str, new: str) -> str:
    text = SMALL_TOML.replace(old, new)
    assert text != SMALL_TOML
    path = tmp_path / "copy.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)



@pytest.mark.parametrize("value,reason", [("-1", "must be an integer >= 0 or 'inf'"), ('"one"', "got 'one'"),
                                          ("1.5", "got 1.5"), ("true", "got True")])
def test_a_bad_reach_is_rejected_when_the_design_is_loaded(tmp_path: Path, value: str, reason: str) -> None:
    # regression: simulate gave full_fabric_yield 0.998 for reach = -1 (treated as unlimited) and exited 1
    # with a raw ValueError for reach = "one", while repair rejected the same file
    path = small_copy(tmp_path, "reach = 1", f"reach = {value}")
    with pytest.raises(DesignError, match=r"copy\.toml: redundancy\.reach: .*" + re.escape(reason)):
        load_design(path)
    for command in (["simulate", "--design", path, "--d0", "0.3", "--wafers", "10"], ["repair", "--design", path, "--seed", "1",
                                                                       "--out", str(tmp_path / "x.npz")]):
        result = run(*command)
        assert result.exit_code == 2, (command, result.output)
        assert "redundancy.reach" in result.output and "Traceback" not in result.output
        assert not (tmp_path / "x.npz").exists()


def test_an_unknown_scheme_parameter_is_rejected(tmp_path: Path) -> None:
    path = small_copy(tmp_path, "reach = 1", "reach = 1\nreech = 2")
    with pytest.raises(DesignError, match=r"redundancy\.reech: scheme 'row-shift' has no parameter 'reech'"):
        load_design(path)


def test_a_huge_grid_is_rejected_at_once_naming_the_key(tmp_path: Path) -> None:
    # regression: 1e8 x 1e8 sites took 16 s and 4.7 GB before 'out of memory'
    text = SMALL_TOML.replace("rows = 64\ncols = 68", "rows = 100000000\ncols = 100000000")
    path = tmp_path / "huge.toml"
    path.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(DesignError, match=r"huge\.toml: grid\.rows x grid\.cols = 100000000 x 100000000"):
        load_design(str(path))
    assert time.perf_counter() - start < 1.0
    assert MAX_SITES > load_design("wse").n_sites


def test_unlimited_is_spelled_inf_and_parsed_once() -> None:
    assert parse_scheme_params("row-col", {"d": float("inf"), "sr": "2"}) == {"d": "inf", "sr": 2}
    assert parse_scheme_params("row-shift", {"reach": "Unlimited"}) == {"reach": "inf"}
    assert math.isinf(scheme_reach("row-col", {"d": "inf"})) and scheme_reach("row-col", {}) == 1
    with pytest.raises(SchemeError, match="b: must be an integer >= 1, got 0"):
        parse_scheme_params("block", {"b": 0})
    with pytest.raises(SchemeError, match="s: must be an integer >= 0, got 'inf'"):
        parse_scheme_params("block", {"s": "inf"})  # unlimited is only for reach and d
    assert resolve_scheme_params("block", {}) == {"b": 8, "s": 1, "reach": 10}


def test_repair_with_unlimited_compensation_distance(tmp_path: Path) -> None:
    # regression: --param d=inf passed validation, then died with OverflowError and exit 1
    out = tmp_path / "x.npz"
    result = run("repair", "--design", "small", "--seed", "3", "--d0", "0.5", "--scheme", "row-col", "--param", "d=inf",
                 "--out", str(out))
    assert result.exit_code in (0, 1), result.output
    assert "OverflowError" not in result.output and "Traceback" not in result.output
    if result.exit_code == 0:
        assert RepairMap.load(out).scheme_params == {"d": "inf"}


def test_describe_schemes_lists_every_scheme_and_parameter() -> None:
    text = describe_schemes()
    for name, spec in SCHEMES.items():
        assert f"{name}: {spec.label}" in text
        for p in spec.params:
            assert f"  {p.name} = " in text


@pytest.mark.parametrize("content", [b"random bytes that are not a zip", b""])
def test_a_foreign_file_is_not_a_repair_map(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "foreign.npz"
    path.write_bytes(content)
    with pytest.raises(RepairMapError, match=r"foreign\.npz: not a repair map") as info:
        RepairMap.load(path)
    assert "pickle" not in str(info.value)


def test_an_npz_with_object_arrays_is_not_a_repair_map_and_no_pickle_is_suggested(tmp_path: Path) -> None:
    # regression: numpy's message suggested allow_pickle=True, an unsafe step
    path = tmp_path / "objects.npz"
    arrays = {k: np.array([{"x": 1}], dtype=object) for k in ("meta", "physical_of_logical", "dead_sites", "dead_links")}
    np.savez(path, **arrays)
    with pytest.raises(RepairMapError, match=r"objects\.npz: not a repair map") as info:
        RepairMap.load(path)
    assert "pickle" not in str(info.value)
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.zeros(3))
    with pytest.raises(RepairMapError, match=r"other\.npz: not a repair map \(no 'meta' array\)"):
        RepairMap.load(other)
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3))
    buffer.seek(0)
    with pytest.raises(RepairMapError, match="not a repair map"):
        RepairMap.load(buffer)
