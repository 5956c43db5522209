"""Wafer-scale processor designs: physical grid, wafer, tiling, redundancy.

A design is a TOML file (presets ship in ``yieldkit/presets``)::

    [design]
    name = "small"
    description = "..."

    [wafer]
    diameter_mm = 300.0
    edge_exclusion_mm = 3.0

    [grid]                      # physical core sites, centred on the wafer
    rows = 64
    cols = 66
    pitch_x_mm = 1.0            # or pitch_mm (square), or core_area_mm2
    pitch_y_mm = 1.0

    [tiling]                    # reticle fields (dies) stitched on the wafer
    reticle_rows = 4
    reticle_cols = 4

    [logical]                   # the grid the firmware must present
    rows = 64
    cols = 64

    [redundancy]
    scheme = "row-shift"        # plus the scheme's own parameters
    reach = 1

Coordinates: physical site ``(row, col)`` has flat index ``row * cols + col``;
row 0 is the top of the wafer (largest y, notch at the bottom), col 0 the left
edge. The grid is centred on the wafer centre. A site exists when its whole
cell lies inside the usable circle (radius = diameter / 2 - edge exclusion):
the corners of a wafer-scale square are clipped by the wafer edge.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from yieldkit.errors import InputError

__all__ = ["Design", "DesignError", "load_design", "list_presets", "MAX_SITES"]

#: Largest physical grid accepted [sites]: 16x the ``wse`` preset. Dense per-site arrays
#: (existence mask, link planes, router planes) stay within a few hundred MB.
MAX_SITES = 1 << 24


class DesignError(InputError):
    """A design file or preset is malformed; the message names the key."""


_SCHEMA: dict[str, set[str]] = {
    "design": {"name", "description"},
    "wafer": {"diameter_mm", "edge_exclusion_mm"},
    "grid": {"rows", "cols", "pitch_mm", "pitch_x_mm", "pitch_y_mm", "core_area_mm2"},
    "tiling": {"reticle_rows", "reticle_cols"},
    "logical": {"rows", "cols"},
    "redundancy": None,  # type: ignore[dict-item]  # scheme parameters are open
}


@dataclass(frozen=True, eq=False)
class Design:
    """A wafer-scale processor design.

    Attributes
    ----------
    name : str
    rows, cols : int
        Physical grid of core sites.
    pitch_x_mm, pitch_y_mm : float
        Core site pitch along a row (x) and along a column (y) [mm].
    wafer_diameter_mm, edge_exclusion_mm : float
        Wafer size and the unusable ring at its edge [mm].
    logical_rows, logical_cols : int
        The logical grid ("standard fabric") the firmware must present.
    reticle_rows, reticle_cols : int
        Reticle fields (dies) tiling the physical grid.
    scheme : str
        Redundancy scheme name (``none``, ``row-shift``, ``row-col``, ``block``).
    scheme_params : dict
        The scheme's parameters as given in ``[redundancy]``, checked and
        normalised by the scheme registry (``yieldkit.redundancy.specs``):
        integers, or ``"inf"`` for unlimited.

    Examples
    --------
    >>> d = Design("tiny", rows=4, cols=6, pitch_x_mm=1.0, pitch_y_mm=1.0, logical_rows=4, logical_cols=4,
    ...            scheme="row-shift", scheme_params={"reach": "unlimited"})
    >>> d
    Design('tiny', 4x6 sites, 4x4 logical, row-shift {'reach': 'inf'})
    """

    name: str
    rows: int
    cols: int
    pitch_x_mm: float
    pitch_y_mm: float
    logical_rows: int
    logical_cols: int
    wafer_diameter_mm: float = 300.0
    edge_exclusion_mm: float = 3.0
    reticle_rows: int = 1
    reticle_cols: int = 1
    scheme: str = "none"
    scheme_params: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def __getstate__(self) -> dict[str, Any]:
        """The fields only: the cached masks are derived, and would make every pickled task ~1 MB on ``wse``."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # -- geometry -------------------------------------------------------
    @property
    def n_sites(self) -> int:
        """Sites of the full rectangular grid, existing or not."""
        return self.rows * self.cols

    @property
    def site_area_mm2(self) -> float:
        """Area of one core site [mm^2]."""
        return self.pitch_x_mm * self.pitch_y_mm

    @property
    def grid_width_mm(self) -> float:
        return self.cols * self.pitch_x_mm

    @property
    def grid_height_mm(self) -> float:
        return self.rows * self.pitch_y_mm

    @property
    def usable_radius_mm(self) -> float:
        """Radius of the usable circle [mm]: diameter / 2 - edge exclusion."""
        return self.wafer_diameter_mm / 2.0 - self.edge_exclusion_mm

    @property
    def x0_mm(self) -> float:
        """x of the left edge of column 0, wafer centre at x = 0 [mm]."""
        return -self.grid_width_mm / 2.0

    @property
    def y0_mm(self) -> float:
        """y of the top edge of row 0, wafer centre at y = 0 [mm]."""
        return self.grid_height_mm / 2.0

    @cached_property
    def site_exists(self) -> np.ndarray:
        """Boolean (rows, cols) mask: the whole site cell is inside the usable circle."""
        x_left = self.x0_mm + np.arange(self.cols) * self.pitch_x_mm
        y_top = self.y0_mm - np.arange(self.rows) * self.pitch_y_mm
        far_x = np.maximum(np.abs(x_left), np.abs(x_left + self.pitch_x_mm))
        far_y = np.maximum(np.abs(y_top), np.abs(y_top - self.pitch_y_mm))
        mask = far_y[:, None] ** 2 + far_x[None, :] ** 2 <= self.usable_radius_mm**2
        mask.setflags(write=False)
        return mask

    @cached_property
    def sites_per_row(self) -> np.ndarray:
        """Number of existing sites in each physical row."""
        counts = self.site_exists.sum(axis=1)
        counts.setflags(write=False)
        return counts

    @property
    def existing_sites(self) -> int:
        return int(self.sites_per_row.sum())

    @property
    def existing_area_cm2(self) -> float:
        """Silicon area of the existing sites [cm^2]."""
        return self.existing_sites * self.site_area_mm2 / 100.0

    @property
    def logical_cores(self) -> int:
        return self.logical_rows * self.logical_cols

    @property
    def logical_row_offset(self) -> int:
        """First physical row of the band of rows that carry logical rows.

        Schemes without spare rows use the central ``logical_rows`` physical
        rows; the rows above and below (clipped by the wafer edge on a
        wafer-scale square) are spare rows.
        """
        return (self.rows - self.logical_rows) // 2

    @property
    def spares_per_row(self) -> np.ndarray:
        """Spare sites of each physical row of the logical band: existing sites - logical cols."""
        band = self.sites_per_row[self.logical_row_offset : self.logical_row_offset + self.logical_rows]
        return band.astype(np.int64) - self.logical_cols

    def with_spares_per_row(self, spares: int) -> "Design":
        """The same design with ``logical_cols + spares`` physical columns."""
        if spares < 0:
            raise DesignError(f"spares per row must be >= 0, got {spares}")
        return replace(self, cols=self.logical_cols + int(spares))

    @property
    def fingerprint(self) -> str:
        """SHA-256 (hex) of the resolved physical and logical parameters.

        Images and repair maps carry it so that a map is never applied to a
        design it was not planned for.
        """
        keys = ("rows", "cols", "pitch_x_mm", "pitch_y_mm", "logical_rows", "logical_cols",
                "wafer_diameter_mm", "edge_exclusion_mm", "scheme")
        payload = {k: getattr(self, k) for k in keys} | {"scheme_params": self.scheme_params}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def __repr__(self) -> str:
        return (f"Design({self.name!r}, {self.rows}x{self.cols} sites, {self.logical_rows}x{self.logical_cols} logical, "
                f"{self.scheme} {self.scheme_params})")

    def to_dict(self) -> dict[str, Any]:
        """Resolved parameters, as printed by ``yieldkit design show`` (a flat, JSON-safe record)."""
        spares = self.spares_per_row
        return {
            "name": self.name,
            "rows": self.rows,
            "cols": self.cols,
            "existing_sites": self.existing_sites,
            "logical_rows": self.logical_rows,
            "logical_cols": self.logical_cols,
            "logical_cores": self.logical_cores,
            "spare_sites": self.existing_sites - self.logical_cores,
            "min_spares_per_row": int(spares.min()),
            "max_spares_per_row": int(spares.max()),
            "pitch_x_mm": self.pitch_x_mm,
            "pitch_y_mm": self.pitch_y_mm,
            "site_area_mm2": self.site_area_mm2,
            "grid_area_mm2": self.grid_width_mm * self.grid_height_mm,
            "existing_area_cm2": self.existing_area_cm2,
            "wafer_diameter_mm": self.wafer_diameter_mm,
            "edge_exclusion_mm": self.edge_exclusion_mm,
            "reticle_rows": self.reticle_rows,
            "reticle_cols": self.reticle_cols,
            "scheme": self.scheme,
            "scheme_params": dict(self.scheme_params),
        }


    def __post_init__(self) -> None:
        _validate(self)


