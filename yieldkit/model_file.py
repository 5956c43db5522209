"""The defect model as a file: a :class:`~yieldkit.defects.DefectModel` and where its numbers came from.

A TOML file (read with :mod:`tomllib`, written by this module: the schema is
flat)::

    format = "yieldkit.defect-model"
    version = 1

    [model]                     # DefectModel fields; alpha omitted = Poisson
    d0_per_cm2 = 0.12
    alpha = 2.5
    spatial = "radial"
    radial_beta = 0.8
    radial_power = 4.0
    x0_um = 0.5
    ...

    [provenance]
    method = "calibrate: ML over reticle fields"
    date = "2026-11-29T10:45:00Z"
    yieldkit_version = "0.1.0"
    design = "wse"
    notes = ""

    [provenance.estimates]      # optional: numbers behind the model (intervals, tests)
    d0_ci_low = 0.11

    [[provenance.sources]]      # the data files, with their SHA-256
    path = "lot42.klarf"
    sha256 = "9f86d0..."

Every key is checked: an unknown one is an :class:`~yieldkit.errors.InputError`
naming the key and the file, a bad value one naming the parameter. Files are
written atomically (:mod:`yieldkit.outputs`).

Examples
--------
>>> import os, tempfile
>>> from yieldkit.defects import DefectModel
>>> path = os.path.join(tempfile.mkdtemp(), "model.toml")
>>> save_model(DefectModel(0.12, alpha=2.5), path, Provenance(method="manual", date="2026-11-29T10:45:00Z"))
>>> model, prov = load_model(path)
>>> model, prov.method
(DefectModel(d0=0.12 cm^-2, alpha=2.5, uniform, x0=0.5 um), 'manual')
>>> apply_overrides(model, {"d0_per_cm2": 0.2, "alpha": None})
DefectModel(d0=0.2 cm^-2, alpha=2.5, uniform, x0=0.5 um)
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from numbers import Integral, Real
from typing import Any

import numpy as np

from yieldkit import __version__
from yieldkit.defects import DefectModel, DefectModelError
from yieldkit.errors import InputError
from yieldkit.outputs import atomic_write

__all__ = ["FORMAT", "VERSION", "Provenance", "apply_overrides", "file_sha256", "load_model", "save_model"]

FORMAT = "yieldkit.defect-model"
VERSION = 1
_MODEL_KEYS = tuple(f.name for f in fields(DefectModel))
_PROVENANCE_KEYS = ("method", "date", "yieldkit_version", "design", "notes", "estimates", "sources")


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise InputError(f"{os.fspath(path)}: cannot read ({exc.strerror or exc})") from None
    return digest.hexdigest()


@dataclass(frozen=True)
class Provenance:
    """Where a model's numbers came from.

    Attributes
    ----------
    method : str
        How the model was made (``"manual"``, ``"calibrate: ..."``).
    date : str
        ISO 8601 UTC time of creation (filled in by :meth:`now` / :func:`save_model` when empty).
    yieldkit_version : str
    design : str
        Design the data were mapped on, if any.
    notes : str
    estimates : dict
        Numbers behind the model (intervals, test statistics): str -> number,
        str or bool; None values (an unbounded interval end) are not written.
    sources : tuple of (path, sha256)
        The data files and their SHA-256.
    """

    method: str = "manual"
    date: str = ""
    yieldkit_version: str = __version__
    design: str = ""
    notes: str = ""
    estimates: dict[str, Any] = field(default_factory=dict)
    sources: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_files(cls, paths: Iterable[str | os.PathLike[str]], **kwargs: Any) -> "Provenance":
        """A provenance listing ``paths`` with their SHA-256, dated now."""
        sources = tuple((os.fspath(p), file_sha256(p)) for p in paths)
        kwargs.setdefault("date", _now())
        return cls(sources=sources, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "date": self.date, "yieldkit_version": self.yieldkit_version,
                "design": self.design, "notes": self.notes, "estimates": dict(self.estimates),
                "sources": [{"path": p, "sha256": h} for p, h in self.sources]}

    def __repr__(self) -> str:
        return f"Provenance({self.method}, {self.date or 'undated'}, {len(self.sources)} source files)"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _toml_value(value: Any, where: str) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        value = float(value)
        if not math.isfinite(value):
            return {math.inf: "inf", -math.inf: "-inf"}.get(value, "nan")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise InputError(f"cannot write {type(value).__name__} to TOML", parameter=where)


def _key(name: str) -> str:
    return name if name and all(c.isalnum() or c in "_-" for c in name) else json.dumps(name)


def save_model(model: DefectModel, path: str | os.PathLike[str], provenance: Provenance | None = None) -> None:
    """Write ``model`` and its provenance as a TOML model file (atomically).

    Parameters
    ----------
    model : DefectModel
    path : str or path-like
    provenance : Provenance, optional
        Default: ``method="manual"``, dated now.
    """
    prov = provenance or Provenance()
    if not prov.date:
        prov = replace(prov, date=_now())
    lines = ["# yieldkit defect model", f'format = "{FORMAT}"', f"version = {VERSION}", "", "[model]"]
    for name, value in model.to_dict().items():
        if value is None:
            continue
        lines.append(f"{name} = {_toml_value(value, name)}")
    lines += ["", "[provenance]"]
    for name in ("method", "date", "yieldkit_version", "design", "notes"):
        lines.append(f"{name} = {_toml_value(getattr(prov, name), name)}")
    if prov.estimates:
        lines += ["", "[provenance.estimates]"]
        for name, value in prov.estimates.items():
            if value is None:  # an unbounded interval end (TOML has no null)
                continue
            lines.append(f"{_key(name)} = {_toml_value(value, f'estimates.{name}')}")
    for source, digest in prov.sources:
        lines += ["", "[[provenance.sources]]", f"path = {_toml_value(source, 'path')}",
                  f"sha256 = {_toml_value(digest, 'sha256')}"]
    with atomic_write(path, "w") as out:
        out.write("\n".join(lines) + "\n")


def _unknown(table: Mapping[str, Any], allowed: Iterable[str], prefix: str, source: str) -> None:
    for key in table:
        if key not in allowed:
            raise InputError(f"{source}: unknown key '{prefix}{key}' (known: {', '.join(allowed)})")


def load_model(path: str | os.PathLike[str]) -> tuple[DefectModel, Provenance]:
    """Read a model file written by :func:`save_model` (or by hand).

    Returns
    -------
    model : DefectModel
    provenance : Provenance

    Raises
    ------
    InputError
        Unreadable file, invalid TOML (with its line), an unknown key (named
        with the file), a missing table, a value out of range (naming ``model.<field>``).
    """
    source = os.fspath(path)
    try:
        text = Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{source}: cannot read ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: invalid TOML ({exc})") from None
    _unknown(data, ("format", "version", "model", "provenance"), "", source)
    if data.get("format") != FORMAT:
        raise InputError(f"{source}: not a defect model file: expected format = \"{FORMAT}\"")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= VERSION:
        raise InputError(f"{source}: model file version {version!r} is not supported (this reader knows 1..{VERSION})")
    table = data.get("model")
    if not isinstance(table, dict):
        raise InputError(f"{source}: missing table [model]")
    _unknown(table, _MODEL_KEYS, "model.", source)
    if "d0_per_cm2" not in table:
        raise InputError(f"{source}: missing key 'model.d0_per_cm2'")
    try:
        model = DefectModel(**table)
    except DefectModelError as exc:
        raise DefectModelError(f"{source}: model.{exc.parameter}: {exc.reason}") from None
    except TypeError as exc:
        raise InputError(f"{source}: [model]: {exc}") from None
    prov_table = data.get("provenance", {})
    if not isinstance(prov_table, dict):
        raise InputError(f"{source}: 'provenance' must be a table")
    _unknown(prov_table, _PROVENANCE_KEYS, "provenance.", source)
    for name in ("method", "date", "yieldkit_version", "design", "notes"):
        if not isinstance(prov_table.get(name, ""), str):
            raise InputError(f"{source}: provenance.{name} must be a string")
    estimates = prov_table.get("estimates", {})
    if not isinstance(estimates, dict) or any(isinstance(v, (dict, list)) for v in estimates.values()):
        raise InputError(f"{source}: provenance.estimates must be a table of numbers, strings or booleans")
    sources = []
    for i, item in enumerate(prov_table.get("sources", [])):
        if not isinstance(item, dict):
            raise InputError(f"{source}: provenance.sources[{i}] must be a table with path and sha256")
        _unknown(item, ("path", "sha256"), f"provenance.sources[{i}].", source)
        if not isinstance(item.get("path"), str) or not isinstance(item.get("sha256"), str):
            raise InputError(f"{source}: provenance.sources[{i}] needs string keys path and sha256")
        sources.append((item["path"], item["sha256"]))
    prov = Provenance(**{k: prov_table[k] for k in ("method", "date", "yieldkit_version", "design", "notes")
                         if k in prov_table}, estimates=dict(estimates), sources=tuple(sources))
    return model, prov


def apply_overrides(model: DefectModel, overrides: Mapping[str, Any]) -> DefectModel:
    """``model`` with the parameters the user gave explicitly (values that are not None).

    How ``--model FILE`` combines with the individual flags: the file gives
    every parameter, a flag the user typed replaces one. Unknown names are an
    InputError; the combination is checked like any DefectModel.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    for key in given:
        if key not in _MODEL_KEYS:
            raise InputError(f"unknown defect model parameter {key!r}", parameter=key)
    return replace(model, **given) if given else model
