"""Write and read the fabric image (format: ``firmware_map/FORMAT.md``).

:func:`build_image` turns a :class:`~yieldkit.repair_map.RepairMap` into the
deterministic, little-endian binary the firmware loads; :func:`parse_image`
reads it back, checking structure, CRCs, digest and signature, and returns a
:class:`FabricImage` whose ``repair_map`` equals the one built from.
:func:`decode_image` is the short form returning only the repair map.

The reader treats every byte as hostile: each length, offset and count is
checked against the bytes actually present before anything is allocated or
sliced, and every problem raises a typed :class:`~firmware_map.errors.ImageError`
(an ``InputError``: one line, exit 2 in the CLI).
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numba
import numpy as np

from yieldkit.defect_map import DefectMap
from yieldkit.design import Design
from yieldkit.errors import InputError
from yieldkit.outputs import atomic_write
from yieldkit.repair_map import RepairMap

from firmware_map.errors import (
    ImageBuildError,
    ImageCRCError,
    ImageDecodeError,
    ImageDigestError,
    ImageFormatError,
    ImageHeaderCRCError,
    ImageSignatureError,
    ImageVersionError,
    MismatchError,
)
from firmware_map.router import pack_planes, padding_clear, plane_bytes, router_planes, unpack_planes

__all__ = [
    "MAGIC",
    "VERSION",
    "SECTION_NAMES",
    "SectionInfo",
    "FabricImage",
    "build_image",
    "check_design",
    "write_image",
    "parse_image",
    "decode_image",
    "assemble_image",
    "read_image_bytes",
    "encode_map",
    "decode_map",
    "MAX_IMAGE_BYTES",
]

MAGIC = b"YKFABIMG"
VERSION = (1, 0)
#: A reader refuses files larger than this before reading them [bytes].
MAX_IMAGE_BYTES = 1 << 30

_HEADER = struct.Struct("<8sHHIIIQQ32s32sIIII16sII")
_ENTRY = struct.Struct("<IIQQII")
_HEADER_CRC_AT = 16
MAX_SECTIONS = 64
_EXPLICIT = 0xFFFFFFFF
_SITE_LIMIT = 1 << 31

MAP, ROUTER, DEAD_CORES, DEAD_LINKS, META, SIGNATURE, ABSENT_SITES = 1, 2, 3, 4, 5, 6, 7
SECTION_NAMES = {MAP: "MAP", ROUTER: "ROUTER", DEAD_CORES: "DEAD_CORES", DEAD_LINKS: "DEAD_LINKS",
                 META: "META", SIGNATURE: "SIGNATURE", ABSENT_SITES: "ABSENT_SITES"}
_REQUIRED = (MAP, ROUTER, DEAD_CORES, DEAD_LINKS)
_CRITICAL = 1
_SIGNATURE_BYTES = 96  # 32-byte Ed25519 public key + 64-byte signature


def _align8(n: int) -> int:
    return (n + 7) & ~7


def _canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode("ascii")


@dataclass(frozen=True)
class SectionInfo:
    """One entry of the section table."""

    type: int
    flags: int
    offset: int
    length: int
    crc32: int
    count: int

    @property
    def name(self) -> str:
        return SECTION_NAMES.get(self.type, f"TYPE{self.type}")

    @property
    def where(self) -> str:
        return f"section {self.name} (offset {self.offset}, {self.length} bytes)"

    def to_dict(self) -> dict[str, Any]:
        """The entry as a JSON-safe record (CRC as 8 hex digits)."""
        return {"name": self.name, "type": self.type, "offset": self.offset, "length": self.length,
                "crc32": f"{self.crc32:08x}", "count": self.count, "critical": bool(self.flags & _CRITICAL)}

    as_dict = to_dict  # transitional: firmware_map/inspection.py still calls as_dict; remove once it calls to_dict


@dataclass(frozen=True, eq=False)
class FabricImage:
    """A parsed fabric image: header fields, section table, decoded content.

    Attributes
    ----------
    version : tuple of int
        (major, minor) of the image's format.
    wafer_id, design_fingerprint : str
        Header fields (fingerprint as hex, ``""`` when unknown).
    scheme, scheme_params
        Redundancy scheme of the header.
    sections : tuple of SectionInfo
        The section table in file order.
    digest : str
        SHA-256 (hex) of the image up to the digest.
    public_key : bytes or None
        The embedded Ed25519 public key of a signed image (its signature has
        been verified against it).
    repair_map : RepairMap
        The decoded map, equal to the one the image was built from.
    router_payload : bytes
        The ROUTER section as stored (packed planes).
    router : ndarray of bool, shape (3, physical_rows, physical_cols)
        The stored bypass, east and south planes (unpacked on first use).
    metadata : dict
        Caller-supplied metadata (``META.extra``).
    absent_sites : ndarray of int64 or None
        Sites outside the usable wafer area (``ABSENT_SITES``), None when the
        image was built without a design.
    """

    version: tuple[int, int]
    header_length: int
    image_length: int
    wafer_id: str
    design_fingerprint: str
    physical_rows: int
    physical_cols: int
    logical_rows: int
    logical_cols: int
    scheme: str
    scheme_params: dict[str, Any]
    sections: tuple[SectionInfo, ...]
    digest: str
    public_key: bytes | None
    repair_map: RepairMap
    router_payload: bytes
    metadata: dict[str, Any] = field(default_factory=dict)
    n_explicit_rows: int = 0
    absent_sites: np.ndarray | None = None

    def __repr__(self) -> str:
        return (f"FabricImage(wafer_id={self.wafer_id!r}, version={self.version[0]}.{self.version[1]}, "
                f"grid={self.physical_rows}x{self.physical_cols}, logical={self.logical_rows}x{self.logical_cols}, "
                f"scheme={self.scheme!r}, signed={self.signed}, digest={self.digest[:12]}...)")

    def to_dict(self) -> dict[str, Any]:
        """Header fields and section table as a flat, JSON-safe record (no per-core arrays)."""
        return {
            "format_version": f"{self.version[0]}.{self.version[1]}", "wafer_id": self.wafer_id,
            "design": self.repair_map.design, "design_fingerprint": self.design_fingerprint,
            "physical_rows": self.physical_rows, "physical_cols": self.physical_cols,
            "logical_rows": self.logical_rows, "logical_cols": self.logical_cols, "scheme": self.scheme,
            "scheme_params": dict(self.scheme_params), "image_bytes": self.image_length, "digest_sha256": self.digest,
            "signed": self.signed, "public_key": self.public_key.hex() if self.public_key else None,
            "dead_cores": self.repair_map.defects.n_dead_sites, "dead_links": self.repair_map.defects.n_dead_links,
            "absent_sites": None if self.absent_sites is None else int(self.absent_sites.size),
            "metadata": dict(self.metadata),
        }

    @cached_property
    def router(self) -> np.ndarray:
        return unpack_planes(self.router_payload, self.physical_rows, self.physical_cols)[0]

    @property
    def signed(self) -> bool:
        return self.public_key is not None

    def section(self, type_: int) -> SectionInfo | None:
        for s in self.sections:
            if s.type == type_:
                return s
        return None


# ---------------------------------------------------------------- map codec
def encode_map(physical_of_logical: np.ndarray, physical_rows: int, physical_cols: int) -> tuple[bytes, int]:
    """The MAP payload and its count of explicit rows (FORMAT.md, ``MAP``).

    A logical row lying in one physical row with strictly increasing columns
    is written as that row's index and a bitmap of the columns used; any other
    row as explicit ``u32`` site indices.
    """
    p = np.asarray(physical_of_logical, dtype=np.int64)
    lr, lc = p.shape
    pc = int(physical_cols)
    r, c = np.divmod(p, pc)
    bitmap_ok = (r == r[:, :1]).all(axis=1)
    if lc > 1:
        bitmap_ok &= (np.diff(c, axis=1) > 0).all(axis=1)
    table = np.where(bitmap_ok, r[:, 0], _EXPLICIT).astype("<u4")
    rows = np.flatnonzero(bitmap_ok)
    bits = np.zeros((rows.size, pc), dtype=bool)
    bits[np.arange(rows.size)[:, None], c[rows]] = True
    packed = np.packbits(bits, axis=1, bitorder="little")
    explicit = p[~bitmap_ok].astype("<u4")
    return table.tobytes() + packed.tobytes() + explicit.tobytes(), int(lr - rows.size)


def _map_length(lr: int, lc: int, pc: int, n_explicit: int) -> int:
    return 4 * lr + (lr - n_explicit) * ((pc + 7) // 8) + n_explicit * 4 * lc


def _bitmap_columns(packed: np.ndarray, physical_cols: int, logical_cols: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Columns selected by each row bitmap (LSB first): ``(columns, counts, past_end)``.

    ``columns`` (n, logical_cols) lists each row's first ``logical_cols``
    set bits in increasing order, ``counts`` how many bits each row sets,
    ``past_end`` whether a bit at or past ``physical_cols`` is set. One
    compiled pass (:func:`_bitmap_kernel`); :func:`_bitmap_columns_numpy`
    is the reference. Only a row whose count is ``logical_cols`` is fully
    listed.
    """
    return _bitmap_kernel(np.ascontiguousarray(packed), int(physical_cols), int(logical_cols))


