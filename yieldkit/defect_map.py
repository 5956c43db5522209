"""Sparse per-wafer defect maps: dead core sites and dead fabric links.

Conventions (shared by the planners, the firmware image and the database; how
dead links are routed around is ``yieldkit.fabric``):

* a site is its flat index ``row * cols + col`` on the physical grid;
* a link is ``2 * site + direction``: direction 0 (``E``) joins ``(row, col)``
  to ``(row, col + 1)``, direction 1 (``S``) joins it to ``(row + 1, col)``.

The file form is JSON::

    {"format": "yieldkit.defect-map", "version": 1, "design": "small",
     "rows": 64, "cols": 68,
     "dead_sites": [[row, col], ...],
     "dead_links": [[row, col, "E" | "S"], ...]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from yieldkit.design import Design
from yieldkit.errors import InputError
from yieldkit.outputs import atomic_write

__all__ = ["DefectMap", "DefectMapError", "EAST", "SOUTH", "link_ids", "link_origins", "link_endpoints"]

FORMAT = "yieldkit.defect-map"
VERSION = 1
EAST, SOUTH = 0, 1
_DIRECTIONS = {"E": EAST, "S": SOUTH}


class DefectMapError(InputError):
    """A defect map is malformed or does not match its design."""


def link_ids(rows: np.ndarray, cols: np.ndarray, direction: np.ndarray, n_cols: int) -> np.ndarray:
    """Link ids of the links leaving ``(rows, cols)`` in ``direction`` (0 = E, 1 = S) on a grid of ``n_cols`` columns.

    Examples
    --------
    >>> link_ids(np.array([0, 1]), np.array([2, 0]), np.array([EAST, SOUTH]), n_cols=4).tolist()
    [4, 9]
    """
    return 2 * (np.asarray(rows, np.int64) * n_cols + np.asarray(cols, np.int64)) + np.asarray(direction, np.int64)


def link_origins(links: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(site, direction)`` of each link id: the W/N end site and 0 = E, 1 = S.

    Examples
    --------
    >>> [x.tolist() for x in link_origins(np.array([4, 9]))]
    [[2, 4], [0, 1]]
    """
    return np.divmod(np.asarray(links, np.int64), 2)


