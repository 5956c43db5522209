"""firmware_map.image: build -> parse round trip, determinism, versions, hostile headers."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from yieldkit.defect_map import DefectMap
from yieldkit.design import load_design
from yieldkit.errors import InputError
from yieldkit.repair_map import RepairMap

from firmware_map import (
    ImageBuildError,
    ImageCRCError,
    ImageDecodeError,
    ImageDigestError,
    ImageFormatError,
    ImageHeaderCRCError,
    ImageSignatureError,
    ImageVersionError,
    build_image,
    decode_image,
    parse_image,
)
from firmware_map import image as im
from firmware_map.signing import generate_key, public_key_bytes
from tests.fabric_samples import (
    assert_same_repair_map as assert_same_map,
    planned_map,
    random_dead_links,
    random_dead_sites,
)


@pytest.fixture(scope="module")
def small():
    return load_design("small")


@pytest.fixture(scope="module")
def small_map(small):
    rng = np.random.default_rng(4)
    return planned_map(small, random_dead_sites(small, 10, rng))


def test_identity_map_round_trips(small):
    grid = (np.arange(64)[:, None] * small.cols + np.arange(64)[None, :]).astype(np.int64)
    rm = RepairMap(grid, DefectMap.empty(small), scheme="none", design="small",
                   design_fingerprint=small.fingerprint, algorithm="identity")
    img = build_image(rm)
    assert_same_map(decode_image(img), rm)


def test_planned_map_round_trips_with_metadata(small_map):
    img = build_image(small_map, wafer_id="W17", metadata={"built_at": "2026-01-02T03:04:05Z", "lot": 3})
    fi = parse_image(img)
    assert_same_map(fi.repair_map, small_map)
    assert fi.wafer_id == "W17"
    assert fi.metadata == {"built_at": "2026-01-02T03:04:05Z", "lot": 3}
    assert fi.version == im.VERSION
    assert fi.design_fingerprint == small_map.design_fingerprint
    assert fi.scheme == "row-shift" and fi.scheme_params == {"reach": 1}
    assert fi.n_explicit_rows == 0
    assert not fi.signed


def test_degraded_map_metadata_round_trips(small):
    grid = (np.arange(60)[:, None] * small.cols + np.arange(62)[None, :]).astype(np.int64)
    rm = RepairMap(grid, DefectMap(small.rows, small.cols, [5, 700], [1, 2 * 70 + 1], design="other"),
                   scheme="row-shift", scheme_params={"reach": 1, "note": "ünïcode"}, design="small",
                   design_fingerprint="", complete=False, reason="row 3 has 5 dead cores, 4 spares",
                   algorithm="greedy")
    assert_same_map(decode_image(build_image(rm, wafer_id="wafer-é")), rm)
    assert parse_image(build_image(rm, wafer_id="wafer-é")).wafer_id == "wafer-é"


def test_rows_that_are_not_bitmap_encodable_round_trip(small):
    grid = (np.arange(64)[:, None] * small.cols + np.arange(64)[None, :]).astype(np.int64)
    grid[3, -1] = 4 * small.cols + 67      # logical row 3 bends into physical row 4
    grid[10] = grid[10][::-1].copy()       # columns decreasing along the row
    grid[20, 5], grid[20, 6] = grid[20, 6], grid[20, 5]
    rm = RepairMap(grid, DefectMap.empty(small), scheme="row-col", design="small")
    fi = parse_image(build_image(rm))
    assert fi.n_explicit_rows == 3
    assert_same_map(fi.repair_map, rm)


def test_build_is_deterministic_and_canonical(small_map):
    a = build_image(small_map, wafer_id="W1", metadata={"b": 1, "a": [1, 2]})
    b = build_image(small_map, wafer_id="W1", metadata={"a": [1, 2], "b": 1})
    assert a == b
    assert build_image(decode_image(a), wafer_id="W1", metadata={"a": [1, 2], "b": 1}) == a


def test_signed_image_round_trips_and_signature_is_deterministic(small_map):
    key = generate_key()
    a = build_image(small_map, signing_key=key)
    assert a == build_image(small_map, signing_key=key)
    fi = parse_image(a, public_key=public_key_bytes(key))
    assert fi.signed and fi.public_key == public_key_bytes(key)
    assert_same_map(fi.repair_map, small_map)
    with pytest.raises(ImageSignatureError, match="different key"):
        parse_image(a, public_key=public_key_bytes(generate_key()))
    with pytest.raises(ImageSignatureError, match="not signed"):
        parse_image(build_image(small_map), public_key=public_key_bytes(key))
    bad = bytearray(a)
    bad[-1] ^= 0x01
    with pytest.raises(ImageSignatureError, match="does not verify"):
        parse_image(bytes(bad))


def test_wse_map_round_trips_under_one_byte_per_core():
    wse = load_design("wse")
    rng = np.random.default_rng(11)
    spare_rows = range(wse.logical_row_offset)  # above the logical band
    rm = planned_map(wse, random_dead_sites(wse, 200, rng), random_dead_links(wse, 20, rng, spare_rows))
    img = build_image(rm, wafer_id="W17")
    fi = parse_image(img)
    assert_same_map(fi.repair_map, rm)
    sizes = {s.name: s.length for s in fi.sections}
    assert (sizes["MAP"] + sizes["ROUTER"]) / rm.physical_of_logical.size < 1.0
    assert len(img) / rm.physical_of_logical.size < 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"wafer_id": "x" * 33}, "wafer id"),
        ({"wafer_id": "a\0b"}, "wafer id"),
        ({"metadata": {"t": object()}}, "JSON"),
        ({"metadata": {"x": float("nan")}}, "JSON"),
    ],
)
def test_build_rejects_unrepresentable_inputs(small_map, kwargs, message):
    with pytest.raises(ImageBuildError, match=message):
        build_image(small_map, **kwargs)


def test_build_rejects_bad_maps(small):
    grid = np.zeros((2, 2), np.int64)
    grid[0, 0] = small.rows * small.cols
    with pytest.raises(ImageBuildError, match="outside"):
        build_image(RepairMap(grid, DefectMap.empty(small), scheme="x"))
    with pytest.raises(ImageBuildError, match="scheme"):
        build_image(RepairMap(np.zeros((1, 1), np.int64), DefectMap.empty(small), scheme="a-very-long-scheme-name"))
    with pytest.raises(ImageBuildError, match="fingerprint"):
        build_image(RepairMap(np.zeros((1, 1), np.int64), DefectMap.empty(small), scheme="x", design_fingerprint="abc"))


# ---------------------------------------------------------------- versions
def _forge(rm: RepairMap, **overrides) -> bytes:
    """An image assembled from ``rm`` with raw fields or sections replaced."""
    pr, pc = rm.physical_rows, rm.physical_cols
    payload, n_explicit = im.encode_map(rm.physical_of_logical, pr, pc)
    from firmware_map.router import pack_planes, router_planes

    planes = router_planes(rm.physical_of_logical, pr, pc, rm.defects.dead_links)
    sections = [
        (im.MAP, 1, payload, n_explicit),
        (im.ROUTER, 1, pack_planes(planes), 3),
        (im.DEAD_CORES, 1, rm.defects.dead_sites.astype("<u4").tobytes(), rm.defects.n_dead_sites),
        (im.DEAD_LINKS, 1, rm.defects.dead_links.astype("<u4").tobytes(), rm.defects.n_dead_links),
    ]
    args = dict(wafer_id=bytes(32), fingerprint=bytes(32), grids=(pr, pc, rm.logical_rows, rm.logical_cols),
                scheme=rm.scheme.encode().ljust(16, b"\0"), scheme_params=b'{"reach":1}', sections=sections)
    extra_sections = overrides.pop("extra_sections", [])
    args["sections"] = sections + extra_sections
    args.update(overrides)
    return im.assemble_image(**args)


def test_forge_helper_matches_a_valid_image(small_map):
    fi = parse_image(_forge(small_map))
    assert np.array_equal(fi.repair_map.physical_of_logical, small_map.physical_of_logical)


def test_newer_minor_with_unknown_optional_section_and_header_field_is_read(small_map):
    img = _forge(small_map, version=(1, 7), header_extra=b"NEWFIELD" * 2,
                 extra_sections=[(99, 0, b"future data", 5)])
    fi = parse_image(img)
    assert fi.version == (1, 7)
    assert np.array_equal(fi.repair_map.physical_of_logical, small_map.physical_of_logical)
    assert any(s.type == 99 for s in fi.sections)


def test_unknown_critical_section_is_rejected(small_map):
    with pytest.raises(ImageFormatError, match="unknown critical section type 99"):
        parse_image(_forge(small_map, version=(1, 7), extra_sections=[(99, 1, b"must understand", 0)]))


@pytest.mark.parametrize("major", [2, 65535])
def test_newer_major_is_rejected_with_a_clear_message(small_map, major):
    with pytest.raises(ImageVersionError, match=rf"version {major}\.0 is newer than this reader \(1\.0\)"):
        parse_image(_forge(small_map, version=(major, 0)))


def test_major_zero_is_rejected(small_map):
    with pytest.raises(ImageVersionError, match="not supported"):
        parse_image(_forge(small_map, version=(0, 9)))


# ---------------------------------------------------------------- hostile input
def _patch(img: bytes, offset: int, fmt: str, value, fix_header_crc: bool = True) -> bytes:
    """Overwrite a header/table field, recomputing the header CRC (a forger's move)."""
    b = bytearray(img)
    struct.pack_into(fmt, b, offset, value)
    if fix_header_crc:
        header_length, _, count = struct.unpack_from("<III", b, 12)
        end = header_length + 32 * count
        b[16:20] = b"\0\0\0\0"
        struct.pack_into("<I", b, 16, zlib.crc32(bytes(b[:end])))
    return bytes(b)


@pytest.fixture(scope="module")
def small_img(small_map):
    return build_image(small_map, wafer_id="W1")


@pytest.mark.parametrize("n", [0, 1, 7, 11, 12, 100, 143, 144, 200])
def test_truncated_files_are_rejected(small_img, n):
    with pytest.raises(ImageFormatError, match="truncated|header says|runs past|end at|lie outside|header length"):
        parse_image(small_img[:n])


def test_truncated_tail_is_rejected(small_img):
    for cut in (1, 8, 32, 33, len(small_img) // 2):
        with pytest.raises(ImageFormatError):
            parse_image(small_img[:-cut])


def test_trailing_bytes_are_rejected(small_img):
    with pytest.raises(ImageFormatError, match="trailing"):
        parse_image(small_img + b"\0")


def test_wrong_magic(small_img):
    with pytest.raises(ImageFormatError, match="not a fabric image"):
        parse_image(b"PK\x03\x04" + small_img[4:])


def test_header_crc_localises_header_corruption(small_img):
    with pytest.raises(ImageHeaderCRCError, match="header"):
        parse_image(_patch(small_img, 104, "<I", 65, fix_header_crc=False))


@pytest.mark.parametrize(
    ("offset", "fmt", "value", "match"),
    [
        (12, "<I", 1 << 30, "header length"),
        (12, "<I", 145, "header length"),
        (20, "<I", 0, "section count"),
        (20, "<I", 1 << 31, "section count"),
        (24, "<Q", 1 << 62, "header says"),
        (32, "<Q", 8, "digest at"),
        (104, "<I", 1 << 31, "physical grid"),
        (104, "<I", 0, "physical grid"),
        (108, "<I", 70000, "physical grid|length"),
        (112, "<I", 1 << 20, "logical grid"),
        (116, "<I", 0, "logical grid"),
        (136, "<I", 0, "scheme parameters"),
        (140, "<I", 1 << 31, "scheme parameters"),
    ],
)
def test_lying_header_fields_are_rejected(small_img, offset, fmt, value, match):
    with pytest.raises(ImageFormatError, match=match):
        parse_image(_patch(small_img, offset, fmt, value))


def _entry_offset(img: bytes, k: int) -> int:
    header_length = struct.unpack_from("<I", img, 12)[0]
    return header_length + 32 * k


@pytest.mark.parametrize(
    ("field", "fmt", "value", "match"),
    [
        (8, "<Q", 1 << 60, "starts at"),
        (16, "<Q", 1 << 60, "runs past"),
        (16, "<Q", 3, "length .* count|digest at|padding"),
        (28, "<I", 0xFFFFFFFF, "count|length"),
        (0, "<I", 2, "appears twice"),
    ],
)
def test_lying_section_entries_are_rejected(small_img, field, fmt, value, match):
    with pytest.raises(ImageFormatError, match=match):
        parse_image(_patch(small_img, _entry_offset(small_img, 0) + field, fmt, value))


def test_huge_dead_core_count_is_checked_before_allocation(small_img):
    entry = _entry_offset(small_img, 2)
    forged = _patch(_patch(small_img, entry + 28, "<I", 1 << 31), entry + 16, "<Q", 1 << 33)
    with pytest.raises(ImageFormatError):
        parse_image(forged)


def test_section_crc_localises_payload_corruption(small_img):
    fi = parse_image(small_img)
    router = fi.section(im.ROUTER)
    bad = bytearray(small_img)
    bad[router.offset + 10] ^= 0x40
    with pytest.raises(ImageCRCError, match=r"section ROUTER \(offset \d+"):
        parse_image(bytes(bad))


def test_digest_catches_what_crcs_miss(small_img):
    fi = parse_image(small_img)
    dead = fi.section(im.DEAD_CORES)
    bad = bytearray(small_img)
    bad[dead.offset] ^= 0x01
    entry = next(k for k, s in enumerate(fi.sections) if s.type == im.DEAD_CORES)
    struct.pack_into("<I", bad, _entry_offset(small_img, entry) + 24,
                     zlib.crc32(bytes(bad[dead.offset:dead.offset + dead.length])))
    forged = _patch(bytes(bad), 20, "<I", struct.unpack_from("<I", bad, 20)[0])  # recompute header CRC
    with pytest.raises(ImageDigestError):
        parse_image(forged)


def test_forged_consistent_image_with_bad_content_fails_decode(small_map):
    pr, pc = small_map.physical_rows, small_map.physical_cols
    payload, _ = im.encode_map(small_map.physical_of_logical, pr, pc)
    bad_payload = bytearray(payload)
    bad_payload[0:4] = struct.pack("<I", 5000)     # logical row 0 on a physical row that does not exist
    img = _forge(small_map)
    fi_sections = [(im.MAP, 1, bytes(bad_payload), 0)]
    forged = _forge(small_map, sections=fi_sections + [
        (t, f, p, c) for (t, f, p, c) in _sections_of(img) if t != im.MAP])
    with pytest.raises(ImageDecodeError, match="physical row 5000"):
        parse_image(forged)


def _sections_of(img: bytes) -> list[tuple[int, int, bytes, int]]:
    fi = parse_image(img)
    return [(s.type, s.flags, img[s.offset:s.offset + s.length], s.count) for s in fi.sections]


@pytest.mark.parametrize(
    ("type_", "payload", "count", "match"),
    [
        (im.DEAD_CORES, struct.pack("<II", 9, 3), 2, "strictly increasing"),
        (im.DEAD_CORES, struct.pack("<I", 64 * 68), 1, "strictly increasing"),
        (im.DEAD_LINKS, struct.pack("<I", 2 * 67), 1, "leaves the grid"),
        (im.DEAD_LINKS, struct.pack("<I", 2 * (63 * 68) + 1), 1, "leaves the grid"),
        (im.META, b"[" * 100000, 0, "not valid JSON"),
        (im.META, b"[1, 2]", 0, "not a JSON object"),
        (im.META, b'{"complete": "yes"}', 0, "wrong types"),
        (im.META, b"\xff\xfe", 0, "not valid JSON"),
    ],
)
def test_bad_section_content_fails_decode(small_img, type_, payload, count, match):
    sections = [(t, f, payload if t == type_ else p, count if t == type_ else c) for (t, f, p, c) in _sections_of(small_img)]
    fi = parse_image(small_img)
    rm = fi.repair_map
    with pytest.raises(ImageDecodeError, match=match):
        parse_image(_forge(rm, sections=sections))


def test_bad_bitmap_bit_count_fails_decode(small_map):
    pr, pc = small_map.physical_rows, small_map.physical_cols
    payload = bytearray(im.encode_map(small_map.physical_of_logical, pr, pc)[0])
    payload[4 * 64 + 9 * 3] ^= 0x01                  # row 3 of the bitmaps gains or loses a site
    sections = [(im.MAP, 1, bytes(payload), 0)] + [s for s in _sections_of(_forge(small_map)) if s[0] != im.MAP]
    with pytest.raises(ImageDecodeError, match="logical row 3: bitmap selects"):
        parse_image(_forge(small_map, sections=sections))


def test_bitmap_kernel_equals_its_numpy_reference():
    rng = np.random.default_rng(2)
    physical_cols, logical_cols = 21, 14
    bits = np.zeros((40, 24), dtype=bool)
    for k in range(40):  # most rows select exactly logical_cols columns, some more or fewer
        bits[k, rng.choice(physical_cols, logical_cols + int(rng.integers(-2, 3)) * (k % 3 == 0), replace=False)] = True
    bits[7, 22] = True  # a bit past the last physical column
    packed = np.packbits(bits, axis=1, bitorder="little")
    for rows, past in ((packed, True), (np.delete(packed, 7, axis=0), False)):
        fast, ref = im._bitmap_columns(rows, physical_cols, logical_cols), im._bitmap_columns_numpy(rows, physical_cols, logical_cols)
        assert np.array_equal(fast[0], ref[0]) and np.array_equal(fast[1], ref[1]) and fast[2] == ref[2] == past
    assert ref[1].min() < logical_cols < ref[1].max()


def test_errors_are_input_errors_with_one_line(small_img):
    try:
        parse_image(small_img[:50])
    except InputError as exc:
        assert "\n" not in str(exc) and exc.check == "structure"
    else:  # pragma: no cover
        pytest.fail("no error")


def test_missing_required_section(small_map):
    sections = [s for s in _sections_of(_forge(small_map)) if s[0] != im.ROUTER]
    with pytest.raises(ImageFormatError, match="ROUTER is missing"):
        parse_image(_forge(small_map, sections=sections))


def test_signature_must_be_last_and_well_placed(small_map):
    sections = _sections_of(_forge(small_map)) + [(im.SIGNATURE, 0, bytes(96), 0)]
    with pytest.raises(ImageFormatError):
        parse_image(_forge(small_map, sections=sections))


def test_parsed_image_record_and_repr(small_map):
    import json

    key = generate_key()
    fi = parse_image(build_image(small_map, wafer_id="W17", metadata={"lot": 3}, signing_key=key))
    record = json.loads(json.dumps(fi.to_dict()))  # flat and JSON-safe
    assert record["wafer_id"] == "W17" and record["metadata"] == {"lot": 3} and record["signed"] is True
    assert record["public_key"] == public_key_bytes(key).hex() and record["digest_sha256"] == fi.digest
    assert record["dead_cores"] == small_map.defects.n_dead_sites and record["absent_sites"] is None
    assert "\n" not in repr(fi) and len(repr(fi)) < 200 and "W17" in repr(fi)
    assert [s.to_dict()["name"] for s in fi.sections][:2] == ["MAP", "ROUTER"]