def _bitmap_columns_numpy(packed: np.ndarray, physical_cols: int, logical_cols: int
                          ) -> tuple[np.ndarray, np.ndarray, bool]:
    """:func:`_bitmap_columns` with ``np.unpackbits`` (its reference, for the tests)."""
    bits = np.unpackbits(packed, axis=1, bitorder="little")
    past = bool(bits[:, physical_cols:].any())
    bits = bits[:, :physical_cols]
    counts = bits.sum(axis=1).astype(np.int64)
    columns = np.zeros((packed.shape[0], logical_cols), dtype=np.int64)
    rank = np.cumsum(bits, axis=1) - 1
    row, col = np.nonzero(bits & (rank < logical_cols))
    columns[row, rank[row, col]] = col
    return columns, counts, past


@numba.njit(cache=True, nogil=True)
def _bitmap_kernel(packed: np.ndarray, physical_cols: int, logical_cols: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Loop form of :func:`_bitmap_columns_numpy`; zero bytes are skipped whole."""
    n, width = packed.shape
    columns = np.zeros((n, logical_cols), dtype=np.int64)
    counts = np.zeros(n, dtype=np.int64)
    past = False
    for k in range(n):
        count = 0
        for b in range(width):
            byte = packed[k, b]
            if byte == 0:
                continue
            for bit in range(8):
                if byte >> bit & 1:
                    col = 8 * b + bit
                    if col >= physical_cols:
                        past = True
                    else:
                        if count < logical_cols:
                            columns[k, count] = col
                        count += 1
        counts[k] = count
    return columns, counts, past


def decode_map(payload: bytes | memoryview, physical_rows: int, physical_cols: int, logical_rows: int,
               logical_cols: int, n_explicit: int, where: str = "section MAP") -> np.ndarray:
    """Physical site of each logical core from a MAP payload whose length has been checked."""
    pr, pc, lr, lc = int(physical_rows), int(physical_cols), int(logical_rows), int(logical_cols)
    n_sites = pr * pc
    buf = np.frombuffer(payload, dtype=np.uint8)
    table = buf[: 4 * lr].view("<u4").astype(np.int64)
    explicit_rows = table == _EXPLICIT
    if int(explicit_rows.sum()) != n_explicit:
        raise ImageDecodeError(f"row table has {int(explicit_rows.sum())} explicit rows, the section count says {n_explicit}", where)
    bad = ~explicit_rows & (table >= pr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ImageDecodeError(f"logical row {i} names physical row {int(table[i])} of {pr}", where)
    out = np.empty((lr, lc), dtype=np.int64)
    row_bytes = (pc + 7) // 8
    n_bitmap = lr - n_explicit
    start = 4 * lr
    if n_bitmap:
        packed = buf[start : start + n_bitmap * row_bytes].reshape(n_bitmap, row_bytes)
        cols, counts, past = _bitmap_columns(packed, pc, lc)
        if past:
            raise ImageDecodeError("a row bitmap has bits set past the last physical column", where)
        wrong = counts != lc
        if wrong.any():
            k = int(np.flatnonzero(wrong)[0])
            i = int(np.flatnonzero(~explicit_rows)[k])
            raise ImageDecodeError(f"logical row {i}: bitmap selects {int(counts[k])} sites, expected {lc}", where)
        cols += table[~explicit_rows][:, None] * pc
        if not n_explicit:  # every row is a bitmap row: no need to copy into ``out``
            return cols
        out[~explicit_rows] = cols
        start += n_bitmap * row_bytes
    if n_explicit:
        sites = buf[start : start + n_explicit * 4 * lc].view("<u4").astype(np.int64).reshape(n_explicit, lc)
        bad = sites >= n_sites
        if bad.any():
            k = int(np.flatnonzero(bad.any(axis=1))[0])
            i = int(np.flatnonzero(explicit_rows)[k])
            raise ImageDecodeError(f"logical row {i}: site index beyond the {pr}x{pc} grid", where)
        out[explicit_rows] = sites
    return out


# ---------------------------------------------------------------- writer
def _fingerprint_bytes(hex_digest: str) -> bytes:
    if not hex_digest:
        return bytes(32)
    try:
        raw = bytes.fromhex(hex_digest)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ImageBuildError(f"design fingerprint must be 64 hex digits (SHA-256), got {hex_digest!r}")
    return raw


def _padded_text(text: str, size: int, what: str, ascii_only: bool = False) -> bytes:
    try:
        raw = text.encode("ascii" if ascii_only else "utf-8")
    except UnicodeEncodeError:
        raise ImageBuildError(f"{what} must be {'ASCII' if ascii_only else 'UTF-8'} text, got {text!r}") from None
    if len(raw) > size or b"\0" in raw:
        raise ImageBuildError(f"{what} must be at most {size} bytes without NUL, got {text!r}")
    return raw.ljust(size, b"\0")


def build_image(repair_map: RepairMap, *, wafer_id: str = "", metadata: dict[str, Any] | None = None,
                signing_key: Any = None, design: Design | None = None) -> bytes:
    """The fabric image of ``repair_map`` (FORMAT.md), byte-identical for equal inputs.

    Parameters
    ----------
    repair_map : RepairMap
        The map to write. Its invariants are not checked here (see
        :func:`firmware_map.verify.verify_image`), only that it is encodable.
    wafer_id : str
        At most 32 UTF-8 bytes.
    metadata : dict, optional
        JSON-serialisable caller metadata stored in ``META.extra`` (for a
        build time, pass it here explicitly; nothing reads the clock).
    signing_key : Ed25519PrivateKey, optional
        Signs the digest and appends the ``SIGNATURE`` section.
    design : Design, optional
        The design of the wafer: its sites outside the usable area are
        written to ``ABSENT_SITES`` and no route is laid through them.

    Returns
    -------
    bytes
        The image; write it with :func:`write_image`.

    Raises
    ------
    ImageBuildError
        The map, wafer id, scheme or metadata cannot be represented.
    MismatchError
        ``design`` is not the design the map was planned for.

    Examples
    --------
    >>> from yieldkit.defect_map import DefectMap
    >>> grid = np.array([[0, 1, 2], [4, 5, 6]])
    >>> repair_map = RepairMap(grid, DefectMap(2, 4, [3]), scheme="row-shift", scheme_params={"reach": 1})
    >>> image = build_image(repair_map, wafer_id="W17")
    >>> image[:8]
    b'YKFABIMG'
    >>> image == build_image(repair_map, wafer_id="W17")  # deterministic
    True
    >>> parse_image(image).repair_map.physical_of_logical.tolist()
    [[0, 1, 2], [4, 5, 6]]
    """
    pr, pc = int(repair_map.physical_rows), int(repair_map.physical_cols)
    p = np.asarray(repair_map.physical_of_logical)
    if p.ndim != 2 or p.dtype.kind not in "iu" or p.shape[0] < 1 or p.shape[1] < 1:
        raise ImageBuildError("physical_of_logical must be a non-empty 2-D integer array")
    lr, lc = p.shape
    if pr < 1 or pc < 1 or pr * pc >= _SITE_LIMIT:
        raise ImageBuildError(f"physical grid {pr}x{pc} is outside the format's limits (1 .. 2^31 - 1 sites)")
    if lr > pr or lc > pc:
        raise ImageBuildError(f"logical grid {lr}x{lc} is larger than the physical grid {pr}x{pc}")
    p = p.astype(np.int64, copy=False)
    if p.min() < 0 or p.max() >= pr * pc:
        raise ImageBuildError(f"repair map targets a site outside the {pr}x{pc} grid")
    defects = repair_map.defects
    scheme = _padded_text(repair_map.scheme, 16, "scheme", ascii_only=True)
    if not repair_map.scheme:
        raise ImageBuildError("scheme must not be empty")
    try:
        params = _canonical_json(dict(repair_map.scheme_params))
        meta = _canonical_json({
            "design": repair_map.design,
            "defects_design": defects.design,
            "complete": bool(repair_map.complete),
            "reason": repair_map.reason,
            "algorithm": repair_map.algorithm,
            "extra": dict(metadata or {}),
        })
    except (TypeError, ValueError) as exc:
        raise ImageBuildError(f"scheme parameters or metadata are not JSON-serialisable ({exc})") from None

    absent = None
    if design is not None:
        check_design(repair_map, design)
        absent = np.flatnonzero(~design.site_exists.ravel())
    map_payload, n_explicit = encode_map(p, pr, pc)
    planes = router_planes(p, pr, pc, defects.dead_links, absent)
    sections = [
        (MAP, _CRITICAL, map_payload, n_explicit),
        (ROUTER, _CRITICAL, pack_planes(planes), 3),
        (DEAD_CORES, _CRITICAL, defects.dead_sites.astype("<u4").tobytes(), defects.n_dead_sites),
        (DEAD_LINKS, _CRITICAL, defects.dead_links.astype("<u4").tobytes(), defects.n_dead_links),
        (META, 0, meta, 0),
    ]
    if absent is not None:
        sections.append((ABSENT_SITES, _CRITICAL, absent.astype("<u4").tobytes(), int(absent.size)))
    return assemble_image(
        wafer_id=_padded_text(wafer_id, 32, "wafer id"),
        fingerprint=_fingerprint_bytes(repair_map.design_fingerprint),
        grids=(pr, pc, lr, lc), scheme=scheme, scheme_params=params, sections=sections,
        signing_key=signing_key,
    )


def check_design(repair_map: RepairMap, design: Design) -> None:
    """Raise :class:`MismatchError` unless ``design`` is the design ``repair_map`` was planned for.

    The grids must agree, and the fingerprints when the map records one.

    Examples
    --------
    >>> from yieldkit.defect_map import DefectMap
    >>> from yieldkit.design import load_design
    >>> repair_map = RepairMap(np.array([[0, 1]]), DefectMap(2, 3), scheme="row-shift")
    >>> check_design(repair_map, load_design("small"))
    Traceback (most recent call last):
    ...
    firmware_map.errors.MismatchError: design: the repair map is for a 2x3 grid, design 'small' is 64x68
    """
    pr, pc = int(repair_map.physical_rows), int(repair_map.physical_cols)
    if (design.rows, design.cols) != (pr, pc):
        raise MismatchError(f"the repair map is for a {pr}x{pc} grid, design '{design.name}' is "
                            f"{design.rows}x{design.cols}", parameter="design")
    if repair_map.design_fingerprint and repair_map.design_fingerprint != design.fingerprint:
        raise MismatchError(f"the repair map was planned for design '{repair_map.design}' (fingerprint "
                            f"{repair_map.design_fingerprint[:12]}...), not '{design.name}' "
                            f"({design.fingerprint[:12]}...)", parameter="design")


def write_image(image: bytes, path: str | Path) -> Path:
    """Write an image file whole or not at all, with the permissions the umask gives.

    The bytes go to a temporary file in the same folder, flushed to disk and
    renamed over ``path`` (:func:`yieldkit.outputs.atomic_write`): a reader
    (or a flashing service running as another user) sees the old file or the
    complete new one, never half an image.

    Parameters
    ----------
    image : bytes
        An image from :func:`build_image`.
    path : str or Path
        The file to create or replace.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputError
        The file could not be written (e.g. a full disk); an old file is intact.

    Examples
    --------
    >>> import os, stat, tempfile
    >>> from yieldkit.defect_map import DefectMap
    >>> image = build_image(RepairMap(np.array([[0, 1]]), DefectMap(1, 3), scheme="row-shift"))
    >>> old = os.umask(0o022)
    >>> path = write_image(image, Path(tempfile.mkdtemp()) / "w17.fabimg")
    >>> _ = os.umask(old)
    >>> path.read_bytes() == image, oct(stat.S_IMODE(path.stat().st_mode))
    (True, '0o644')
    """
    path = Path(path)
    with atomic_write(path, "wb") as handle:
        handle.write(image)
    return path


def assemble_image(*, wafer_id: bytes, fingerprint: bytes, grids: tuple[int, int, int, int], scheme: bytes,
                   scheme_params: bytes, sections: list[tuple[int, int, bytes, int]], signing_key: Any = None,
                   version: tuple[int, int] = VERSION, header_extra: bytes = b"") -> bytes:
    """Lay out header, table, payloads, digest and signature (FORMAT.md, *Layout*).

    The low-level writer behind :func:`build_image`, with every field given
    raw; tests use it to forge well-formed images of other versions or with
    inconsistent content. ``header_extra`` is placed between the fixed header
    and the scheme parameters (fields of a newer minor version).
    """
    n_sections = len(sections) + (1 if signing_key is not None else 0)
    params_offset = _HEADER.size + len(header_extra)
    header_length = _align8(params_offset + len(scheme_params))
    table_end = header_length + n_sections * _ENTRY.size

    entries: list[bytes] = []
    body: list[bytes] = []
    pos = _align8(table_end)
    body.append(bytes(pos - table_end))
    for type_, flags, payload, count in sections:
        entries.append(_ENTRY.pack(type_, flags, pos, len(payload), zlib.crc32(payload), count))
        body.append(payload)
        end = pos + len(payload)
        pos = _align8(end)
        body.append(bytes(pos - end))
    digest_offset = pos
    image_length = digest_offset + 32 + (_SIGNATURE_BYTES if signing_key is not None else 0)
    if signing_key is not None:
        entries.append(_ENTRY.pack(SIGNATURE, 0, digest_offset + 32, _SIGNATURE_BYTES, 0, 0))

    header = _HEADER.pack(
        MAGIC, version[0], version[1], header_length, 0, n_sections, image_length, digest_offset,
        wafer_id, fingerprint, *grids, scheme, params_offset, len(scheme_params),
    ) + header_extra + scheme_params
    header += bytes(header_length - len(header))
    table = b"".join(entries)
    crc = zlib.crc32(table, zlib.crc32(header))
    header = header[:_HEADER_CRC_AT] + struct.pack("<I", crc) + header[_HEADER_CRC_AT + 4 :]

    image = bytearray(header)
    image += table
    for chunk in body:
        image += chunk
    digest = hashlib.sha256(image).digest()
    image += digest
    if signing_key is not None:
        from firmware_map.signing import public_key_bytes, sign_digest

        image += public_key_bytes(signing_key) + sign_digest(signing_key, digest)
    return bytes(image)


# ---------------------------------------------------------------- reader
def read_image_bytes(path: str | Path) -> bytes:
    """The bytes of an image file (``-`` reads stdin), refusing absurd sizes before reading."""
    import sys

    if str(path) == "-":
        data = sys.stdin.buffer.read(MAX_IMAGE_BYTES + 1)
    else:
        try:
            size = Path(path).stat().st_size
            if size > MAX_IMAGE_BYTES:
                raise InputError(f"{path}: {size} bytes, more than the {MAX_IMAGE_BYTES} an image may have")
            data = Path(path).read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise InputError(f"{path}: more than the {MAX_IMAGE_BYTES} bytes an image may have")
    return data


@dataclass
class _Layout:
    header: tuple[Any, ...]
    sections: list[SectionInfo]
    digest_offset: int


def _read_layout(data: bytes) -> _Layout:
    """Structure, version and header CRC: every offset and length checked against ``len(data)``."""
    n = len(data)
    if n < 12:
        raise ImageFormatError(f"truncated: {n} bytes, not even a magic and version", "header")
    if data[:8] != MAGIC:
        raise ImageFormatError(f"not a fabric image (magic {bytes(data[:8])!r}, expected {MAGIC!r})", "offset 0")
    major, minor = struct.unpack_from("<HH", data, 8)
    if major > VERSION[0]:
        raise ImageVersionError(f"image format version {major}.{minor} is newer than this reader "
                                f"({VERSION[0]}.{VERSION[1]}); upgrade yieldkit to read it", "offset 8")
    if major < 1:
        raise ImageVersionError(f"image format version {major}.{minor} is not supported (this reader knows 1.x)", "offset 8")
    if n < _HEADER.size:
        raise ImageFormatError(f"truncated: {n} bytes, the header alone needs {_HEADER.size}", "header")
    header = _HEADER.unpack_from(data, 0)
    header_length, _crc, section_count = header[3], header[4], header[5]
    if header_length < _HEADER.size or header_length % 8 or header_length > n:
        raise ImageFormatError(f"header length {header_length} is not a multiple of 8 in [{_HEADER.size}, {n}]", "offset 12")
    if not 1 <= section_count <= MAX_SECTIONS:
        raise ImageFormatError(f"section count {section_count} is not in [1, {MAX_SECTIONS}]", "offset 20")
    table_end = header_length + section_count * _ENTRY.size
    if table_end > n:
        raise ImageFormatError(f"truncated: the section table ends at {table_end}, the file at {n}", "section table")
    view = memoryview(data)
    crc = zlib.crc32(b"\0\0\0\0", zlib.crc32(view[:_HEADER_CRC_AT]))
    crc = zlib.crc32(view[_HEADER_CRC_AT + 4 : table_end], crc)
    if crc != _crc:
        raise ImageHeaderCRCError(f"CRC32 {crc:08x} of header and section table, stored {_crc:08x}",
                                  f"header (bytes 0..{table_end})")

    image_length, digest_offset = header[6], header[7]
    if image_length != n:
        raise ImageFormatError(f"header says {image_length} bytes, the file has {n}"
                               + (" (truncated)" if image_length > n else " (trailing bytes)"), "offset 24")
    pr, pc, lr, lc = header[10:14]
    if not (pr >= 1 and pc >= 1 and pr * pc < _SITE_LIMIT):
        raise ImageFormatError(f"physical grid {pr}x{pc} is outside the format's limits", "offset 104")
    if not (1 <= lr <= pr and 1 <= lc <= pc):
        raise ImageFormatError(f"logical grid {lr}x{lc} does not fit the physical grid {pr}x{pc}", "offset 112")
    params_offset, params_length = header[15], header[16]
    if params_offset < _HEADER.size or params_offset + params_length > header_length:
        raise ImageFormatError(f"scheme parameters [{params_offset}, +{params_length}) lie outside the header", "offset 136")

    sections: list[SectionInfo] = []
    pos = _align8(table_end)
    seen: set[int] = set()
    signature: SectionInfo | None = None
    for k in range(section_count):
        entry_at = header_length + k * _ENTRY.size
        s = SectionInfo(*_ENTRY.unpack_from(data, entry_at))
        where = f"section table entry {k} (offset {entry_at})"
        if s.type in seen:
            raise ImageFormatError(f"section {s.name} appears twice", where)
        seen.add(s.type)
        if signature is not None:
            raise ImageFormatError("the SIGNATURE section must be the last entry", where)
        if s.type == SIGNATURE:
            signature = s
            sections.append(s)
            continue
        if s.type not in SECTION_NAMES and s.flags & _CRITICAL:
            raise ImageFormatError(f"unknown critical section type {s.type} (written by a newer writer?)", where)
        if s.offset != pos:
            raise ImageFormatError(f"section {s.name} starts at {s.offset}, expected {pos}", where)
        if s.length > n - s.offset:
            raise ImageFormatError(f"section {s.name} of {s.length} bytes at {s.offset} runs past the end ({n})", where)
        end = s.offset + s.length
        if any(view[end : _align8(end)]):
            raise ImageFormatError(f"non-zero padding after section {s.name}", f"offset {end}")
        pos = _align8(end)
        sections.append(s)
    for type_ in _REQUIRED:
        if type_ not in seen:
            raise ImageFormatError(f"required section {SECTION_NAMES[type_]} is missing", "section table")
    if any(view[table_end : _align8(table_end)]):
        raise ImageFormatError("non-zero padding after the section table", f"offset {table_end}")
    if digest_offset != pos:
        raise ImageFormatError(f"digest at {digest_offset}, expected {pos} (after the last section)", "offset 32")
    expected_end = digest_offset + 32
    if signature is not None:
        if signature.offset != expected_end or signature.length != _SIGNATURE_BYTES or signature.crc32 or signature.count:
            raise ImageFormatError(f"SIGNATURE entry must be {_SIGNATURE_BYTES} bytes at {expected_end} with zero CRC and count",
                                   "section table")
        expected_end += _SIGNATURE_BYTES
    if expected_end != n:
        raise ImageFormatError(f"image should end at {expected_end}, the file has {n} bytes", f"offset {min(expected_end, n)}")

    for s in sections:
        if s.type == MAP:
            ok = s.count <= lr and s.length == _map_length(lr, lc, pc, s.count)
            want = f"{_map_length(lr, lc, pc, min(s.count, lr))} bytes for {min(s.count, lr)} explicit rows of {lr}"
        elif s.type == ROUTER:
            ok = s.count == 3 and s.length == 3 * plane_bytes(pr * pc)
            want = f"3 planes of {plane_bytes(pr * pc)} bytes"
        elif s.type in (DEAD_CORES, DEAD_LINKS, ABSENT_SITES):
            limit = pr * pc * (2 if s.type == DEAD_LINKS else 1)
            ok = s.length == 4 * s.count and s.count <= limit
            want = f"4 bytes for each of at most {limit} entries"
        else:
            continue
        if not ok:
            raise ImageFormatError(f"length {s.length} / count {s.count} do not match the header's grids ({want})", s.where)
    return _Layout(header, sections, digest_offset)


def _check_integrity(data: bytes, layout: _Layout, public_key: bytes | None) -> tuple[str, bytes | None]:
    view = memoryview(data)
    for s in layout.sections:
        if s.type == SIGNATURE:
            continue
        crc = zlib.crc32(view[s.offset : s.offset + s.length])
        if crc != s.crc32:
            raise ImageCRCError(f"CRC32 {crc:08x}, stored {s.crc32:08x}", s.where)
    d = layout.digest_offset
    digest = hashlib.sha256(view[:d]).digest()
    if digest != data[d : d + 32]:
        raise ImageDigestError(f"SHA-256 of bytes 0..{d} is {digest.hex()[:16]}..., stored {bytes(view[d:d + 8]).hex()}...",
                               f"offset {d}")
    embedded: bytes | None = None
    signature = next((s for s in layout.sections if s.type == SIGNATURE), None)
    if signature is not None:
        from firmware_map.signing import verify_signature

        embedded = bytes(view[signature.offset : signature.offset + 32])
        sig = bytes(view[signature.offset + 32 : signature.offset + _SIGNATURE_BYTES])
        if not verify_signature(embedded, sig, digest):
            raise ImageSignatureError("Ed25519 signature does not verify", signature.where)
        if public_key is not None and public_key != embedded:
            raise ImageSignatureError("image is signed by a different key than the one given", signature.where)
    elif public_key is not None:
        raise ImageSignatureError("image is not signed but a public key was given", "section table")
    return digest.hex(), embedded


def _text(raw: bytes, what: str, where: str) -> str:
    stripped = raw.rstrip(b"\0")
    if b"\0" in stripped:
        raise ImageDecodeError(f"{what} has a NUL inside", where)
    try:
        return stripped.decode("utf-8")
    except UnicodeDecodeError:
        raise ImageDecodeError(f"{what} is not UTF-8", where) from None


def _json_object(raw: bytes | memoryview, what: str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(bytes(raw).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ImageDecodeError(f"{what} is not valid JSON", where) from None
    if not isinstance(value, dict):
        raise ImageDecodeError(f"{what} is not a JSON object", where)
    return value


def _sorted_u32(payload: memoryview, limit: int, what: str, where: str) -> np.ndarray:
    values = np.frombuffer(payload, dtype="<u4").astype(np.int64)
    if values.size and (values[-1] >= limit or (values.size > 1 and (np.diff(values) <= 0).any())):
        raise ImageDecodeError(f"{what} are not strictly increasing indices below {limit}", where)
    return values


def parse_image(data: bytes, *, public_key: bytes | None = None) -> FabricImage:
    """Parse and check a fabric image; return its header, sections and decoded content.

    Checks, in order: structure, version, header CRC, section CRCs, digest,
    signature (against the embedded key, and ``public_key`` when given), and
    that the content decodes to a valid :class:`RepairMap` structure. It does
    not check the repair map's invariants or the router planes: see
    :func:`firmware_map.verify.verify_image`.

    Parameters
    ----------
    data : bytes
        The whole image.
    public_key : bytes, optional
        Raw 32-byte Ed25519 public key the image must be signed with.

    Returns
    -------
    FabricImage
        Header fields, section table and the decoded :class:`RepairMap`.

    Raises
    ------
    ImageError
        A subclass naming the failing check and where.

    Examples
    --------
    >>> from yieldkit.defect_map import DefectMap
    >>> image = build_image(RepairMap(np.array([[0, 1], [3, 4]]), DefectMap(2, 3), scheme="row-shift"),
    ...                     wafer_id="W17")
    >>> parse_image(image)
    FabricImage(wafer_id='W17', version=1.0, grid=2x3, logical=2x2, scheme='row-shift', signed=False, digest=...)
    >>> parse_image(image[:-1])
    Traceback (most recent call last):
    ...
    firmware_map.errors.ImageFormatError: structure check failed at offset 24: header says ... bytes, the file has ... (truncated)
    """
    data = bytes(data)
    layout = _read_layout(data)
    digest, embedded = _check_integrity(data, layout, public_key)
    h = layout.header
    view = memoryview(data)
    pr, pc, lr, lc = h[10:14]
    wafer_id = _text(h[8], "wafer id", "offset 40")
    fingerprint = "" if h[9] == bytes(32) else h[9].hex()
    scheme_raw = h[14].rstrip(b"\0")
    if not scheme_raw or b"\0" in scheme_raw or not all(32 < ch < 127 for ch in scheme_raw):
        raise ImageDecodeError("scheme is not a non-empty printable ASCII name", "offset 120")
    scheme = scheme_raw.decode("ascii")
    params = _json_object(view[h[15] : h[15] + h[16]], "scheme parameters", f"offset {h[15]}")
    by_type = {s.type: s for s in layout.sections}

    def payload(type_: int) -> memoryview:
        s = by_type[type_]
        return view[s.offset : s.offset + s.length]

    m = by_type[MAP]
    grid = decode_map(payload(MAP), pr, pc, lr, lc, m.count, m.where)
    dead_sites = _sorted_u32(payload(DEAD_CORES), pr * pc, "dead cores", by_type[DEAD_CORES].where)
    dead_links = _sorted_u32(payload(DEAD_LINKS), 2 * pr * pc, "dead links", by_type[DEAD_LINKS].where)
    if dead_links.size:
        site, direction = np.divmod(dead_links, 2)
        outside = np.where(direction == 0, site % pc == pc - 1, site // pc == pr - 1)
        if outside.any():
            raise ImageDecodeError(f"dead link {int(dead_links[outside][0])} leaves the grid", by_type[DEAD_LINKS].where)
    absent = None
    if ABSENT_SITES in by_type:
        absent = _sorted_u32(payload(ABSENT_SITES), pr * pc, "absent sites", by_type[ABSENT_SITES].where)
        if np.isin(dead_sites, absent, assume_unique=True).any():
            raise ImageDecodeError("a dead core is listed as absent", by_type[ABSENT_SITES].where)
    meta: dict[str, Any] = {}
    if META in by_type:
        meta = _json_object(payload(META), "metadata", by_type[META].where)
    strings = {k: meta.get(k, "") for k in ("design", "defects_design", "reason", "algorithm")}
    complete = meta.get("complete", True)
    extra = meta.get("extra", {})
    if not all(isinstance(v, str) for v in strings.values()) or not isinstance(complete, bool) or not isinstance(extra, dict):
        raise ImageDecodeError("metadata fields have the wrong types", by_type[META].where)
    if not padding_clear(payload(ROUTER), pr * pc):
        raise ImageDecodeError("router planes have bits set past the last site", by_type[ROUTER].where)

    defects = DefectMap(pr, pc, dead_sites, dead_links, design=strings["defects_design"])
    repair_map = RepairMap(
        physical_of_logical=grid,
        defects=defects,
        scheme=scheme,
        scheme_params=params,
        design=strings["design"],
        design_fingerprint=fingerprint,
        complete=complete,
        reason=strings["reason"],
        algorithm=strings["algorithm"],
    )
    return FabricImage(
        version=(h[1], h[2]), header_length=h[3], image_length=h[6], wafer_id=wafer_id,
        design_fingerprint=fingerprint, physical_rows=pr, physical_cols=pc, logical_rows=lr,
        logical_cols=lc, scheme=scheme, scheme_params=params, sections=tuple(layout.sections),
        digest=digest, public_key=embedded, repair_map=repair_map, router_payload=bytes(payload(ROUTER)), metadata=extra,
        n_explicit_rows=m.count, absent_sites=absent,
    )


def decode_image(data: bytes, *, public_key: bytes | None = None) -> RepairMap:
    """The :class:`RepairMap` of an image (all of :func:`parse_image`'s checks apply).

    Examples
    --------
    >>> from yieldkit.defect_map import DefectMap
    >>> repair_map = RepairMap(np.array([[0, 2]]), DefectMap(1, 3, [1]), scheme="row-shift")
    >>> decode_image(build_image(repair_map)).physical_of_logical.tolist()
    [[0, 2]]
    """
    return parse_image(data, public_key=public_key).repair_map
