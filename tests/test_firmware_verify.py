"""firmware_map.verify: every check, in order, with the first failure and where."""

from __future__ import annotations

import numpy as np
import pytest

from yieldkit.defect_map import DefectMap
from yieldkit.design import load_design
from yieldkit.repair_map import RepairMap

from firmware_map import build_image, parse_image
from firmware_map import image as im
from firmware_map.router import pack_planes, router_planes
from firmware_map.samples import row_shift_map, tiny_design
from firmware_map.signing import generate_key, public_key_bytes
from firmware_map.verify import MALFORMED_CHECKS, verify_image

pytest.importorskip("yieldkit.verify")


@pytest.fixture(scope="module")
def small():
    return load_design("small")


@pytest.fixture(scope="module")
def valid_map(small):
    """At most one dead site per even row: shifts of neighbouring rows differ by <= 1 = reach."""
    rng = np.random.default_rng(2)
    rows = np.arange(0, 64, 4)
    dead = rows * small.cols + rng.integers(0, 64, rows.size)
    return row_shift_map(small, DefectMap(small.rows, small.cols, dead, design="small"))


@pytest.fixture(scope="module")
def valid_img(valid_map, small):
    return build_image(valid_map, wafer_id="W2", design=small)


def _names(report):
    return [c.check for c in report.checks]


def test_valid_image_passes_every_check(valid_img):
    report = verify_image(valid_img)
    assert report.ok and report.exit_code == 0, report.as_dict()
    assert _names(report) == ["structure", "version", "header_crc", "crc", "digest", "decode", "router",
                              "design", "invariants"]
    assert report.design == "small"
    d = report.as_dict()
    assert d["ok"] and d["failed_check"] is None and d["violations"] == []


def test_signed_image_checks_the_signature(valid_map):
    key = generate_key()
    img = build_image(valid_map, signing_key=key)
    report = verify_image(img, public_key=public_key_bytes(key))
    assert report.ok and "signature" in _names(report)
    bad = verify_image(img, public_key=public_key_bytes(generate_key()))
    assert bad.failed.check == "signature" and bad.exit_code == 2
    assert "SIGNATURE" in bad.failed.where


@pytest.mark.parametrize(("where", "check"), [(20, "header_crc"), (400, "crc"), (-5, "digest")])
def test_tampered_bytes_name_the_check_and_exit_2(valid_img, where, check):
    bad = bytearray(valid_img)
    bad[where] ^= 0x10
    report = verify_image(bytes(bad))
    assert report.failed.check == check and report.exit_code == 2
    assert check in report.error_line()
    names = _names(report)
    assert names[-1] == check and all(c.ok for c in report.checks[:-1])


def test_newer_major_is_a_version_failure(valid_img):
    bad = bytearray(valid_img)
    bad[8] = 2
    report = verify_image(bytes(bad))
    assert report.failed.check == "version" and "newer than this reader" in report.failed.message


def _reassemble(rm: RepairMap, router: bytes | None = None, design=None) -> bytes:
    """A well-formed, correctly sealed image whose ROUTER section may lie."""
    good = parse_image(build_image(rm, design=design))
    data = build_image(rm, design=design)
    sections = []
    for s in good.sections:
        payload = data[s.offset:s.offset + s.length]
        if s.type == im.ROUTER and router is not None:
            payload = router
        sections.append((s.type, s.flags, payload, s.count))
    import struct

    h = struct.unpack_from("<8sHHIIIQQ32s32sIIII16sII", data, 0)
    return im.assemble_image(wafer_id=h[8], fingerprint=h[9], grids=h[10:14], scheme=h[14],
                             scheme_params=data[h[15]:h[15] + h[16]], sections=sections)


def test_router_entry_that_disagrees_with_the_map_is_found(valid_map, small):
    planes = router_planes(valid_map.physical_of_logical, 64, 68, valid_map.defects.dead_links,
                           np.flatnonzero(~small.site_exists.ravel()))
    planes[1, 5, 7] = ~planes[1, 5, 7]
    report = verify_image(_reassemble(valid_map, pack_planes(planes), design=small))
    assert report.failed.check == "router" and report.exit_code == 1
    assert report.failed.where == "site (5, 7), plane east"


def test_invariant_violation_is_reported_with_location(small):
    grid = row_shift_map(small).physical_of_logical.copy()
    grid[10, 20] = grid[10, 21]                      # two logical cores on one site
    rm = RepairMap(grid, DefectMap.empty(small), scheme="row-shift", scheme_params={"reach": 1},
                   design="small", design_fingerprint=small.fingerprint)
    report = verify_image(build_image(rm))
    assert report.failed.check == "invariants" and report.exit_code == 1
    assert report.n_violations >= 1
    assert report.violations[0]["invariant"] in {"injective", "reach"}
    assert "logical" in report.failed.where


def test_dead_site_in_the_image_defects_is_an_invariant_failure(small):
    rm = row_shift_map(small)
    p = rm.physical_of_logical
    rm2 = RepairMap(p, DefectMap(small.rows, small.cols, [int(p[3, 3])]), scheme=rm.scheme,
                    scheme_params=rm.scheme_params, design="small", design_fingerprint=small.fingerprint)
    report = verify_image(build_image(rm2))
    assert report.failed.check == "invariants"
    assert report.violations[0]["invariant"] == "target_alive"
    assert report.violations[0]["logical"] == [3, 3]


def test_external_defect_map_dead_site_fails_the_defects_check(valid_img, valid_map, small):
    p = valid_map.physical_of_logical
    later = DefectMap(small.rows, small.cols, np.append(valid_map.defects.dead_sites, p[7, 9]), design="small")
    report = verify_image(valid_img, defects=later)
    assert report.failed.check == "defects" and report.exit_code == 1
    r, c = divmod(int(p[7, 9]), small.cols)
    assert report.failed.where == f"logical (7, 9) -> physical ({r}, {c})"
    assert verify_image(valid_img, defects=valid_map.defects).ok


def test_external_defect_map_dead_link_fails_the_defects_check(valid_img, valid_map, small):
    p = valid_map.physical_of_logical
    site = int(p[5, 5])
    link = 2 * site + 1                             # its S link, the only route to logical (6, 5)
    r, c = divmod(site, small.cols)
    assert int(p[6, 5]) == site + small.cols
    later = DefectMap(small.rows, small.cols, valid_map.defects.dead_sites, [link], design="small")
    report = verify_image(valid_img, defects=later)
    assert report.failed.check == "defects"
    assert report.violations[0]["invariant"] == "dead_link"


def test_defect_map_of_another_grid_fails(valid_img):
    report = verify_image(valid_img, defects=DefectMap(10, 10))
    assert report.failed.check == "defects" and "10x10" in report.failed.message


def test_design_mismatch_is_reported(valid_img):
    report = verify_image(valid_img, design=tiny_design())
    assert report.failed.check == "design" and report.exit_code == 1
    other = load_design("small").with_spares_per_row(4)  # same grid, same fingerprint inputs
    assert verify_image(valid_img, design=other).ok


def test_malformed_checks_are_the_integrity_ones():
    assert MALFORMED_CHECKS == {"structure", "version", "header_crc", "crc", "digest", "signature", "decode"}


def test_image_built_without_its_design_must_not_route_through_absent_sites():
    wse = load_design("wse")
    rm = row_shift_map(wse)
    report = verify_image(build_image(rm))              # no ABSENT_SITES: routes ignore the clipped corners
    assert report.failed.check == "router" and "absent sites of design 'wse'" in report.failed.message
    assert verify_image(build_image(rm, design=wse)).ok
