"""The defect-model TOML file: round trip, provenance, strict keys, atomic writes, overrides."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from yieldkit.defects import DefectModel, DefectModelError
from yieldkit.errors import InputError
from yieldkit.model_file import Provenance, apply_overrides, file_sha256, load_model, save_model

MODELS = [
    DefectModel(0.12),
    DefectModel(0.1, alpha=2.5, spatial="radial", radial_beta=0.8, radial_power=3.0, x0_um=0.25,
                max_size_um=800.0, kill_probability=0.6, link_fraction=0.05),
    DefectModel(1e-5, alpha=0.3, spatial="thomas", cluster_mean_size=7.0, cluster_sigma_mm=1.5, x0_um=0.0),
]


@pytest.mark.parametrize("model", MODELS, ids=["poisson", "radial", "thomas"])
def test_round_trip(tmp_path: Path, model: DefectModel) -> None:
    data = tmp_path / "lot.klarf"
    data.write_text("FileVersion 1 2;\n")
    prov = Provenance.from_files([data], method="calibrate: ML over reticle fields", design="wse",
                                 notes='quote " and \\ and ü', estimates={"d0_ci_low": 0.11, "n_wafers": 25,
                                                                          "lr test": "p=0.01", "ok": True})
    path = tmp_path / "model.toml"
    save_model(model, path, prov)
    back, back_prov = load_model(path)
    assert back == model
    assert back_prov == prov
    assert back_prov.sources == ((str(data), hashlib.sha256(b"FileVersion 1 2;\n").hexdigest()),)
    assert back_prov.date.endswith("Z") and back_prov.yieldkit_version
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lot.klarf", "model.toml"]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.toml"
    path.write_text('format = "yieldkit.defect-model"\nversion = 1\n' + text)
    return path


def test_unknown_keys_are_named_with_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "[model]\nd0_per_cm2 = 0.1\nd0 = 0.2\n")
    with pytest.raises(InputError, match=r"m.toml: unknown key 'model.d0'"):
        load_model(path)
    path = _write(tmp_path, "[model]\nd0_per_cm2 = 0.1\n[provenance]\nauthor = 'me'\n")
    with pytest.raises(InputError, match=r"m.toml: unknown key 'provenance.author'"):
        load_model(path)
    path = _write(tmp_path, "colour = 1\n[model]\nd0_per_cm2 = 0.1\n")
    with pytest.raises(InputError, match=r"m.toml: unknown key 'colour'"):
        load_model(path)
    path = _write(tmp_path, "[model]\nd0_per_cm2 = 0.1\n[[provenance.sources]]\npath = 'a'\nsha256 = 'b'\nsize = 3\n")
    with pytest.raises(InputError, match=r"unknown key 'provenance.sources\[0\].size'"):
        load_model(path)


def test_bad_values_and_files(tmp_path: Path) -> None:
    path = _write(tmp_path, "[model]\nd0_per_cm2 = -1.0\n")
    with pytest.raises(DefectModelError, match=r"m.toml: model.d0_per_cm2: must be >= 0"):
        load_model(path)
    path = _write(tmp_path, "[model]\nalpha = 1.0\n")
    with pytest.raises(InputError, match="missing key 'model.d0_per_cm2'"):
        load_model(path)
    path = _write(tmp_path, "[model\n")
    with pytest.raises(InputError, match=r"m.toml: invalid TOML .*line 3"):
        load_model(path)
    path.write_text("[model]\nd0_per_cm2 = 0.1\n")
    with pytest.raises(InputError, match="not a defect model file"):
        load_model(path)
    with pytest.raises(InputError, match="cannot read"):
        load_model(tmp_path / "missing.toml")


def test_minimal_hand_written_file(tmp_path: Path) -> None:
    model, prov = load_model(_write(tmp_path, "[model]\nd0_per_cm2 = 0.2\nalpha = 3\n"))
    assert model == DefectModel(0.2, alpha=3.0) and prov.sources == ()


def test_flags_override_the_file() -> None:
    model = MODELS[1]
    assert apply_overrides(model, {"d0_per_cm2": None, "alpha": None}) is model
    assert apply_overrides(model, {"alpha": 5.0}).alpha == 5.0
    with pytest.raises(DefectModelError, match="radial_beta"):
        apply_overrides(model, {"spatial": "uniform"})
    with pytest.raises(InputError, match="unknown defect model parameter 'd0'"):
        apply_overrides(model, {"d0": 1.0})


def test_sha256_of_a_file(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"abc")
    assert file_sha256(tmp_path / "a") == hashlib.sha256(b"abc").hexdigest()


def test_numpy_numbers_are_written_as_plain_toml(tmp_path: Path) -> None:
    import numpy as np

    model = DefectModel(np.float64(0.25), alpha=np.float64(1.5))
    path = tmp_path / "np.toml"
    save_model(model, path, Provenance(estimates={"n": np.int64(3), "x": np.float64(0.5), "ok": np.bool_(True)}))
    assert "np." not in path.read_text()
    back, prov = load_model(path)
    assert back == model and prov.estimates == {"n": 3, "x": 0.5, "ok": True}
