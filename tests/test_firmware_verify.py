"""firmware_map.verify: every check, in order, with the first failure and where."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from yieldkit.defect_map import DefectMap
from yieldkit.design import load_design
from yieldkit.repair_map import RepairMap

from firmware_map import build_image, parse_image
from firmware_map import image as im
from firmware_map.router import pack_planes, router_planes
from firmware_map.errors import MismatchError
from firmware_map.signing import generate_key, public_key_bytes
from firmware_map.verify import MALFORMED_CHECKS, verify_image
from tests.fabric_samples import planned_map, tiny_design

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
    return planned_map(small, dead)


@pytest.fixture(scope="module")
def valid_img(valid_map, small):
    return build_image(valid_map, wafer_id="W2", design=small)


def _names(report):
    return [c.check for c in report.checks]


def test_valid_image_passes_every_check(valid_img):
    report = verify_image(valid_img)
    assert report.ok and report.exit_code == 0, report.to_dict()
    assert _names(report) == ["structure", "version", "header_crc", "crc", "digest", "decode", "router",
                              "design", "invariants"]
    assert report.design == "small"
    d = report.to_dict()
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
    grid = planned_map(small).physical_of_logical.copy()
    grid[10, 20] = grid[10, 21]                      # two logical cores on one site
    rm = RepairMap(grid, DefectMap.empty(small), scheme="row-shift", scheme_params={"reach": 1},
                   design="small", design_fingerprint=small.fingerprint)
    report = verify_image(build_image(rm))
    assert report.failed.check == "invariants" and report.exit_code == 1
    assert report.n_violations >= 1
    assert report.violations[0]["invariant"] in {"injective", "reach"}
    assert "logical" in report.failed.where


def test_dead_site_in_the_image_defects_is_an_invariant_failure(small):
    rm = planned_map(small)
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


def test_defect_map_of_another_grid_is_bad_input(valid_img):
    """Files that do not belong together are an InputError (exit 2), not a failed check (exit 1)."""
    with pytest.raises(MismatchError, match=r"^defects: the defect map is for a 10x10 grid, the image for 64x68$"):
        verify_image(valid_img, defects=DefectMap(10, 10))


def test_design_of_another_grid_or_fingerprint_is_bad_input(valid_img, valid_map):
    with pytest.raises(MismatchError, match=r"^design: the repair map is for a 64x68 grid, design 'tiny' is 8x10$"):
        verify_image(valid_img, design=tiny_design())
    small = load_design("small")
    other = small.with_spares_per_row(4)  # same grid, same fingerprint inputs
    assert verify_image(valid_img, design=other).ok
    reach2 = dataclasses.replace(small, scheme_params={"reach": 2})
    assert reach2.fingerprint != small.fingerprint
    with pytest.raises(MismatchError, match="^design: the repair map was planned for design 'small'"):
        verify_image(valid_img, design=reach2)
    with pytest.raises(MismatchError, match="^design: "):
        build_image(valid_map, design=reach2)


def test_design_check_is_skipped_with_a_reason_when_no_design_is_known(valid_map, small):
    """An image naming a preset whose grid it does not have: the design check is listed as skipped, not absent."""
    tiny = tiny_design()
    tiny_map = planned_map(tiny)
    named_small = RepairMap(tiny_map.physical_of_logical, tiny_map.defects, tiny_map.scheme, tiny_map.scheme_params,
                            design="small", design_fingerprint=tiny.fingerprint, algorithm=tiny_map.algorithm)
    report = verify_image(build_image(named_small))
    assert report.ok
    (design,) = [c for c in report.checks if c.check == "design"]
    assert design.skipped and "preset 'small' but is for a 8x10 grid, the preset is 64x68" in design.message
    assert report.to_dict()["checks"][_names(report).index("design")]["skipped"] is True
    report = verify_image(build_image(tiny_map))  # names no preset at all
    (design,) = [c for c in report.checks if c.check == "design"]
    assert design.skipped and "'tiny', not a preset" in design.message
    report = verify_image(build_image(valid_map))  # the preset's own fingerprint: checked, not skipped
    (design,) = [c for c in report.checks if c.check == "design"]
    assert not design.skipped and design.ok and design.where == "preset 'small'"


def test_malformed_checks_are_the_integrity_ones():
    assert MALFORMED_CHECKS == {"structure", "version", "header_crc", "crc", "digest", "signature", "decode"}


def _left_aligned_map(design) -> RepairMap:
    """Hand-made valid map: logical row i on physical row offset + i, its cores on the leftmost live sites.

    On ``wse`` the rows of the clipped corners start at different columns, so
    the L routes between neighbouring rows cross sites outside the wafer.
    """
    off, lr, lc = design.logical_row_offset, design.logical_rows, design.logical_cols
    band = design.site_exists[off:off + lr]
    rows, cols = np.nonzero(band & (np.cumsum(band, axis=1) <= lc))
    grid = ((rows + off) * design.cols + cols).reshape(lr, lc).astype(np.int64)
    return RepairMap(grid, DefectMap.empty(design), design.scheme, dict(design.scheme_params), design=design.name,
                     design_fingerprint=design.fingerprint, algorithm="test.left_aligned")


def test_image_built_without_its_design_must_not_route_through_absent_sites():
    wse = load_design("wse")
    rm = _left_aligned_map(wse)
    report = verify_image(build_image(rm))              # no ABSENT_SITES: routes ignore the clipped corners
    assert report.failed.check == "router" and "absent sites of design 'wse'" in report.failed.message
    assert verify_image(build_image(rm, design=wse)).ok
    planned = planned_map(wse)                          # the planner's map needs no route outside the wafer
    assert verify_image(build_image(planned)).ok
