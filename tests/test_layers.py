"""The import contracts of pyproject.toml (docs/architecture.md), enforced by import-linter.

``burnin`` sits on top; ``firmware_map`` and ``db`` are independent siblings
that import only ``yieldkit``; ``yieldkit`` imports none of the others. In
``burnin`` the harness (workloads, findings) never imports the fault truth.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([LINT, "--config", "pyproject.toml", "--no-cache"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_project_keeps_its_layer_contract() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("importer, imported", [
    ("yieldkit.bad", "db"),                             # the bottom layer reaching up
    ("db.bad", "firmware_map"),                         # siblings must stay independent
    ("firmware_map.bad", "burnin"),                     # a middle layer reaching the top
    ("burnin.workloads.bad", "burnin.truth"),           # the harness reading the truth
    ("burnin.findings", "burnin.simulated_wafer"),
])
def test_the_contracts_catch_a_forbidden_import(tmp_path: Path, importer: str, imported: str) -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    lines = ["[tool.importlinter]", f"root_packages = {config['root_packages']!r}".replace("'", '"')]
    for contract in config["contracts"]:
        lines += ["[[tool.importlinter.contracts]]"]
        lines += [f"{key} = {value!r}".replace("'", '"') for key, value in contract.items()]
    (tmp_path / "pyproject.toml").write_text("\n".join(lines) + "\n")
    modules = {m for contract in config["contracts"] for key in ("source_modules", "forbidden_modules")
               for m in contract.get(key, [])} | set(config["root_packages"]) | {importer, imported}
    for module in sorted(modules):
        folder = tmp_path.joinpath(*module.split("."))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "__init__.py").write_text("")
    (tmp_path.joinpath(*importer.split(".")) / "__init__.py").write_text(f"import {imported}\n")
    result = _lint(tmp_path)
    assert result.returncode != 0, result.stdout
    assert f"{importer} -> {imported}" in result.stdout
