"""A wafer's defect map, repair map and fabric image: store the objects, load them back.

The writers take the domain objects, so plan -> image -> database is three
calls inside one write transaction::

    report = repair_wafer(design, defects)
    image = build_image(report.repair_map, wafer_id=serial, design=design)
    with write_transaction(engine) as conn:
        defect_map_id = add_defect_map(conn, wafer_id, defects)
        repair_map_id = add_repair_map(conn, wafer_id, report.repair_map, defect_map_id=defect_map_id)
        add_fabric_image(conn, wafer_id, image, repair_map_id=repair_map_id)

Every field of the objects is stored, so the readers (:func:`load_defect_map`,
:func:`load_repair_map`, :func:`load_fabric_image`) return a wafer's current
objects (the most recently stored) equal to the ones written: what the
burn-in harness reloads before it remaps a wafer. Sparse indices are blobs
of little-endian int64 (:func:`db.models.encode_ids`).
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import numpy as np
from sqlalchemy import Connection, insert, select

from db.models import DefectMapRecord, FabricImageRecord, RepairMapRecord, decode_ids, encode_ids
from db.writer import insert_or_select
from yieldkit.defect_map import DefectMap
from yieldkit.errors import InputError
from yieldkit.repair_map import RepairMap

__all__ = [
    "MapMismatchError",
    "MissingRecordError",
    "add_defect_map",
    "add_repair_map",
    "add_fabric_image",
    "load_defect_map",
    "load_repair_map",
    "load_fabric_image",
    "image_format_version",
]

#: The fixed prefix of every fabric image (firmware_map/FORMAT.md, *Header*): magic, then the
#: u16 major format version at offset 8. Read here so that ``db`` need not import ``firmware_map``.
_IMAGE_PREFIX = struct.Struct("<8sH")
_IMAGE_MAGIC = b"YKFABIMG"


class MapMismatchError(InputError):
    """An object does not belong with the records it is stored against (another defect map, another wafer)."""


class MissingRecordError(InputError):
    """The wafer has no such record (nothing stored yet, or a link was deleted)."""


def add_defect_map(conn: Connection, wafer_id: int, defect_map: DefectMap, *, source: str = "inspection") -> int:
    """Store ``defect_map`` as the wafer's newest defect map; return its id.

    Parameters
    ----------
    conn : Connection
        Inside ``with write_transaction(engine) as conn``.
    wafer_id : int
        The wafer's id.
    defect_map : DefectMap
        Dead sites and links, with its grid and design name.
    source : str
        Where it came from: ``inspection``, ``burn_in``, ``simulated``, ``repair``.

    Examples
    --------
    >>> from db.engine import make_engine, write_transaction
    >>> from db.migrate import upgrade
    >>> from db.writer import add_wafer, ensure_lot
    >>> engine = make_engine("sqlite://")
    >>> _ = upgrade(engine)
    >>> with write_transaction(engine) as conn:
    ...     wafer = add_wafer(conn, ensure_lot(conn, "L1"), "W1", "small")
    ...     _ = add_defect_map(conn, wafer, DefectMap(4, 5, [3, 17], [9], design="small"))
    ...     load_defect_map(conn, wafer).dead_sites.tolist()
    [3, 17]
    """
    return conn.execute(
        insert(DefectMapRecord).values(
            wafer_id=wafer_id, source=source, design=defect_map.design, rows=defect_map.rows, cols=defect_map.cols,
            n_dead_sites=defect_map.n_dead_sites, n_dead_links=defect_map.n_dead_links,
            dead_sites=encode_ids(defect_map.dead_sites), dead_links=encode_ids(defect_map.dead_links),
        ).returning(DefectMapRecord.id)
    ).scalar_one()


def _same_defects(a: DefectMap, b: DefectMap) -> bool:
    return ((a.rows, a.cols) == (b.rows, b.cols) and np.array_equal(a.dead_sites, b.dead_sites)
            and np.array_equal(a.dead_links, b.dead_links))


def add_repair_map(conn: Connection, wafer_id: int, repair_map: RepairMap, *,
                   defect_map_id: int | None = None) -> int:
    """Store ``repair_map`` (every field, and its logical -> physical mapping); return its id.

    Parameters
    ----------
    conn : Connection
        Inside ``with write_transaction(engine) as conn``.
    wafer_id : int
        The wafer's id.
    repair_map : RepairMap
        A planned map with at least one logical core.
    defect_map_id : int, optional
        The stored defect map the repair was planned against; it must hold
        the map's defects. Without it, ``repair_map.defects`` is stored as a
        new defect map (source ``repair``) and linked.

    Raises
    ------
    MapMismatchError
        The defect map ``defect_map_id`` is another wafer's, or not the one
        the map was planned against.
    InputError
        The map presents no logical core.

    Examples
    --------
    >>> from db.engine import make_engine, write_transaction
    >>> from db.migrate import upgrade
    >>> from db.writer import add_wafer, ensure_lot
    >>> from yieldkit.repair import repair_wafer
    >>> from yieldkit.design import load_design
    >>> design = load_design("small")
    >>> planned = repair_wafer(design, DefectMap(design.rows, design.cols, [70], design="small")).repair_map
    >>> engine = make_engine("sqlite://")
    >>> _ = upgrade(engine)
    >>> with write_transaction(engine) as conn:
    ...     wafer = add_wafer(conn, ensure_lot(conn, "L1"), "W1", "small")
    ...     _ = add_repair_map(conn, wafer, planned)
    ...     again = load_repair_map(conn, wafer)
    >>> bool((again.physical_of_logical == planned.physical_of_logical).all()), again.scheme == planned.scheme
    (True, True)
    """
    grid = np.asarray(repair_map.physical_of_logical)
    if grid.ndim != 2 or grid.size == 0:
        raise InputError("a repair map without logical cores cannot be stored", parameter="repair_map")
    if defect_map_id is None:
        defect_map_id = add_defect_map(conn, wafer_id, repair_map.defects, source="repair")
    else:
        stored_wafer, stored = _defect_map_row(conn, defect_map_id)
        if stored_wafer != wafer_id:
            raise MapMismatchError(f"defect map {defect_map_id} belongs to wafer {stored_wafer}, not {wafer_id}",
                                   parameter="defect_map_id")
        if not _same_defects(stored, repair_map.defects):
            raise MapMismatchError(
                f"the repair map was planned against {repair_map.defects.n_dead_sites} dead sites and "
                f"{repair_map.defects.n_dead_links} dead links on a {repair_map.physical_rows}x"
                f"{repair_map.physical_cols} grid, defect map {defect_map_id} holds {stored.n_dead_sites} and "
                f"{stored.n_dead_links} on {stored.rows}x{stored.cols}", parameter="defect_map_id")
    return conn.execute(
        insert(RepairMapRecord).values(
            wafer_id=wafer_id, defect_map_id=defect_map_id, scheme=repair_map.scheme,
            scheme_params=json.dumps(dict(repair_map.scheme_params), sort_keys=True), design=repair_map.design,
            design_fingerprint=repair_map.design_fingerprint, algorithm=repair_map.algorithm,
            logical_rows=repair_map.logical_rows, logical_cols=repair_map.logical_cols,
            physical_rows=repair_map.physical_rows, physical_cols=repair_map.physical_cols,
            full_fabric=bool(repair_map.complete), reason=repair_map.reason or None, mapping=encode_ids(grid),
        ).returning(RepairMapRecord.id)
    ).scalar_one()


def image_format_version(image: bytes) -> int:
    """The major format version of a fabric image, from its fixed prefix.

    Raises
    ------
    InputError
        ``image`` does not start like a fabric image.

    Examples
    --------
    >>> image_format_version(b"YKFABIMG" + bytes([1, 0, 0, 0]))
    1
    >>> image_format_version(b"PNG...")
    Traceback (most recent call last):
    ...
    yieldkit.errors.InputError: image: not a fabric image (it starts with b'PNG...')
    """
    if len(image) < _IMAGE_PREFIX.size or image[:8] != _IMAGE_MAGIC:
        raise InputError(f"not a fabric image (it starts with {bytes(image[:8])!r})", parameter="image")
    return _IMAGE_PREFIX.unpack_from(image)[1]


def add_fabric_image(conn: Connection, wafer_id: int, image: bytes, *, repair_map_id: int | None = None,
                     parent_id: int | None = None, path: str | Path | None = None) -> int:
    """Store a built fabric image (its bytes, SHA-256, version and size); return its id.

    Idempotent on the SHA-256 of the bytes, and safe when several stations
    store the same image at once (``INSERT ... ON CONFLICT DO NOTHING``).

    Parameters
    ----------
    conn : Connection
        Inside ``with write_transaction(engine) as conn``.
    wafer_id : int
        The wafer's id.
    image : bytes
        The image, as ``firmware_map.build_image`` returns it.
    repair_map_id : int, optional
        The stored repair map it was built from.
    parent_id : int, optional
        The image it replaces (a remap).
    path : str or Path, optional
        Where the image file was written, for reference.

    Raises
    ------
    MapMismatchError
        The same image is already stored for another wafer.

    Examples
    --------
    >>> from db.engine import make_engine, write_transaction
    >>> from db.migrate import upgrade
    >>> from db.writer import add_wafer, ensure_lot
    >>> image = b"YKFABIMG" + bytes([1, 0, 0, 0]) + b" rest of the image"  # magic, version 1.0
    >>> engine = make_engine("sqlite://")
    >>> _ = upgrade(engine)
    >>> with write_transaction(engine) as conn:
    ...     wafer = add_wafer(conn, ensure_lot(conn, "L1"), "W1", "small")
    ...     first = add_fabric_image(conn, wafer, image)
    ...     first == add_fabric_image(conn, wafer, image), load_fabric_image(conn, wafer) == image
    (True, True)
    """
    image = bytes(image)
    version = image_format_version(image)
    sha256 = hashlib.sha256(image).hexdigest()
    image_id, inserted = insert_or_select(
        conn, FabricImageRecord.__table__, {"sha256": sha256},
        {"wafer_id": wafer_id, "format_version": version, "size_bytes": len(image), "blob": image,
         "path": None if path is None else str(path), "parent_id": parent_id, "repair_map_id": repair_map_id},
    )
    if not inserted:
        owner = conn.scalar(select(FabricImageRecord.wafer_id).where(FabricImageRecord.id == image_id))
        if owner != wafer_id:
            raise MapMismatchError(f"image {sha256[:12]}... is already stored for wafer {owner}, not {wafer_id}",
                                   parameter="image")
    return image_id


def _defect_map_row(conn: Connection, defect_map_id: int) -> tuple[int, DefectMap]:
    row = conn.execute(select(DefectMapRecord).where(DefectMapRecord.id == defect_map_id)).one_or_none()
    if row is None:
        raise MissingRecordError(f"no defect map {defect_map_id}", parameter="defect_map_id")
    return row.wafer_id, _defect_map(row)


def _defect_map(row) -> DefectMap:
    return DefectMap(row.rows, row.cols, decode_ids(row.dead_sites), decode_ids(row.dead_links), design=row.design)


def _newest(conn: Connection, record, wafer_id: int, what: str):
    row = conn.execute(
        select(record).where(record.wafer_id == wafer_id).order_by(record.id.desc()).limit(1)
    ).one_or_none()
    if row is None:
        raise MissingRecordError(f"wafer {wafer_id} has no {what} stored", parameter="wafer_id")
    return row


def load_defect_map(conn: Connection, wafer_id: int) -> DefectMap:
    """The wafer's most recently stored defect map (see :func:`add_defect_map` for an example).

    Raises
    ------
    MissingRecordError
        None is stored.
    """
    return _defect_map(_newest(conn, DefectMapRecord, wafer_id, "defect map"))


def load_repair_map(conn: Connection, wafer_id: int) -> RepairMap:
    """The wafer's most recently stored repair map, with the defect map it was planned against.

    See :func:`add_repair_map` for an example.

    Raises
    ------
    MissingRecordError
        None is stored, or its defect map or mapping is missing (rows
        written before every field was kept).
    """
    row = _newest(conn, RepairMapRecord, wafer_id, "repair map")
    if row.defect_map_id is None or row.mapping is None:
        raise MissingRecordError(f"repair map {row.id} of wafer {wafer_id} was stored without its "
                                 f"{'defect map' if row.defect_map_id is None else 'mapping'}; it cannot be reloaded",
                                 parameter="wafer_id")
    _, defects = _defect_map_row(conn, row.defect_map_id)
    return RepairMap(
        physical_of_logical=decode_ids(row.mapping).reshape(row.logical_rows, row.logical_cols),
        defects=defects,
        scheme=row.scheme,
        scheme_params=json.loads(row.scheme_params),
        design=row.design,
        design_fingerprint=row.design_fingerprint,
        complete=bool(row.full_fabric),
        reason=row.reason or "",
        algorithm=row.algorithm,
    )


def load_fabric_image(conn: Connection, wafer_id: int) -> bytes:
    """The bytes of the wafer's most recently stored fabric image, checked against their SHA-256.

    See :func:`add_fabric_image` for an example.

    Raises
    ------
    MissingRecordError
        None is stored, or only a path that cannot be read.
    MapMismatchError
        The bytes do not hash to the stored SHA-256.
    """
    row = _newest(conn, FabricImageRecord, wafer_id, "fabric image")
    if row.blob is not None:
        data = bytes(row.blob)
    else:
        try:
            data = Path(row.path).read_bytes()
        except OSError as err:
            raise MissingRecordError(f"image {row.id} of wafer {wafer_id} is stored as {row.path}, which cannot be "
                                     f"read ({err.strerror or err})", parameter="wafer_id") from None
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise MapMismatchError(f"image {row.id} of wafer {wafer_id} does not match its stored SHA-256 "
                               f"({row.sha256[:12]}...)", parameter="wafer_id")
    return data
