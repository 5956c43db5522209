"""The logical-to-physical repair map of one wafer, and its file format.

A :class:`RepairMap` says, for every logical core ``(r, c)`` of the grid the
firmware presents, which physical site serves it. Its invariants (checked by
``yieldkit.verify``, independently of any planner): injective, every target
site exists and is alive, every pair of logical neighbours is within the
scheme's routing reach over live links.

File format (``.npz``, NumPy's zip of ``.npy`` arrays, read with
``allow_pickle=False``), version 1:

``meta``
    0-d unicode array holding a JSON object: ``format`` =
    ``"yieldkit.repair-map"``, ``version`` (int), ``design`` (name),
    ``design_fingerprint`` (hex SHA-256, see ``Design.fingerprint``),
    ``physical_rows``, ``physical_cols``, ``logical_rows``, ``logical_cols``,
    ``scheme``, ``scheme_params`` (object), ``complete`` (bool: the full
    logical grid of the design), ``reason`` (why a degraded map is smaller),
    ``algorithm``.
``physical_of_logical``
    int64 array (logical_rows, logical_cols) of flat physical site indices.
``dead_sites``, ``dead_links``
    int64 arrays: the defect map the repair was planned against.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from yieldkit.errors import InputError
from yieldkit.outputs import atomic_write

from yieldkit.defect_map import DefectMap

__all__ = ["RepairMap", "RepairMapError", "FORMAT", "VERSION"]

FORMAT = "yieldkit.repair-map"
VERSION = 1


class RepairMapError(InputError):
    """A repair map file is malformed or of an unsupported version."""


@dataclass(frozen=True, eq=False)
class RepairMap:
    """Logical (r, c) -> physical site of one wafer.

    Attributes
    ----------
    physical_of_logical : ndarray of int64, shape (logical_rows, logical_cols)
        Flat physical site index (``row * physical_cols + col``) of each logical core.
    defects : DefectMap
        The dead sites and links the map was planned against.
    scheme, scheme_params
        Redundancy scheme and its parameters (e.g. ``reach``).
    design, design_fingerprint
        The design's name and ``Design.fingerprint``.
    complete : bool
        True when the map presents the design's full logical grid.
    reason : str
        For a degraded map, why the full grid could not be presented.
    algorithm : str
        Which planner produced the map.
    """

    physical_of_logical: np.ndarray
    defects: DefectMap
    scheme: str
    scheme_params: dict[str, Any] = field(default_factory=dict)
    design: str = ""
    design_fingerprint: str = ""
    complete: bool = True
    reason: str = ""
    algorithm: str = ""

    @property
    def physical_rows(self) -> int:
        return self.defects.rows

    @property
    def physical_cols(self) -> int:
        return self.defects.cols

    @property
    def logical_rows(self) -> int:
        return int(self.physical_of_logical.shape[0])

    @property
    def logical_cols(self) -> int:
        return int(self.physical_of_logical.shape[1])

    def physical_rc(self) -> tuple[np.ndarray, np.ndarray]:
        """Physical (row, col) arrays, each shaped like the logical grid."""
        return np.divmod(self.physical_of_logical, self.physical_cols)

    def __repr__(self) -> str:
        state = "complete" if self.complete else "degraded"
        return (f"RepairMap({self.design!r}, {self.scheme}, {self.logical_rows}x{self.logical_cols} on "
                f"{self.physical_rows}x{self.physical_cols}, {state})")

    def to_dict(self) -> dict[str, Any]:
        """Flat, JSON-safe record of the map's metadata (the file's ``meta`` object; no arrays)."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "design": self.design,
            "design_fingerprint": self.design_fingerprint,
            "physical_rows": self.physical_rows,
            "physical_cols": self.physical_cols,
            "logical_rows": self.logical_rows,
            "logical_cols": self.logical_cols,
            "scheme": self.scheme,
            "scheme_params": self.scheme_params,
            "complete": self.complete,
            "reason": self.reason,
            "algorithm": self.algorithm,
        }


    def save(self, target: str | Path | BinaryIO) -> None:
        """Write the versioned ``.npz`` form (see module docstring)."""
        if isinstance(target, (str, Path)):  # keep the name as given (numpy would append ".npz"); atomic
            with atomic_write(target, "wb") as handle:
                self.save(handle)
            return
        np.savez_compressed(
            target,
            meta=np.array(json.dumps(self.to_dict(), sort_keys=True)),
            physical_of_logical=np.ascontiguousarray(self.physical_of_logical, dtype=np.int64),
            dead_sites=self.defects.dead_sites,
            dead_links=self.defects.dead_links,
        )

    @classmethod
    def load(cls, source: str | Path | BinaryIO) -> "RepairMap":
        """Read a repair map file; raise RepairMapError with one line on any problem.

        Never unpickles: a foreign or malformed file is "not a repair map".

        Examples
        --------
        >>> import io
        >>> from yieldkit.design import load_design
        >>> from yieldkit.redundancy import plan_repair
        >>> small = load_design("small")
        >>> buffer = io.BytesIO()
        >>> plan_repair(small, DefectMap.empty(small)).save(buffer)
        >>> _ = buffer.seek(0)
        >>> RepairMap.load(buffer)
        RepairMap('small', row-shift, 64x64 on 64x68, complete)
        """
        name = str(source) if isinstance(source, (str, Path)) else str(getattr(source, "name", "<stream>"))
        try:
            loaded = np.load(source, allow_pickle=False)
            if not hasattr(loaded, "files"):
                raise RepairMapError("not a repair map (a bare .npy array, not a .npz archive)", parameter=name)
            with loaded as npz:
                missing = [k for k in ("meta", "physical_of_logical", "dead_sites", "dead_links") if k not in npz.files]
                if missing:
                    raise RepairMapError(f"not a repair map (no '{missing[0]}' array)", parameter=name)
                arrays = {k: npz[k] for k in ("meta", "physical_of_logical", "dead_sites", "dead_links")}
        except RepairMapError:
            raise
        except FileNotFoundError:
            raise RepairMapError("no such file", parameter=name) from None
        except IsADirectoryError:
            raise RepairMapError("is a directory, not a repair map", parameter=name) from None
        except PermissionError:
            raise RepairMapError("cannot read (permission denied)", parameter=name) from None
        except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError):
            # numpy's own messages (pickled data, object arrays) would suggest allow_pickle: never
            raise RepairMapError("not a repair map (not a yieldkit .npz file)", parameter=name) from None
        try:
            meta = json.loads(str(arrays["meta"]))
        except (json.JSONDecodeError, ValueError):
            raise RepairMapError(f"{name}: repair map metadata is not JSON") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise RepairMapError(f"{name}: not a repair map (format is not {FORMAT})")
        version = meta.get("version")
        if not isinstance(version, int) or not 1 <= version <= VERSION:
            raise RepairMapError(f"{name}: repair map version {version!r} is not supported (this reader knows 1..{VERSION})")
        grid = arrays["physical_of_logical"]
        if grid.ndim != 2 or grid.dtype.kind not in "iu":
            raise RepairMapError(f"{name}: physical_of_logical must be a 2-D integer array")
        try:
            defects = DefectMap(int(meta["physical_rows"]), int(meta["physical_cols"]),
                                arrays["dead_sites"], arrays["dead_links"], design=str(meta.get("design", "")))
            return cls(
                physical_of_logical=grid.astype(np.int64),
                defects=defects,
                scheme=str(meta["scheme"]),
                scheme_params=dict(meta.get("scheme_params", {})),
                design=str(meta.get("design", "")),
                design_fingerprint=str(meta.get("design_fingerprint", "")),
                complete=bool(meta.get("complete", True)),
                reason=str(meta.get("reason", "")),
                algorithm=str(meta.get("algorithm", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RepairMapError(f"{name}: invalid repair map ({exc})") from None