def _positive(value: Any, key: str, kind: type = float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DesignError(f"{key} must be a number, got {value!r}")
    if kind is int and (not isinstance(value, int)):
        raise DesignError(f"{key} must be an integer, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise DesignError(f"{key} must be positive, got {value!r}")


def _validate(d: Design) -> None:
    _positive(d.rows, "grid.rows", int)
    _positive(d.cols, "grid.cols", int)
    if d.rows * d.cols > MAX_SITES:
        raise DesignError(f"grid.rows x grid.cols = {d.rows} x {d.cols} = {d.rows * d.cols:,} sites, more than the "
                          f"{MAX_SITES:,} this tool handles")
    _positive(d.pitch_x_mm, "grid.pitch_x_mm")
    _positive(d.pitch_y_mm, "grid.pitch_y_mm")
    _positive(d.logical_rows, "logical.rows", int)
    _positive(d.logical_cols, "logical.cols", int)
    _positive(d.wafer_diameter_mm, "wafer.diameter_mm")
    _positive(d.reticle_rows, "tiling.reticle_rows", int)
    _positive(d.reticle_cols, "tiling.reticle_cols", int)
    if not (isinstance(d.edge_exclusion_mm, (int, float)) and 0 <= d.edge_exclusion_mm < d.wafer_diameter_mm / 2):
        raise DesignError(f"wafer.edge_exclusion_mm must be in [0, diameter/2), got {d.edge_exclusion_mm!r}")
    if d.logical_rows > d.rows:
        raise DesignError(f"logical.rows ({d.logical_rows}) exceeds grid.rows ({d.rows})")
    if d.logical_cols > d.cols:
        raise DesignError(f"logical.cols ({d.logical_cols}) exceeds grid.cols ({d.cols})")
    if d.logical_rows * d.logical_cols > d.existing_sites:
        raise DesignError(
            f"logical grid ({d.logical_rows}x{d.logical_cols}) needs more cores than the "
            f"{d.existing_sites} sites inside the usable circle"
        )
    _validate_scheme(d)


def _validate_scheme(d: Design) -> None:
    """Check the scheme and its parameters through the registry and store them normalised."""
    from yieldkit.redundancy.specs import check_scheme_fits, parse_scheme_params

    if not isinstance(d.scheme_params, dict):
        raise DesignError(f"redundancy parameters must be a table, got {d.scheme_params!r}")
    try:
        params = parse_scheme_params(d.scheme, d.scheme_params)
        check_scheme_fits(d.scheme, params, d.rows, d.cols, d.logical_rows, d.logical_cols)
    except InputError as exc:
        raise DesignError(exc.reason, parameter=f"redundancy.{exc.parameter}" if exc.parameter else None) from None
    object.__setattr__(d, "scheme_params", params)


def _from_mapping(data: dict[str, Any], source: str) -> Design:
    for section, value in data.items():
        if section not in _SCHEMA:
            raise DesignError(f"{source}: unknown key '{section}'")
        if not isinstance(value, dict):
            raise DesignError(f"{source}: '{section}' must be a table")
        allowed = _SCHEMA[section]
        if allowed is not None:
            for key in value:
                if key not in allowed:
                    raise DesignError(f"{source}: unknown key '{section}.{key}'")
    for section in ("grid", "logical"):
        if section not in data:
            raise DesignError(f"{source}: missing table '{section}'")
    grid, logical = data["grid"], data["logical"]
    for key in ("rows", "cols"):
        if key not in grid:
            raise DesignError(f"{source}: missing key 'grid.{key}'")
        if key not in logical:
            raise DesignError(f"{source}: missing key 'logical.{key}'")
    pitch_x, pitch_y = _pitch(grid, source)
    wafer = data.get("wafer", {})
    tiling = data.get("tiling", {})
    redundancy = dict(data.get("redundancy", {"scheme": "none"}))
    scheme = redundancy.pop("scheme", "none")
    meta = data.get("design", {})
    try:
        return Design(
            name=str(meta.get("name", Path(source).stem)),
            description=str(meta.get("description", "")),
            rows=grid["rows"],
            cols=grid["cols"],
            pitch_x_mm=pitch_x,
            pitch_y_mm=pitch_y,
            logical_rows=logical["rows"],
            logical_cols=logical["cols"],
            wafer_diameter_mm=wafer.get("diameter_mm", 300.0),
            edge_exclusion_mm=wafer.get("edge_exclusion_mm", 3.0),
            reticle_rows=tiling.get("reticle_rows", 1),
            reticle_cols=tiling.get("reticle_cols", 1),
            scheme=scheme,
            scheme_params=redundancy,
        )
    except DesignError as exc:
        raise DesignError(f"{source}: {exc}") from None


def _pitch(grid: dict[str, Any], source: str) -> tuple[float, float]:
    given = [k for k in ("pitch_mm", "pitch_x_mm", "core_area_mm2") if k in grid]
    if "pitch_y_mm" in grid and "pitch_x_mm" not in grid:
        raise DesignError(f"{source}: 'grid.pitch_y_mm' needs 'grid.pitch_x_mm'")
    if len(given) != 1:
        raise DesignError(f"{source}: give exactly one of grid.pitch_mm, grid.pitch_x_mm, grid.core_area_mm2")
    key = given[0]
    value = grid[key]
    try:
        _positive(value, f"grid.{key}")
        if key == "pitch_x_mm":
            pitch_y = grid.get("pitch_y_mm", value)
            _positive(pitch_y, "grid.pitch_y_mm")
            return float(value), float(pitch_y)
    except DesignError as exc:
        raise DesignError(f"{source}: {exc}") from None
    side = float(value) if key == "pitch_mm" else math.sqrt(float(value))
    return side, side


def list_presets() -> list[str]:
    """Names of the designs shipped with the package.

    Examples
    --------
    >>> list_presets()
    ['small', 'wse']
    """
    folder = resources.files("yieldkit") / "presets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_design(name_or_path: str | Path) -> Design:
    """Load a preset by name (``wse``, ``small``) or a design TOML file.

    Raises
    ------
    DesignError
        Unknown preset, unreadable file, bad TOML, an invalid value (grid
        sizes are bounded by :data:`MAX_SITES`) or a scheme parameter the
        scheme registry rejects; the message names the file and the key.

    Examples
    --------
    >>> load_design("small")
    Design('small', 64x68 sites, 64x64 logical, row-shift {'reach': 1})
    """
    text_source = str(name_or_path)
    if text_source in list_presets():
        resource = resources.files("yieldkit") / "presets" / f"{text_source}.toml"
        text, source = resource.read_text(encoding="utf-8"), f"preset '{text_source}'"
    else:
        path = Path(text_source)
        if not path.is_file():
            raise DesignError(
                f"no design '{text_source}': not a preset ({', '.join(list_presets())}) and not a file"
            )
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DesignError(f"{path}: cannot read ({exc})") from None
        source = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DesignError(f"{source}: invalid TOML ({exc})") from None
    return _from_mapping(data, source)
