"""firmware_map.router: bypass and port-enable planes of hand-made maps."""

from __future__ import annotations

import numpy as np

from firmware_map.router import pack_planes, plane_bytes, router_planes, unpack_planes


def _grid(sites, cols):
    return np.array([[r * cols + c for r, c in row] for row in sites], dtype=np.int64)


def test_identity_map_enables_every_inner_link_and_bypasses_nothing():
    p = np.arange(12, dtype=np.int64).reshape(3, 4)
    planes = router_planes(p, 3, 4)
    assert not planes[0].any()
    assert planes[1][:, :3].all() and not planes[1][:, 3].any()
    assert planes[2][:2].all() and not planes[2][2].any()


def test_row_shift_bypasses_the_skipped_site_and_routes_through_it():
    # 2 x 4 physical, 2 x 3 logical; site (0, 1) is skipped in row 0.
    p = _grid([[(0, 0), (0, 2), (0, 3)], [(1, 0), (1, 1), (1, 2)]], 4)
    bypass, east, south = router_planes(p, 2, 4)
    assert bypass.tolist() == [[False, True, False, False], [False, False, False, True]]
    # row 0: logical 0-1 crosses (0,0)->(0,1)->(0,2); row 1: (1,0)..(1,2)
    assert east.tolist() == [[True, True, True, False], [True, True, False, False]]
    # vertical pairs, horizontal first: (0,0)->(1,0); (0,2)->(0,1)->(1,1); (0,3)->(0,2)->(1,2)
    assert south.tolist() == [[True, True, True, False], [False, False, False, False]]


def test_dead_link_between_serving_sites_turns_the_route_vertical_first():
    # logical (0, 1) at (0, 2) -> (1, 1) at (1, 1): horizontal first crosses E (0,1)-(0,2), whose ends both serve
    p = _grid([[(0, 1), (0, 2)], [(1, 0), (1, 1)]], 3)
    _, east, south = router_planes(p, 2, 3)
    assert south[0].tolist() == [True, True, False] and east[1].tolist() == [True, False, False]
    dead_e = np.array([2 * (0 * 3 + 1) + 0])
    _, east, south = router_planes(p, 2, 3, dead_e)
    assert south[0].tolist() == [True, False, True] and east[1].tolist() == [True, True, False]


def test_dead_link_with_a_bypassed_end_is_off_every_route():
    # (0, 1) serves no core: the redundant links bypass it, its dead E link changes nothing
    p = _grid([[(0, 2)], [(1, 1)]], 3)
    expected = router_planes(p, 2, 3)
    assert expected[1][0].tolist() == [False, True, False] and expected[2][0].tolist() == [False, True, False]
    dead_e = np.array([2 * (0 * 3 + 1) + 0])
    assert np.array_equal(router_planes(p, 2, 3, dead_e), expected)


def test_dead_link_on_both_routes_keeps_horizontal_first():
    # logical (0, 1) at (0, 2) -> (1, 1) at (1, 1); every corner site serves, E (0,1) and E (1,1) are dead
    p = _grid([[(0, 1), (0, 2), (0, 3)], [(1, 0), (1, 1), (1, 2)]], 4)
    dead = np.array([2 * 1 + 0, 2 * (1 * 4 + 1) + 0])
    _, east, south = router_planes(p, 2, 4, dead)
    assert south[0].tolist() == [True, True, True, False]  # columns 0, 1 (horizontal first kept) and 2
    assert east[0][1]


def test_pack_unpack_round_trip_with_padding():
    rng = np.random.default_rng(0)
    planes = rng.random((3, 5, 7)) < 0.5
    payload = pack_planes(planes)
    assert len(payload) == 3 * plane_bytes(35) == 15
    back, clean = unpack_planes(payload, 5, 7)
    assert clean and np.array_equal(back, planes)
    dirty = bytearray(payload)
    dirty[4] |= 0x80                                     # bit 39 of plane 0: past site 34
    assert not unpack_planes(bytes(dirty), 5, 7)[1]


def test_routes_kernel_equals_its_numpy_reference():
    from firmware_map.router import router_planes_numpy

    rng = np.random.default_rng(11)
    rows, cols = 30, 44
    r0, c0 = np.meshgrid(np.arange(24) + 3, np.arange(30) + 7, indexing="ij")
    # shifted cores: bent E and S edges, skips of up to 3 sites, some rows far off (long segments)
    r = np.clip(r0 + rng.integers(-2, 3, r0.shape) * (rng.random(r0.shape) < 0.2), 0, rows - 1)
    c = np.clip(c0 + rng.integers(-3, 4, c0.shape) * (rng.random(c0.shape) < 0.2), 0, cols - 1)
    c[5] = np.arange(30) + 10
    r[7, 20:] = rows - 1
    p = r * cols + c
    absent = np.flatnonzero(rng.random(rows * cols) < 0.03)
    links = np.sort(rng.choice(2 * rows * cols, 120, replace=False))
    flipped = 0
    for dead, gone in ((None, None), (links, None), (None, absent), (links, absent)):
        fast = router_planes(p, rows, cols, dead, gone)
        assert np.array_equal(fast, router_planes_numpy(p, rows, cols, dead, gone))
        flipped += int((fast != router_planes(p, rows, cols)).sum())
    assert flipped  # some routes took the vertical-first L: the dead-link branch was compared too
