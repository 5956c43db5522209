"""yieldkit repair and yieldkit plan through the CLI root: outputs, files, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from yieldkit.design import load_design
from yieldkit.repair_map import RepairMap
from yieldkit.verify import verify_repair_map
from tests.cli_runner import run



def test_repair_seed_writes_a_verified_map(tmp_path: Path) -> None:
    out = tmp_path / "w.npz"
    result = run("repair", "--design", "small", "--seed", "4", "--d0", "0.2", "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    for key in ("repairable", "logical_rows", "logical_cols", "dead_cores", "dead_links", "max_detour", "algorithm"):
        assert key in record
    assert record["repairable"] is True
    m = RepairMap.load(out)
    assert verify_repair_map(m, load_design("small")) == []


def test_repair_from_stdin_and_degraded(tmp_path: Path) -> None:
    sample = run("defects", "sample", "--design", "small", "--d0", "3", "--seed", "3")
    assert sample.exit_code == 0
    text = sample.stdout if hasattr(sample, "stdout") else sample.output
    text = text[text.index("{"):text.rindex("}") + 1]
    out = tmp_path / "d.npz"
    strict = run("repair", "--design", "small", "--defects", "-", "-o", str(out), "--json", input=text)
    assert strict.exit_code == 1 and not out.exists()
    degraded = run("repair", "--design", "small", "--defects", "-", "-o", str(out), "--allow-degraded", "--json",
                   input=text)
    assert degraded.exit_code == 0, degraded.output
    record = json.loads(degraded.output)
    assert record["repairable"] is False and record["reason"]
    m = RepairMap.load(out)
    assert not m.complete and m.logical_rows * m.logical_cols == record["logical_cores"] > 0


@pytest.mark.parametrize("args,message", [
    (["--defects", "WRONG"], "but design 'small' is 64x68"),
    (["--defects", "RANGE"], "outside the 64x68 grid"),
    (["--seed", "1", "--scheme", "warp"], "unknown redundancy scheme 'warp'"),
    (["--defects", "BINARY"], "not a defect map"),
    ([], "exactly one of --defects"),
])
def test_bad_input_one_line_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    files = {
        "WRONG": {"format": "yieldkit.defect-map", "version": 1, "rows": 10, "cols": 10, "dead_sites": [[1, 1]]},
        "RANGE": {"format": "yieldkit.defect-map", "version": 1, "rows": 64, "cols": 68, "dead_sites": [[70, 1]]},
    }
    resolved = []
    for a in args:
        if a in files:
            path = tmp_path / f"{a}.json"
            path.write_text(json.dumps(files[a]))
            resolved.append(str(path))
        elif a == "BINARY":
            path = tmp_path / "b.json"
            path.write_bytes(b"\x89\xff\x00garbage")
            resolved.append(str(path))
        else:
            resolved.append(a)
    result = run("repair", "--design", "small", *resolved, "-o", str(tmp_path / "o.npz"))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:") and message in lines[0], result.output


def test_plan_small(tmp_path: Path) -> None:
    result = run("plan", "--design", "small", "--d0", "0.3", "--alpha", "2", "--target-yield", "0.9",
                 "--wafers", "200", "--schemes", "none,row-shift", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    schemes = [r for r in rows if r["kind"] == "scheme"]
    assert {r["scheme"] for r in schemes} == {"none", "row-shift"}
    for r in schemes:
        assert r["ci_low"] <= r["full_fabric_yield"] <= r["ci_high"]
        assert "area_overhead" in r and "mean_logical_cores" in r
    comparison = [r for r in rows if r["kind"] == "comparison"]
    assert len(comparison) == 3
    assert comparison[2]["yield"] > comparison[1]["yield"]


def test_plan_bad_scheme() -> None:
    result = run("plan", "--design", "small", "--d0", "0.3", "--schemes", "warp", "--wafers", "10")
    assert result.exit_code == 2
    assert "warp" in result.output


def test_repair_block_scheme(tmp_path: Path) -> None:
    out = tmp_path / "b.npz"
    result = run("repair", "--design", "small", "--scheme", "block", "--param", "b=4", "--param", "s=0", "--seed", "2",
                 "--d0", "0.05", "-o", str(out), "--allow-degraded", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["algorithm"].startswith("block/rank")
    design = load_design("small")
    from yieldkit.repair import with_scheme

    assert verify_repair_map(RepairMap.load(out), with_scheme(design, "block", {"b": 4, "s": 0})) == []
    bad = run("repair", "--design", "small", "--scheme", "block", "--param", "b=4", "--param", "s=1", "--seed", "2",
              "-o", str(tmp_path / "x.npz"))
    assert bad.exit_code == 2 and "needs 64 rows x 80 columns" in bad.output and "Traceback" not in bad.output


def test_plan_takes_the_defect_model_options_of_simulate() -> None:
    base = ["plan", "--design", "small", "--d0", "0.3", "--target-yield", "0.9", "--wafers", "200", "--schemes", "none",
            "--quiet", "--json"]
    plain = json.loads(run(*base).output)[0]
    assert plain["full_fabric_yield"] < 0.9 and not plain["reached"]
    harmless = run(*base, "--kill-probability", "0", "--spatial", "thomas", "--cluster-size", "3")
    assert harmless.exit_code == 0, harmless.output
    row = json.loads(harmless.output)[0]
    assert row["full_fabric_yield"] == 1.0 and row["reached"]  # no defect kills: no redundancy needed
    refused = run(*base, "--radial-beta", "1")
    assert refused.exit_code == 2 and "--spatial radial" in refused.output


def test_plan_workers_do_not_change_the_result() -> None:
    args = ["plan", "--design", "small", "--d0", "0.3", "--alpha", "2", "--target-yield", "0.9", "--wafers", "200",
            "--schemes", "none,row-shift", "--quiet", "--json"]
    one = run(*args)
    two = run(*args, "--workers", "2")
    assert one.exit_code == 0 and two.exit_code == 0, two.output
    assert json.loads(one.output) == json.loads(two.output)
