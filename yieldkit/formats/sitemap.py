"""The state of every site of a wafer, for the SEMI G85 / E142 wafer maps.

A :class:`SiteMap` is a dense (rows, cols) grid of :class:`SiteState` with
the wafer's identity; :mod:`yieldkit.formats.g85` and
:mod:`yieldkit.formats.e142` write and read it. Row 0 is the top of the
wafer, column 0 the left edge, the notch at the bottom (the convention of
:mod:`yieldkit.design`).

States
------
``GOOD``
    Alive and serving a logical core at a site of the nominal footprint.
``DEAD``
    A dead core site (a defect killed it).
``SPARE_IN_USE``
    Alive and serving a logical core, outside the nominal footprint (a spare
    that replaces a dead or bypassed site).
``UNUSED``
    Alive but serving no logical core: an unused spare, or a good site
    bypassed by the repair.
``ABSENT``
    No site: its cell is not inside the usable circle (the map's null bin).

The nominal footprint is where a defect-free wafer's logical cores sit: the
repair of an empty defect map by the design's own scheme
(:func:`yieldkit.repair.repair_wafer`), not a layout assumed here.

Examples
--------
>>> from yieldkit.design import load_design
>>> from yieldkit.defect_map import DefectMap
>>> from yieldkit.repair import repair_wafer
>>> small = load_design("small")
>>> dead = DefectMap(small.rows, small.cols, [31 * small.cols + 34], design="small")
>>> m = site_states(small, repair_wafer(small, dead).repair_map, wafer_id="W1")
>>> m.counts()["dead"], m.counts()["spare_in_use"] >= 1
(1, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from yieldkit.design import Design
from yieldkit.errors import InputError
from yieldkit.repair import nominal_map
from yieldkit.repair_map import RepairMap

__all__ = ["BIN_DEFINITIONS", "NOTCH_DEGREES", "BinDefinition", "SiteMap", "SiteState", "die_map", "drawn_grid",
           "nominal_sites", "site_states", "states_from_arrays", "states_from_drawn"]

#: Where the notch is drawn -> the maps' ``Orientation`` attribute [degrees], clockwise from the bottom.
NOTCH_DEGREES = {"DOWN": 0, "LEFT": 90, "UP": 180, "RIGHT": 270}
_ROT90 = {"DOWN": 0, "LEFT": -1, "UP": 2, "RIGHT": 1}


def drawn_grid(states: np.ndarray, notch: str) -> np.ndarray:
    """``states`` (notch at the bottom) turned so that the notch is at ``notch`` (the wafer rotated)."""
    return np.rot90(states, _ROT90[notch])


def states_from_drawn(grid: np.ndarray, notch: str) -> np.ndarray:
    """The inverse of :func:`drawn_grid`: back to the notch at the bottom."""
    return np.rot90(grid, -_ROT90[notch])


class SiteState(IntEnum):
    """State of one site (see the module docstring)."""

    GOOD = 0
    DEAD = 1
    SPARE_IN_USE = 2
    UNUSED = 3
    ABSENT = 4


@dataclass(frozen=True)
class BinDefinition:
    """How a state is binned in the SEMI maps.

    Attributes
    ----------
    state : SiteState
    ascii_code : str
        One-character code of ``BinType="ASCII"`` maps.
    hex_code : str
        Two-digit code of ``BinType="HexaDecimal"`` maps.
    quality : str
        ``Pass`` or ``Fail`` (``BinQuality``); empty for the null bin.
    description : str
        ``BinDescription``.
    """

    state: SiteState
    ascii_code: str
    hex_code: str
    quality: str
    description: str


#: Bin definitions of the site maps; ``ABSENT`` is the null bin (no site).
BIN_DEFINITIONS: tuple[BinDefinition, ...] = (
    BinDefinition(SiteState.GOOD, "1", "01", "Pass", "good: alive, serving a logical core in the nominal footprint"),
    BinDefinition(SiteState.SPARE_IN_USE, "2", "02", "Pass", "spare in use: alive, serving a logical core"),
    BinDefinition(SiteState.UNUSED, "3", "03", "Pass", "unused: alive, unused spare or bypassed site"),
    BinDefinition(SiteState.DEAD, "X", "EE", "Fail", "dead: core killed by a defect"),
    BinDefinition(SiteState.ABSENT, ".", "FF", "", "absent: no site (outside the usable circle)"),
)


@dataclass(frozen=True, eq=False)
class SiteMap:
    """The state of every site of one wafer (or of every die, for a die map).

    Attributes
    ----------
    states : ndarray of uint8, shape (rows, cols)
        :class:`SiteState` values; row 0 at the top, notch at the bottom.
    wafer_id, lot_id, product : str
        Identity; ``product`` is the design name (or a die product name).
    pitch_x_mm, pitch_y_mm : float
        Site (or die) pitch [mm]; 0 when unknown.
    wafer_diameter_mm : float
        Wafer diameter [mm].
    notch : {"DOWN", "LEFT", "UP", "RIGHT"}
        Where the notch is drawn in the written map: the grid is turned
        accordingly (``states`` itself always has the notch at the bottom)
        and ``Orientation`` records it (:data:`NOTCH_DEGREES`).
    """

    states: np.ndarray
    wafer_id: str = ""
    lot_id: str = ""
    product: str = ""
    pitch_x_mm: float = 0.0
    pitch_y_mm: float = 0.0
    wafer_diameter_mm: float = 300.0
    notch: str = "DOWN"

    def __post_init__(self) -> None:
        if self.notch not in NOTCH_DEGREES:
            raise InputError(f"must be one of {', '.join(NOTCH_DEGREES)}, got {self.notch!r}", parameter="notch")
        states = np.array(self.states, dtype=np.uint8)
        if states.ndim != 2 or states.size == 0:
            raise InputError(f"site states must be a non-empty 2-D grid, got shape {states.shape}")
        if states.max() > max(SiteState):
            raise InputError(f"site state {int(states.max())} is not a SiteState")
        states.setflags(write=False)
        object.__setattr__(self, "states", states)
        for name in ("pitch_x_mm", "pitch_y_mm", "wafer_diameter_mm"):
            object.__setattr__(self, name, float(getattr(self, name)))
        for name in ("wafer_id", "lot_id", "product"):
            object.__setattr__(self, name, str(getattr(self, name)))

    @property
    def rows(self) -> int:
        return int(self.states.shape[0])

    @property
    def cols(self) -> int:
        return int(self.states.shape[1])

    def counts(self) -> dict[str, int]:
        """Sites in each state, by lower-case state name."""
        counts = np.bincount(self.states.ravel(), minlength=len(SiteState))
        return {s.name.lower(): int(counts[s]) for s in SiteState}

    def to_dict(self) -> dict[str, Any]:
        return {"wafer_id": self.wafer_id, "lot_id": self.lot_id, "product": self.product, "rows": self.rows,
                "cols": self.cols, "pitch_x_mm": self.pitch_x_mm, "pitch_y_mm": self.pitch_y_mm,
                "wafer_diameter_mm": self.wafer_diameter_mm, "notch": self.notch, **self.counts()}

    def __repr__(self) -> str:
        c = self.counts()
        return (f"SiteMap({self.wafer_id or '?'} {self.rows}x{self.cols}: {c['good']} good, {c['dead']} dead, "
                f"{c['spare_in_use']} spare in use, {c['unused']} unused, {c['absent']} absent)")


def states_from_arrays(site_exists: np.ndarray, dead_sites: np.ndarray, in_use_sites: np.ndarray,
                       nominal_sites: np.ndarray) -> np.ndarray:
    """The :class:`SiteState` grid from the arrays that define it.

    Works for a planned repair map and for the map parsed from a fabric
    image alike: give the flat indices (``row * cols + col``).

    Parameters
    ----------
    site_exists : ndarray of bool, shape (rows, cols)
        Which sites exist.
    dead_sites : ndarray of int
        Flat indices of dead sites.
    in_use_sites : ndarray of int
        Flat indices of the sites serving a logical core.
    nominal_sites : ndarray of int
        Flat indices of the nominal footprint (the sites a defect-free wafer uses).

    Returns
    -------
    ndarray of uint8, shape (rows, cols)
    """
    exists = np.asarray(site_exists, dtype=bool)
    n = exists.size
    flat = np.full(n, SiteState.UNUSED, dtype=np.uint8)
    in_use = np.zeros(n, bool)
    in_use[np.asarray(in_use_sites, np.int64).ravel()] = True
    nominal = np.zeros(n, bool)
    nominal[np.asarray(nominal_sites, np.int64).ravel()] = True
    flat[in_use & nominal] = SiteState.GOOD
    flat[in_use & ~nominal] = SiteState.SPARE_IN_USE
    flat[np.asarray(dead_sites, np.int64).ravel()] = SiteState.DEAD
    flat[~exists.ravel()] = SiteState.ABSENT
    return flat.reshape(exists.shape)


def nominal_sites(design: Design) -> np.ndarray:
    """Flat indices of the nominal footprint: the repair of a defect-free wafer (:func:`yieldkit.repair.nominal_map`)."""
    return nominal_map(design).ravel()


def site_states(design: Design, repair_map: RepairMap, *, wafer_id: str = "", lot_id: str = "") -> SiteMap:
    """The :class:`SiteMap` of a planned repair map.

    Parameters
    ----------
    design : Design
        The design the map was planned for (its fingerprint must match).
    repair_map : RepairMap
        dead = ``repair_map.defects.dead_sites``; in use = the targets of
        ``physical_of_logical``.
    wafer_id, lot_id : str
        Identity written into the maps.
    """
    if repair_map.design_fingerprint and repair_map.design_fingerprint != design.fingerprint:
        raise InputError(f"repair map was planned for design {repair_map.design!r} with other parameters "
                         f"than design {design.name!r}")
    if (repair_map.physical_rows, repair_map.physical_cols) != (design.rows, design.cols):
        raise InputError(f"repair map is {repair_map.physical_rows}x{repair_map.physical_cols}, design "
                         f"{design.name!r} is {design.rows}x{design.cols}")
    states = states_from_arrays(design.site_exists, repair_map.defects.dead_sites,
                                repair_map.physical_of_logical, nominal_sites(design))
    return SiteMap(states, wafer_id, lot_id, design.name, design.pitch_x_mm, design.pitch_y_mm,
                   design.wafer_diameter_mm)


def die_map(die_width_mm: float, die_height_mm: float, *, wafer_diameter_mm: float = 300.0,
            edge_exclusion_mm: float = 3.0, defect_x_mm: Any = (), defect_y_mm: Any = (),
            wafer_id: str = "", lot_id: str = "", product: str = "die") -> SiteMap:
    """A die-level map of conventional dies: GOOD, DEAD (holds a defect) or ABSENT.

    Dies of ``die_width_mm`` x ``die_height_mm`` tile the wafer on a grid
    centred on the wafer centre; a die exists when it lies wholly inside the
    usable circle (radius ``wafer_diameter_mm / 2 - edge_exclusion_mm``), as
    for the sites of a design. A die is dead when a defect centre falls in it.

    Parameters
    ----------
    die_width_mm, die_height_mm : float
        Die size [mm] (scribe lines included), > 0.
    wafer_diameter_mm, edge_exclusion_mm : float
        The wafer [mm].
    defect_x_mm, defect_y_mm : array_like
        Defect centres [mm], wafer centre at the origin, y up.

    Examples
    --------
    >>> m = die_map(28.5, 28.5)  # an 814 mm^2 die
    >>> m.counts()["good"]
    68
    """
    if not (die_width_mm > 0 and die_height_mm > 0 and math.isfinite(die_width_mm * die_height_mm)):
        raise InputError(f"die size must be positive, got {die_width_mm} x {die_height_mm} mm")
    radius = wafer_diameter_mm / 2.0 - edge_exclusion_mm
    cols = max(1, 2 * math.ceil(radius / die_width_mm))
    rows = max(1, 2 * math.ceil(radius / die_height_mm))
    x_left = -cols * die_width_mm / 2.0 + np.arange(cols) * die_width_mm
    y_top = rows * die_height_mm / 2.0 - np.arange(rows) * die_height_mm
    far_x = np.maximum(np.abs(x_left), np.abs(x_left + die_width_mm))
    far_y = np.maximum(np.abs(y_top), np.abs(y_top - die_height_mm))
    exists = far_y[:, None] ** 2 + far_x[None, :] ** 2 <= radius**2
    states = np.where(exists, SiteState.GOOD, SiteState.ABSENT).astype(np.uint8)
    x = np.asarray(defect_x_mm, float)
    y = np.asarray(defect_y_mm, float)
    col = np.floor((x + cols * die_width_mm / 2.0) / die_width_mm).astype(np.int64)
    row = np.floor((rows * die_height_mm / 2.0 - y) / die_height_mm).astype(np.int64)
    ok = (row >= 0) & (row < rows) & (col >= 0) & (col < cols)
    ok[ok] = exists[row[ok], col[ok]]
    states[row[ok], col[ok]] = SiteState.DEAD
    return SiteMap(states, wafer_id, lot_id, product, die_width_mm, die_height_mm, wafer_diameter_mm)
