"""The analyst notebooks in ``notebooks/`` run top to bottom (nbclient), on a small demo database, and are stored without outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_the_three_notebooks():
    names = {p.stem for p in NOTEBOOKS}
    assert {"yield_analysis", "burnin_failure_trends", "fault_taxonomy"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs(path):
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name}: strip the outputs"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    from burnin.demo import build_demo_lot

    path = tmp_path_factory.mktemp("nb") / "burnin.db"
    build_demo_lot(path, seed=7, wafers=3, hours=12.0)
    return path


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, demo_db, tmp_path, monkeypatch):
    monkeypatch.setenv("YIELDKIT_DEMO_DB", str(demo_db))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
