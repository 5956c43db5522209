"""The benchmark runner: README markers exist, the generator runs, rows have the documented shape.

Timings are not checked (the machines are shared); only that the pieces work.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

bench = pytest.importorskip("benchmarks.__main__")
from benchmarks.common import machine, row  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"name", "figure", "unit", "target", "peer", "ratio", "passed", "note"}


def test_readme_has_the_generated_table_markers() -> None:
    text = (ROOT / "README.md").read_text()
    assert text.count(bench.README_BEGIN) == 1 and text.count(bench.README_END) == 1
    assert text.index(bench.README_BEGIN) < text.index(bench.README_END)


def test_generator_replaces_only_the_marked_table(tmp_path: Path) -> None:
    rows = [row("MC engine", 250_000.0, "wafers/s", ">= 200,000", True, peer=600_000.0, ratio=0.42),
            row("info", 3.0, "us/wafer", "", None, note="a | note")]
    text = (ROOT / "README.md").read_text()
    new = bench.update_readme(text, bench.readme_section(rows, machine(), quick=True))
    before, after = text.split(bench.README_BEGIN)[0], text.split(bench.README_END)[1]
    assert new.startswith(before) and new.endswith(after)
    assert "| MC engine | 250,000 | wafers/s | >= 200,000 | 600,000 | 0.42 | PASS |" in new
    assert bench.update_readme(new, bench.readme_section(rows, machine(), quick=True)).count(bench.README_BEGIN) == 1


def test_runner_writes_json_and_a_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # noqa: ANN001
    fake = type("M", (), {"rows": staticmethod(lambda quick: [row("x", 1.0, "s", "< 2", True)])})
    monkeypatch.setattr(bench, "REGISTRY", (("fake", "fake_module", True),))
    monkeypatch.setattr(bench.importlib, "import_module", lambda name: fake)
    out = tmp_path / "b.json"
    assert bench.main(["--quick", "--json", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert set(payload["rows"][0]) >= KEYS and payload["machine"]["cores"] >= 1
    printed = capsys.readouterr().out
    assert "machine:" in printed and "PASS" in printed


def test_every_registered_module_exposes_rows() -> None:
    import importlib

    for _, module, _ in bench.REGISTRY:
        assert callable(importlib.import_module(module).rows)
    for _, script, _ in bench.SCRIPTS:
        assert (ROOT / script).exists()


def test_an_unknown_benchmark_is_refused_with_exit_2(capsys) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--only", "yield,nonsense"])
    assert exit_info.value.code == 2 and "--only: unknown benchmark nonsense" in capsys.readouterr().err
