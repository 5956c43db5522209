"""Inspected defects: positions, sizes and classes of the defects of many wafers.

An :class:`InspectionDefects` keeps what an inspection tool reports (a KLARF
file, a CSV list), not only the dead sites it implies, so that calibration
(:mod:`yieldkit.calibration`) can use the positions and sizes.

Coordinate convention
---------------------
``x_mm``, ``y_mm`` are wafer coordinates in millimetres with the origin at
the wafer centre, x to the right and y up with the notch at the bottom (the
convention of :mod:`yieldkit.design`: row 0 of the core grid is at the top).
``size_um`` is the defect diameter in micrometres, NaN when the tool gave
none; ``class_number`` is the tool's defect class, -1 when none.

Examples
--------
>>> import numpy as np
>>> from yieldkit.design import load_design
>>> d = InspectionDefects.from_arrays(["W1", "W1", "W2"], [0.5, 200.0, -3.2], [0.5, 0.0, 7.1],
...                                   size_um=[1.0, 2.0, 0.5], lot_id="LOT7")
>>> d
InspectionDefects(lot LOT7: 2 wafers, 3 defects)
>>> imported = d.to_defect_map(load_design("small"), "W1")
>>> imported
ImportedWafer(W1 on small: 2 defects, 1 dead sites, 0 dead links, 1 outside every site)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from yieldkit.defect_map import DefectMap
from yieldkit.defects import DefectModel, dead_from_defects, sample_positions_mm, sample_sizes_um, wafer_rng
from yieldkit.design import Design
from yieldkit.errors import InputError

__all__ = ["NOTCH_ROTATIONS", "ImportedWafer", "InspectionDefects", "WaferInfo", "sample_inspection"]

#: Rotation (a, b, c, d) taking tool-frame (x, y) to notch-down wafer coordinates
#: ``(a x + b y, c x + d y)``, by where the tool had the notch (KLARF ``OrientationMarkLocation``).
NOTCH_ROTATIONS = {"DOWN": (1, 0, 0, 1), "UP": (-1, 0, 0, -1), "LEFT": (0, -1, 1, 0), "RIGHT": (0, 1, -1, 0)}


@dataclass(frozen=True)
class WaferInfo:
    """Metadata of one inspected wafer.

    Attributes
    ----------
    wafer_id, lot_id : str
        Identifiers as the file gives them.
    source : str
        File the wafer was read from (with the line of its header, when known).
    die_pitch_um : tuple of float or None
        Inspection die pitch (x, y) [um] (KLARF ``DiePitch``).
    sample_plan : tuple of (int, int)
        Dies inspected (KLARF ``SampleTestPlan`` x/y indices); empty = not given
        (the whole wafer was inspected).
    orientation : str
        Where the notch was in the tool's frame (positions are converted to notch down).
    sample_center_um : tuple of float or None
        The wafer centre in the tool frame, measured from the lower-left
        corner of die (0, 0) [um] (KLARF ``SampleCenterLocation``): with
        ``die_pitch_um`` it places the dies of ``sample_plan`` on the wafer.
    """

    wafer_id: str
    lot_id: str = ""
    source: str = ""
    die_pitch_um: tuple[float, float] | None = None
    sample_plan: tuple[tuple[int, int], ...] = ()
    orientation: str = "DOWN"
    sample_center_um: tuple[float, float] | None = None

    def inspected(self, x_mm: np.ndarray, y_mm: np.ndarray) -> np.ndarray:
        """Which points (wafer coordinates [mm]) lie in a die of the sample plan (all, without a plan).

        Examples
        --------
        >>> w = WaferInfo("W1", die_pitch_um=(10000.0, 10000.0), sample_plan=((15, 15),),
        ...               sample_center_um=(150000.0, 150000.0))
        >>> w.inspected(np.array([5.0, -5.0]), np.array([5.0, 5.0])).tolist()
        [True, False]
        """
        x = np.asarray(x_mm, float)
        y = np.asarray(y_mm, float)
        if not self.sample_plan or self.die_pitch_um is None or self.sample_center_um is None:
            return np.ones(np.broadcast(x, y).shape, dtype=bool)
        a, b, c, d = NOTCH_ROTATIONS[self.orientation]
        tx = (a * x + c * y) * 1000.0 + self.sample_center_um[0]  # the inverse (transpose) rotation
        ty = (b * x + d * y) * 1000.0 + self.sample_center_um[1]
        i = np.floor(tx / self.die_pitch_um[0]).astype(np.int64)
        j = np.floor(ty / self.die_pitch_um[1]).astype(np.int64)
        plan = np.array(self.sample_plan, dtype=np.int64)
        span = int(max(np.abs(plan).max(), np.abs(i).max(initial=0), np.abs(j).max(initial=0))) * 2 + 3
        return np.isin(i * span + j, plan[:, 0] * span + plan[:, 1])

    def __repr__(self) -> str:
        plan = f", {len(self.sample_plan)} dies inspected" if self.sample_plan else ""
        return f"WaferInfo({self.lot_id + '/' if self.lot_id else ''}{self.wafer_id}{plan}, notch {self.orientation})"

    def to_dict(self) -> dict[str, Any]:
        return {"wafer_id": self.wafer_id, "lot_id": self.lot_id, "source": self.source,
                "die_pitch_x_um": None if self.die_pitch_um is None else self.die_pitch_um[0],
                "die_pitch_y_um": None if self.die_pitch_um is None else self.die_pitch_um[1],
                "sample_plan_dies": len(self.sample_plan), "orientation": self.orientation,
                "sample_center_x_um": None if self.sample_center_um is None else self.sample_center_um[0],
                "sample_center_y_um": None if self.sample_center_um is None else self.sample_center_um[1]}


def _readonly(values: Any, dtype: Any) -> np.ndarray:
    arr = np.array(values, dtype=dtype).ravel()
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class InspectionDefects:
    """The inspected defects of one or more wafers (columns of equal length).

    Attributes
    ----------
    wafers : tuple of WaferInfo
        The wafers, in file order (a wafer with no defect is still listed).
    wafer_index : ndarray of int64
        Per defect, its wafer's index in ``wafers``.
    x_mm, y_mm : ndarray of float
        Defect centres [mm], wafer centre at the origin, y up, notch down.
    size_um : ndarray of float
        Defect diameter [um]; NaN when unknown.
    class_number : ndarray of int64
        Tool defect class; -1 when unknown.
    """

    wafers: tuple[WaferInfo, ...]
    wafer_index: np.ndarray
    x_mm: np.ndarray
    y_mm: np.ndarray
    size_um: np.ndarray
    class_number: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __post_init__(self) -> None:
        object.__setattr__(self, "wafers", tuple(self.wafers))
        n = np.asarray(self.wafer_index).size
        object.__setattr__(self, "wafer_index", _readonly(self.wafer_index, np.int64))
        object.__setattr__(self, "x_mm", _readonly(self.x_mm, float))
        object.__setattr__(self, "y_mm", _readonly(self.y_mm, float))
        object.__setattr__(self, "size_um", _readonly(self.size_um, float))
        classes = self.class_number if np.asarray(self.class_number).size else np.full(n, -1)
        object.__setattr__(self, "class_number", _readonly(classes, np.int64))
        sizes = {a: getattr(self, a).size for a in ("x_mm", "y_mm", "size_um", "class_number")}
        if any(v != n for v in sizes.values()):
            raise InputError(f"defect columns differ in length: wafer_index {n}, "
                             + ", ".join(f"{k} {v}" for k, v in sizes.items()))
        if n and (self.wafer_index.min() < 0 or self.wafer_index.max() >= len(self.wafers)):
            raise InputError(f"wafer_index must be in [0, {len(self.wafers)})")
        if not (np.isfinite(self.x_mm).all() and np.isfinite(self.y_mm).all()):
            raise InputError("defect positions must be finite")
        known = ~np.isnan(self.size_um)
        if not (np.isfinite(self.size_um[known]).all() and (self.size_um[known] >= 0).all()):
            raise InputError("defect sizes must be finite and >= 0 (NaN = unknown)")
        ids = [w.wafer_id for w in self.wafers]
        if len(set(zip(ids, (w.lot_id for w in self.wafers)))) != len(ids):
            raise InputError("a (lot, wafer) pair is listed twice")

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_arrays(cls, wafer_id: Sequence[str], x_mm: Any, y_mm: Any, size_um: Any = None,
                    class_number: Any = None, lot_id: str = "", source: str = "") -> "InspectionDefects":
        """Build from per-defect columns; wafers are listed in order of first appearance."""
        ids = [str(w) for w in wafer_id]
        order: dict[str, int] = {}
        for w in ids:
            order.setdefault(w, len(order))
        n = len(ids)
        return cls(tuple(WaferInfo(w, lot_id, source) for w in order),
                   np.array([order[w] for w in ids], dtype=np.int64), x_mm, y_mm,
                   np.full(n, np.nan) if size_um is None else size_um,
                   np.full(n, -1) if class_number is None else class_number)

    @classmethod
    def concat(cls, parts: Iterable["InspectionDefects"]) -> "InspectionDefects":
        """All wafers of ``parts``, one after the other."""
        parts = list(parts)
        wafers: list[WaferInfo] = []
        index: list[np.ndarray] = []
        for p in parts:
            index.append(p.wafer_index + len(wafers))
            wafers.extend(p.wafers)
        cat = (lambda name: np.concatenate([getattr(p, name) for p in parts]) if parts else np.zeros(0))
        return cls(tuple(wafers), np.concatenate(index) if parts else np.zeros(0, np.int64),
                   cat("x_mm"), cat("y_mm"), cat("size_um"),
                   np.concatenate([p.class_number for p in parts]) if parts else np.zeros(0, np.int64))

    # -- access ----------------------------------------------------------------------
    @property
    def n_defects(self) -> int:
        return int(self.wafer_index.size)

    @property
    def n_wafers(self) -> int:
        return len(self.wafers)

    @property
    def wafer_ids(self) -> list[str]:
        return [w.wafer_id for w in self.wafers]

    def counts(self) -> np.ndarray:
        """Defects per wafer [-], in the order of ``wafers``."""
        return np.bincount(self.wafer_index, minlength=self.n_wafers)

    def _locate(self, wafer: str | int) -> int:
        if isinstance(wafer, (int, np.integer)) and not isinstance(wafer, bool):
            if not 0 <= wafer < self.n_wafers:
                raise InputError(f"no wafer number {wafer}: {self.n_wafers} wafers", parameter="wafer")
            return int(wafer)
        matches = [i for i, w in enumerate(self.wafers) if w.wafer_id == str(wafer)]
        if len(matches) != 1:
            known = ", ".join(self.wafer_ids[:20])
            raise InputError(f"wafer {wafer!r} {'is ambiguous' if matches else 'not found'} (wafers: {known})",
                             parameter="wafer")
        return matches[0]

    def wafer(self, wafer: str | int) -> "InspectionDefects":
        """The defects of one wafer (by id or index), as an :class:`InspectionDefects` of one wafer."""
        i = self._locate(wafer)
        keep = self.wafer_index == i
        return InspectionDefects((self.wafers[i],), np.zeros(int(keep.sum()), np.int64), self.x_mm[keep],
                                 self.y_mm[keep], self.size_um[keep], self.class_number[keep])

    def split(self) -> list["InspectionDefects"]:
        """One :class:`InspectionDefects` per wafer."""
        return [self.wafer(i) for i in range(self.n_wafers)]

    # -- conversion ------------------------------------------------------------------
    def to_defect_map(self, design: Design, wafer: str | int | None = None, *, kill_probability: float = 1.0,
                      default_size_um: float = 0.0, rng: np.random.Generator | None = None) -> "ImportedWafer":
        """The dead sites one wafer's defects leave on ``design``.

        The kill rule of the Monte-Carlo sampler
        (:func:`yieldkit.defects.dead_from_defects`): a defect kills the
        existing site it lands on, and every existing site its disk
        (diameter ``size_um``) overlaps. Inspected defects are not on links.

        Parameters
        ----------
        design : Design
            The wafer-scale design the defects are mapped onto.
        wafer : str or int, optional
            Wafer id or index; may be omitted when there is one wafer.
        kill_probability : float
            Probability that a defect kills what it hits [-], in [0, 1]; 1 by
            default (an inspected defect is where it is); below 1 needs ``rng``.
        default_size_um : float
            Diameter used for defects of unknown size [um], >= 0.
        rng : numpy.random.Generator, optional
            Stream for the kill draws when ``kill_probability < 1``.

        Returns
        -------
        ImportedWafer
        """
        if wafer is None:
            if self.n_wafers != 1:
                raise InputError(f"{self.n_wafers} wafers: say which one ({', '.join(self.wafer_ids[:20])})",
                                 parameter="wafer")
            wafer = 0
        if not 0.0 <= kill_probability <= 1.0:
            raise InputError(f"must be in [0, 1], got {kill_probability!r}", parameter="kill_probability")
        if not (np.isfinite(default_size_um) and default_size_um >= 0):
            raise InputError(f"must be finite and >= 0, got {default_size_um!r}", parameter="default_size_um")
        one = self.wafer(wafer)
        n = one.n_defects
        kills = None
        if kill_probability < 1.0:
            if rng is None:
                raise InputError("kill_probability below 1 needs a random stream", parameter="rng")
            kills = rng.random(n) < kill_probability
        size = np.where(np.isnan(one.size_um), default_size_um, one.size_um)
        batch, hit = dead_from_defects(design, np.zeros(n, np.int64), one.x_mm, one.y_mm, size, 1, kills=kills)
        killing = np.ones(n, bool) if kills is None else kills
        outside = np.flatnonzero(killing & ~hit)
        return ImportedWafer(one.wafers[0], design.name, batch.wafer(0, design=design.name), n, outside, one)

    # -- record protocol ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        lots = sorted({w.lot_id for w in self.wafers})
        return {"lots": ",".join(lots), "wafers": self.n_wafers, "defects": self.n_defects,
                "sized_defects": int((~np.isnan(self.size_um)).sum())}

    def __repr__(self) -> str:
        lots = sorted({w.lot_id for w in self.wafers if w.lot_id})
        lot = f"lot {','.join(lots)}: " if lots else ""
        return f"InspectionDefects({lot}{self.n_wafers} wafers, {self.n_defects} defects)"


@dataclass(frozen=True, eq=False)
class ImportedWafer:
    """One inspected wafer mapped onto a design.

    Attributes
    ----------
    info : WaferInfo
    design : str
    defect_map : DefectMap
        Dead sites (and no links) the defects leave.
    n_defects : int
        Defects of the wafer [-].
    outside : ndarray of int64
        Indices (into ``defects``) of killing defects that touch no existing site.
    defects : InspectionDefects
        The wafer's defects themselves (positions and sizes kept for calibration).
    """

    info: WaferInfo
    design: str
    defect_map: DefectMap
    n_defects: int
    outside: np.ndarray
    defects: InspectionDefects

    def to_dict(self) -> dict[str, Any]:
        return {"lot_id": self.info.lot_id, "wafer_id": self.info.wafer_id, "design": self.design,
                "defects": self.n_defects, "dead_sites": self.defect_map.n_dead_sites,
                "dead_links": self.defect_map.n_dead_links, "outside_sites": int(self.outside.size)}

    def __repr__(self) -> str:
        return (f"ImportedWafer({self.info.wafer_id} on {self.design}: {self.n_defects} defects, "
                f"{self.defect_map.n_dead_sites} dead sites, {self.defect_map.n_dead_links} dead links, "
                f"{self.outside.size} outside every site)")


def sample_inspection(design: Design, model: DefectModel, n_wafers: int, seed: int, *, lot_id: str = "",
                      first_wafer: int = 1) -> InspectionDefects:
    """What an inspection tool reports of ``n_wafers`` wafers of ``model``: every defect's position and size.

    Wafer ``i`` (0-based) draws from :func:`~yieldkit.defects.wafer_rng` of
    ``seed + i``: its count over the whole usable circle (negative binomial
    with ``alpha``), positions by the spatial model over the whole circle
    (not only near the core grid, unlike the yield sampler), sizes from the
    ``x0^2/x^3`` tail (NaN = unknown for point defects, ``x0_um = 0``). Every
    defect is reported: the kill probability and link fraction are not
    observable by inspection. Wafer ids are ``W01``, ``W02``, ... from
    ``first_wafer``.

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> lot = sample_inspection(load_design("small"), DefectModel(0.5, alpha=2.0), 3, 1, lot_id="L1")
    >>> lot.wafer_ids, lot.n_defects > 0
    (['W01', 'W02', 'W03'], True)
    """
    mean = model.checked_mean_defects(design)
    index, xs, ys, sizes = [], [], [], []
    for i in range(n_wafers):
        rng = wafer_rng(seed + i)
        lam = rng.gamma(model.alpha, mean / model.alpha) if model.alpha is not None and mean > 0 else mean
        n = int(rng.poisson(lam))
        x, y = sample_positions_mm(rng, design, model, n)
        size = sample_sizes_um(rng, model, x.size) if model.x0_um > 0 else np.full(x.size, np.nan)
        index.append(np.full(x.size, i, np.int64))
        xs.append(x)
        ys.append(y)
        sizes.append(size)
    width = max(2, len(str(first_wafer + n_wafers - 1)))
    wafers = tuple(WaferInfo(f"W{first_wafer + i:0{width}d}", lot_id) for i in range(n_wafers))
    return InspectionDefects(wafers, np.concatenate(index), np.concatenate(xs), np.concatenate(ys),
                             np.concatenate(sizes))
