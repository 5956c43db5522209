"""Hostile input: every single-byte flip is detected; fuzzed images never crash the reader.

The reader must answer every input with either a parsed image or a typed
``ImageError`` (an ``InputError``: one line, exit 2), never another exception,
and never allocate in proportion to an unchecked length. Besides raw
mutations (which the CRCs and digest catch early), the fuzzer *reseals*
mutated images, recomputing CRCs and digest as a forger would, so the
decoder itself sees hostile content.
"""

from __future__ import annotations

import hashlib
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yieldkit.defect_map import DefectMap
from yieldkit.design import load_design

from firmware_map import ImageError, build_image, parse_image
from firmware_map import image as im
from firmware_map.signing import generate_key
from tests.fabric_samples import planned_map, tiny_design

# 2500 derandomized examples: the lines of image.py, verify.py and router.py the readers reach still
# grow up to there (forged images: 276 lines at 300 examples, 319 at 600 and 1200, 345 at 2500; mutated:
# 369 at 500, 378 at 1000, 386 at 2500). Drawing the examples, not reading them (< 1 ms each), is
# what takes the time, so these two tests are marked slow (they still run in the default suite).
FUZZ = settings(max_examples=2500, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _tiny_map():
    d = tiny_design()
    # dead sites in rows 2 and 4, a dead S link between the spare rows 6 and 7
    return planned_map(d, [2 * 10 + 3, 4 * 10 + 0], [2 * (6 * 10 + 5) + 1])


TINY_MAP = _tiny_map()
TINY = build_image(TINY_MAP, wafer_id="T1", metadata={"k": "v"})
TINY_SIGNED = build_image(TINY_MAP, wafer_id="T1", signing_key=generate_key())


def _explicit_map():
    d = tiny_design()
    p = planned_map(d).physical_of_logical.copy()
    p[1, -1] = 2 * d.cols + 9   # logical row 1 bends into physical row 2: explicit encoding
    p[2] = p[2][::-1]
    from yieldkit.repair_map import RepairMap

    return RepairMap(p, DefectMap.empty(d), scheme="row-col", design="tiny")


TINY_EXPLICIT = build_image(_explicit_map())


def _parses_or_image_error(data: bytes) -> None:
    try:
        parse_image(data)
    except ImageError as exc:
        assert "\n" not in str(exc)
    else:
        _verifies_without_crashing(data)


def _verifies_without_crashing(data: bytes) -> None:
    """verify_image on a decodable image returns a report (needs yieldkit.verify)."""
    try:
        from firmware_map.verify import verify_image
        import yieldkit.verify  # noqa: F401
    except ImportError:
        return
    report = verify_image(data)
    assert report.exit_code in (0, 1, 2)


# ---------------------------------------------------------------- every byte
@pytest.mark.parametrize("name", ["tiny", "tiny_signed", "tiny_explicit", "small"])
@pytest.mark.parametrize("mask", [0x01, 0x80, 0xFF])
def test_flipping_any_single_byte_is_detected(name, mask):
    if name == "small":
        img = build_image(planned_map(load_design("small")), wafer_id="S")
    else:
        img = {"tiny": TINY, "tiny_signed": TINY_SIGNED, "tiny_explicit": TINY_EXPLICIT}[name]
    parse_image(img)
    undetected = []
    for offset in range(len(img)):
        bad = bytearray(img)
        bad[offset] ^= mask
        try:
            parse_image(bytes(bad))
        except ImageError:
            continue
        undetected.append(offset)
    assert undetected == []


def test_every_truncation_is_detected():
    for n in range(len(TINY_SIGNED)):
        with pytest.raises(ImageError):
            parse_image(TINY_SIGNED[:n])


# ---------------------------------------------------------------- resealing
def reseal(data: bytes) -> bytes:
    """Recompute section CRCs, header CRC and digest wherever the fields allow (a forger's move)."""
    b = bytearray(data)
    try:
        header_length, _, count = struct.unpack_from("<III", b, 12)
        if count > 64 or header_length > len(b):
            return bytes(b)
        for k in range(count):
            at = header_length + 32 * k
            if at + 32 > len(b):
                break
            type_, _, offset, length = struct.unpack_from("<IIQQ", b, at)
            if type_ != im.SIGNATURE and offset + length <= len(b):
                struct.pack_into("<I", b, at + 24, zlib.crc32(bytes(b[offset:offset + length])))
        end = header_length + 32 * count
        if end <= len(b):
            b[16:20] = b"\0\0\0\0"
            struct.pack_into("<I", b, 16, zlib.crc32(bytes(b[:end])))
        digest_offset = struct.unpack_from("<Q", b, 32)[0]
        if digest_offset + 32 <= len(b):
            b[digest_offset:digest_offset + 32] = hashlib.sha256(bytes(b[:digest_offset])).digest()
    except struct.error:
        pass
    return bytes(b)


def test_reseal_is_a_no_op_on_valid_images():
    assert reseal(TINY) == TINY


BASES = [TINY, TINY_SIGNED, TINY_EXPLICIT]


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "set", "int", "cut", "insert", "delete", "splice"]))
        top = max(len(data) - 1, 0)
        low = draw(st.sampled_from([0, min(320, top)]))  # half the time, inside the payloads
        pos = draw(st.integers(low, top))
        if kind == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "int" and len(data) >= 8:
            pos = min(pos, len(data) - 8) & ~3
            value = draw(st.sampled_from([0, 1, 2, 3, 7, 8, 255, 0xFFFF, 1 << 31, 0xFFFFFFFF, 1 << 32, 1 << 63,
                                          (1 << 64) - 1, len(data), len(data) + 8]))
            struct.pack_into("<Q", data, pos, value)
        elif kind == "cut":
            del data[pos:]
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[pos:pos + draw(st.integers(1, 16))]
        elif kind == "splice":
            other = draw(st.sampled_from(BASES))
            start = draw(st.integers(0, len(other) - 1))
            chunk = other[start:start + draw(st.integers(1, 64))]
            data[pos:pos + len(chunk)] = chunk
    return bytes(data), draw(st.booleans())


