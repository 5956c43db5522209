"""The harness side never reads the fault truth: workload and detection modules do not import it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "burnin"
TRUTH_SIDE = {"burnin.truth", "burnin.simulated_wafer", "burnin.fault_model"}
HARNESS = sorted((ROOT / "workloads").glob("*.py")) + [ROOT / "findings.py", ROOT / "acceleration.py", ROOT / "sram.py"]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", HARNESS, ids=lambda p: p.name)
def test_harness_modules_do_not_import_the_truth(path: Path) -> None:
    assert not {name for name in _imports(path) if any(name == t or name.startswith(t + ".") for t in TRUTH_SIDE)}


def test_the_check_sees_an_import_of_the_truth(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from burnin.truth import FaultTruth\nimport burnin.simulated_wafer\n")
    assert {"burnin.truth", "burnin.simulated_wafer"} <= _imports(bad)