def link_endpoints(links: np.ndarray, n_cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat site indices ``(a, b)`` joined by each link id (``a`` the W or N end).

    Examples
    --------
    >>> [x.tolist() for x in link_endpoints(np.array([4, 9]), n_cols=4)]
    [[2, 4], [3, 8]]
    """
    a, direction = link_origins(links)
    return a, np.where(direction == EAST, a + 1, a + n_cols)


def _sorted_unique(values: Any) -> np.ndarray:
    arr = np.unique(np.asarray(values, dtype=np.int64).ravel())
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class DefectMap:
    """The dead sites and dead links of one wafer, kept sparse.

    Attributes
    ----------
    rows, cols : int
        Physical grid the indices refer to.
    dead_sites : ndarray of int64
        Sorted unique flat indices of dead core sites.
    dead_links : ndarray of int64
        Sorted unique link ids (see module docstring) of dead links.
    design : str
        Name of the design the map belongs to.
    """

    rows: int
    cols: int
    dead_sites: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    dead_links: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    design: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "dead_sites", _sorted_unique(self.dead_sites))
        object.__setattr__(self, "dead_links", _sorted_unique(self.dead_links))
        n = self.rows * self.cols
        if self.dead_sites.size and (self.dead_sites[0] < 0 or self.dead_sites[-1] >= n):
            raise DefectMapError(f"dead site index out of range for a {self.rows}x{self.cols} grid")
        if self.dead_links.size:
            a, b = link_endpoints(self.dead_links, self.cols)
            east = link_origins(self.dead_links)[1] == EAST
            bad = (a < 0) | (b >= n) | (east & (a % self.cols == self.cols - 1))
            if bad.any():
                row, col = divmod(int(a[bad][0]), self.cols)
                raise DefectMapError(f"dead link at ({row}, {col}) leaves the {self.rows}x{self.cols} grid")

    @classmethod
    def empty(cls, design: Design) -> "DefectMap":
        return cls(design.rows, design.cols, design=design.name)

    @property
    def n_dead_sites(self) -> int:
        return int(self.dead_sites.size)

    @property
    def n_dead_links(self) -> int:
        return int(self.dead_links.size)

    def dead_mask(self) -> np.ndarray:
        """Dense boolean (rows, cols) mask of dead sites (for plots and small arrays)."""
        mask = np.zeros(self.rows * self.cols, dtype=bool)
        mask[self.dead_sites] = True
        return mask.reshape(self.rows, self.cols)

    def check_design(self, design: Design) -> None:
        """Raise DefectMapError unless the map fits ``design`` (grid size, existing sites)."""
        if (self.rows, self.cols) != (design.rows, design.cols):
            raise DefectMapError(
                f"defect map is {self.rows}x{self.cols} but design '{design.name}' is {design.rows}x{design.cols}"
            )
        missing = ~design.site_exists.ravel()[self.dead_sites]
        if missing.any():
            row, col = divmod(int(self.dead_sites[missing][0]), self.cols)
            raise DefectMapError(f"dead site ({row}, {col}) lies outside the usable wafer area of '{design.name}'")

    # -- file form ------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        rows, cols = np.divmod(self.dead_sites, self.cols)
        a, _ = link_endpoints(self.dead_links, self.cols)
        lr, lc = np.divmod(a, self.cols)
        names = np.where(link_origins(self.dead_links)[1] == EAST, "E", "S")
        return {
            "format": FORMAT,
            "version": VERSION,
            "design": self.design,
            "rows": self.rows,
            "cols": self.cols,
            "dead_sites": [[int(r), int(c)] for r, c in zip(rows, cols)],
            "dead_links": [[int(r), int(c), str(d)] for r, c, d in zip(lr, lc, names)],
        }

    def dump(self, fp: TextIO) -> None:
        json.dump(self.to_dict(), fp)
        fp.write("\n")

    def save(self, path: str | Path) -> None:
        """Write the JSON file form, atomically (a failed write leaves no partial file)."""
        with atomic_write(path, "w") as fp:
            self.dump(fp)

    @classmethod
    def from_dict(cls, data: Any) -> "DefectMap":
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise DefectMapError(f"not a defect map: expected \"format\": \"{FORMAT}\"")
        version = data.get("version")
        if not isinstance(version, int) or version > VERSION or version < 1:
            raise DefectMapError(f"defect map version {version!r} is not supported (this reader knows 1..{VERSION})")
        try:
            rows, cols = int(data["rows"]), int(data["cols"])
        except (KeyError, TypeError, ValueError):
            raise DefectMapError("defect map needs integer 'rows' and 'cols'") from None
        if rows <= 0 or cols <= 0:
            raise DefectMapError(f"defect map grid must be positive, got {rows}x{cols}")
        sites = _pairs(data.get("dead_sites", []), rows, cols, "dead_sites")
        links = data.get("dead_links", [])
        if not isinstance(links, list) or any(not (isinstance(x, list) and len(x) == 3) for x in links):
            raise DefectMapError("'dead_links' must be a list of [row, col, \"E\"|\"S\"]")
        for item in links:
            if item[2] not in _DIRECTIONS:
                raise DefectMapError(f"dead link direction must be E or S, got {item[2]!r}")
        link_rc = _pairs([x[:2] for x in links], rows, cols, "dead_links")
        direction = np.array([_DIRECTIONS[x[2]] for x in links], dtype=np.int64)
        link_arr = link_ids(link_rc // cols, link_rc % cols, direction, cols) if links else np.zeros(0, np.int64)
        return cls(rows, cols, sites, link_arr, design=str(data.get("design", "")))

    @classmethod
    def load(cls, path: str | Path) -> "DefectMap":
        """Read a defect map JSON file (``-`` is not handled here; the CLI opens files)."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DefectMapError(f"{path}: cannot read ({exc})") from None
        return cls.loads(text, source=str(path))

    @classmethod
    def loads(cls, text: str, source: str = "<defects>") -> "DefectMap":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DefectMapError(f"{source}: invalid JSON ({exc})") from None
        try:
            return cls.from_dict(data)
        except DefectMapError as exc:
            raise DefectMapError(f"{source}: {exc}") from None


def _pairs(items: Any, rows: int, cols: int, key: str) -> np.ndarray:
    """Flat indices of ``[[row, col], ...]``, checked against the grid."""
    if not isinstance(items, list):
        raise DefectMapError(f"'{key}' must be a list of [row, col]")
    out = np.empty(len(items), dtype=np.int64)
    for i, item in enumerate(items):
        if not (isinstance(item, list) and len(item) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in item)):
            raise DefectMapError(f"'{key}'[{i}] must be [row, col] integers, got {item!r}")
        r, c = item
        if not (0 <= r < rows and 0 <= c < cols):
            raise DefectMapError(f"'{key}'[{i}] = ({r}, {c}) is outside the {rows}x{cols} grid")
        out[i] = r * cols + c
    return out