@pytest.mark.slow
@FUZZ
@given(mutated())
def test_mutated_images_never_crash_the_reader(case):
    data, do_reseal = case
    _parses_or_image_error(reseal(data) if do_reseal else data)


# ---------------------------------------------------------------- hostile content behind valid integrity
def _u32s(values) -> bytes:
    return struct.pack(f"<{len(values)}I", *values)


@st.composite
def consistent_sections(draw, pr, pc, lr, lc):
    """Sections whose lengths and counts agree with the grids, with hostile content."""
    n_sites = pr * pc
    n_exp = draw(st.integers(0, lr))
    table = []
    for i in range(lr):
        if draw(st.integers(0, lr)) < n_exp and table.count(0xFFFFFFFF) < n_exp:
            table.append(0xFFFFFFFF)
        else:
            table.append(draw(st.sampled_from([i % pr] * 6 + [0, pr - 1, pr, 0xFFFFFFFE])))
    n_exp = table.count(0xFFFFFFFF)
    row_bytes = (pc + 7) // 8
    bitmaps = b""
    for _ in range(lr - n_exp):
        if draw(st.integers(0, 5)):
            cols = draw(st.sets(st.integers(0, pc - 1), min_size=min(lc, pc), max_size=min(lc, pc)))
            bits = np.zeros(row_bytes * 8, bool)
            bits[sorted(cols)] = True
            bitmaps += np.packbits(bits, bitorder="little").tobytes()
        else:
            bitmaps += draw(st.binary(min_size=row_bytes, max_size=row_bytes))
    explicit = _u32s(draw(st.lists(st.sampled_from([0, 1, n_sites - 1, n_sites, 0xFFFFFFFF]),
                                   min_size=n_exp * lc, max_size=n_exp * lc)))
    count = n_exp if draw(st.integers(0, 19)) else draw(st.integers(0, lr + 1))
    map_payload = _u32s(table) + bitmaps + explicit
    router_len = 3 * ((n_sites + 7) // 8)
    router = draw(st.one_of(st.just(bytes(router_len)), st.binary(min_size=router_len, max_size=router_len)))
    if n_sites % 8 and draw(st.booleans()):  # padding bits of each plane clear
        planes = np.unpackbits(np.frombuffer(router, np.uint8).reshape(3, -1), axis=1, bitorder="little")
        planes[:, n_sites:] = 0
        router = np.packbits(planes, axis=1, bitorder="little").tobytes()

    def sorted_list(limit):
        values = draw(st.lists(st.integers(0, limit + 2), max_size=8))
        return sorted(set(values)) if draw(st.integers(0, 3)) else values

    cores, links = sorted_list(n_sites), sorted_list(2 * n_sites)
    meta = draw(st.sampled_from([b"{}", b'{"complete":false,"reason":"x"}', b"[" * 5000, b"\xff", b'{"extra":1}',
                                 b'{"design":3}', b"null", b'{"extra":{"a":[1,2]}}']))
    sections = [(im.MAP, 1, map_payload, count), (im.ROUTER, 1, router, 3),
                (im.DEAD_CORES, 1, _u32s(cores), len(cores)), (im.DEAD_LINKS, 1, _u32s(links), len(links))]
    if draw(st.booleans()):
        sections.append((im.META, 0, meta, 0))
    if draw(st.integers(0, 4)) == 0:
        sections.append((77, 0, draw(st.binary(max_size=16)), 0))
    return draw(st.permutations(sections))


@st.composite
def forged(draw):
    if draw(st.integers(0, 4)):
        pr, pc = draw(st.integers(1, 12)), draw(st.integers(1, 12))
        lr, lc = draw(st.integers(1, pr)), draw(st.integers(1, pc))
        sections = draw(consistent_sections(pr, pc, lr, lc))
    else:
        pr = draw(st.sampled_from([1, 2, 3, 8, 64, 65535, 1 << 20, (1 << 31) - 1]))
        pc = draw(st.sampled_from([1, 2, 3, 10, 68, 65535, 1 << 20]))
        lr = draw(st.sampled_from([1, 2, 6, 8, pr]))
        lc = draw(st.sampled_from([1, 2, 8, 10, pc]))
        sections = []
        for type_ in (im.MAP, im.ROUTER, im.DEAD_CORES, im.DEAD_LINKS, im.META, 77):
            if draw(st.integers(0, 9)) == 0:
                continue
            payload = draw(st.binary(max_size=64))
            count = draw(st.sampled_from([0, 1, 3, len(payload) // 4, 0xFFFFFFFF]))
            sections.append((type_, draw(st.sampled_from([0, 1])), payload, count))
    sane = draw(st.integers(0, 5)) > 0  # mostly a sane header, so the sections get decoded
    if sane:
        scheme = draw(st.sampled_from([b"row-shift"] * 4 + [b"none", b"row-col", b"block", b"mystery"])).ljust(16, b"\0")
    else:
        scheme = draw(st.sampled_from([bytes(16), b"\xff" * 16, b"a\0b".ljust(16, b"\0")]))
    params = draw(st.sampled_from([b'{"reach":1}', b"{}", b'{"reach":"x"}', b'{"reach":-1}', b'{"reach":[1]}',
                                   b'{"d":1e300,"b":"q","s":0}'] if sane else [b"[]", b"nope", b"", b'{"a":' * 3000]))
    return im.assemble_image(wafer_id=draw(st.sampled_from([bytes(32), b"W".ljust(32, b"\0")] if sane else [b"\xff" * 32, b"a\0b".ljust(32, b"\0")])),
                             fingerprint=draw(st.sampled_from([bytes(32), b"\x01" * 32])), grids=(pr, pc, lr, lc),
                             scheme=scheme, scheme_params=params, sections=sections,
                             version=(1, draw(st.integers(0, 3))))


@pytest.mark.slow
@FUZZ
@given(forged())
def test_forged_images_with_valid_integrity_never_crash_the_reader(data):
    _parses_or_image_error(data)


def test_huge_claimed_grid_is_rejected_without_allocating():
    img = im.assemble_image(wafer_id=bytes(32), fingerprint=bytes(32), grids=(46340, 46340, 46340, 46340),
                            scheme=b"x".ljust(16, b"\0"), scheme_params=b"{}",
                            sections=[(t, 1, b"", 0) for t in (im.MAP, im.ROUTER, im.DEAD_CORES, im.DEAD_LINKS)])
    with pytest.raises(ImageError, match="length"):
        parse_image(img)


def test_valid_reseal_of_tiny_still_round_trips():
    fi = parse_image(reseal(TINY))
    assert np.array_equal(fi.repair_map.physical_of_logical, TINY_MAP.physical_of_logical)
