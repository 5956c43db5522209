"""Fabric traffic over every logical link with sequence numbers and CRCs.

Every logical link (east and south neighbours of the logical grid; id
``2 * (r * C + c) + d``, d = 0 east, 1 south) carries ``n_packets`` packets
in each direction. Packet ``s`` of direction ``d`` on logical link ``l``
holds a 64-bit payload :func:`payload` and its CRC-32; the receiver counts
the packets that arrive, the CRC failures, and the sequence numbers that
never arrive.

Under the loaded mapping a logical link is a physical route between the sites
of its two cores: an L-shaped path, horizontal first unless that crosses a
dead link and vertical first does not (the routing rule of
``yieldkit.verify`` and the firmware image). :func:`link_routes` computes the
routes vectorised; :func:`detect_fabric` reports every failing logical link
and, as suspects, the physical links used by failing routes and by no clean
route.

References
----------
W. W. Peterson, D. T. Brown, "Cyclic codes for error detection", Proc. IRE
49(1), 1961 (CRC; CRC-32 detects every single-bit and burst <= 32 error).
ISO/IEC 8802-3 (Ethernet CRC-32 polynomial, the one ``zlib.crc32`` computes).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from burnin.findings import Finding
from yieldkit.fabric import active_dead_links

__all__ = ["FabricRoutes", "FabricOutput", "link_routes", "payload", "packet_crc", "detect_fabric"]


@dataclass(frozen=True, eq=False)
class FabricRoutes:
    """Physical routes of all logical links, compressed by route.

    Attributes
    ----------
    logical_shape : (int, int)
    links : ndarray of int64
        Sorted logical link ids.
    ptr : ndarray of int64, shape (len(links) + 1,)
        Route ``i`` is ``physical[ptr[i]:ptr[i + 1]]``.
    physical : ndarray of int64
        Physical link ids (``yieldkit.defect_map`` convention).
    physical_cols : int

    Examples
    --------
    >>> routes = link_routes(np.array([[0, 2], [4, 5]]), 3)
    >>> routes.routes_using_links([3]).tolist(), routes.routes_touching_sites([5]).tolist()
    ([1], [2, 3])
    >>> routes.owner.tolist()
    [0, 0, 1, 1, 2, 3]
    """

    logical_shape: tuple[int, int]
    links: np.ndarray
    ptr: np.ndarray
    physical: np.ndarray
    physical_cols: int

    @property
    def owner(self) -> np.ndarray:
        """Route index of every entry of ``physical``."""
        return np.repeat(np.arange(self.links.size), np.diff(self.ptr))

    def routes_using_links(self, physical_links: np.ndarray) -> np.ndarray:
        """Route indices that use any of ``physical_links`` (sorted, unique)."""
        hit = np.isin(self.physical, physical_links)
        return np.unique(self.owner[hit])

    def routes_touching_sites(self, sites: np.ndarray) -> np.ndarray:
        """Route indices whose path starts, ends or passes at any of ``sites``."""
        a = self.physical // 2
        b = np.where(self.physical % 2 == 0, a + 1, a + self.physical_cols)
        hit = np.isin(a, sites) | np.isin(b, sites)
        return np.unique(self.owner[hit])

    def route(self, index: int) -> np.ndarray:
        return self.physical[self.ptr[index]:self.ptr[index + 1]]


def _segments(owner_len: np.ndarray):
    owner = np.repeat(np.arange(owner_len.size), owner_len)
    start = np.cumsum(owner_len) - owner_len
    return owner, np.arange(owner.size) - start[owner]


def _l_route(ra, ca, rb, cb, pc: int, vertical_first: bool):
    """(owner, link) of L-shaped routes, in path order."""
    nh, nv = np.abs(cb - ca), np.abs(rb - ra)
    h_row = rb if vertical_first else ra
    v_col = ca if vertical_first else cb
    oh, kh = _segments(nh)
    hl = 2 * (h_row[oh] * pc + np.minimum(ca, cb)[oh] + kh)
    ov, kv = _segments(nv)
    vl = 2 * ((np.minimum(ra, rb)[ov] + kv) * pc + v_col[ov]) + 1
    length = nh + nv
    start = np.cumsum(length) - length
    first_len = nv if vertical_first else nh
    owner = np.repeat(np.arange(length.size), length)
    link = np.empty(owner.size, np.int64)
    if vertical_first:
        link[start[ov] + kv] = vl
        link[start[oh] + first_len[oh] + kh] = hl
    else:
        link[start[oh] + kh] = hl
        link[start[ov] + first_len[ov] + kv] = vl
    return owner, link


def link_routes(physical_of_logical: np.ndarray, physical_cols: int,
                dead_links: np.ndarray | None = None) -> FabricRoutes:
    """Physical routes of every logical link under a mapping.

    Parameters
    ----------
    physical_of_logical : ndarray of int64, shape (R, C)
        The loaded mapping (flat physical site of each logical core).
    physical_cols : int
        Columns of the physical grid.
    dead_links : ndarray of int64, optional
        Dead physical links. Those between two serving sites are avoided by
        the vertical-first alternative; a dead link next to a bypassed site is
        carried by the redundant links (:mod:`yieldkit.fabric`).

    Returns
    -------
    FabricRoutes

    Examples
    --------
    >>> pol = np.array([[0, 2], [4, 5]])       # a 2 x 3 physical grid, site 1 skipped
    >>> r = link_routes(pol, 3)
    >>> r.links.tolist()
    [0, 1, 3, 4]
    >>> [r.route(i).tolist() for i in range(4)]
    [[0, 2], [0, 3], [5], [8]]
    """
    pol = np.asarray(physical_of_logical, np.int64)
    rows, cols = pol.shape
    rr, cc = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    east_id = 2 * (rr[:, :-1] * cols + cc[:, :-1])
    south_id = 2 * (rr[:-1, :] * cols + cc[:-1, :]) + 1
    ids = np.concatenate([east_id.ravel(), south_id.ravel()])
    a = np.concatenate([pol[:, :-1].ravel(), pol[:-1, :].ravel()])
    b = np.concatenate([pol[:, 1:].ravel(), pol[1:, :].ravel()])
    order = np.argsort(ids)
    ids, a, b = ids[order], a[order], b[order]
    ra, ca = np.divmod(a, physical_cols)
    rb, cb = np.divmod(b, physical_cols)
    owner, link = _l_route(ra, ca, rb, cb, physical_cols, vertical_first=False)
    if dead_links is not None and len(dead_links):
        serving = np.zeros(int(max(pol.max(), np.max(dead_links) // 2)) + physical_cols + 1, bool)
        serving[pol.ravel()] = True
        dead = active_dead_links(np.asarray(dead_links, np.int64), physical_cols, serving)
        blocked = np.bincount(owner, weights=np.isin(link, dead), minlength=ids.size) > 0
        if blocked.any():
            sel = np.flatnonzero(blocked)
            vo, vl = _l_route(ra[sel], ca[sel], rb[sel], cb[sel], physical_cols, vertical_first=True)
            vblocked = np.bincount(vo, weights=np.isin(vl, dead), minlength=sel.size) > 0
            switch = np.zeros(ids.size, bool)
            switch[sel[~vblocked]] = True
            keep = ~switch[owner]
            vkeep = ~vblocked[vo]
            owner = np.concatenate([owner[keep], sel[vo[vkeep]]])
            link = np.concatenate([link[keep], vl[vkeep]])
            order = np.argsort(owner, kind="stable")
            owner, link = owner[order], link[order]
    ptr = np.zeros(ids.size + 1, np.int64)
    ptr[1:] = np.cumsum(np.bincount(owner, minlength=ids.size))
    return FabricRoutes((rows, cols), ids, ptr, link, physical_cols)


def payload(link: int, direction: int, seq: int) -> int:
    """The 64-bit payload of a packet (a SplitMix64 hash of its identity).

    References
    ----------
    G. Steele, D. Lea, C. Flood, "Fast splittable pseudorandom number
    generators", OOPSLA 2014 (SplitMix64 finaliser).

    Examples
    --------
    >>> payload(0, 0, 0) != payload(0, 0, 1)
    True
    """
    z = ((link * 2 + direction) * 0x10000 + seq + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return z ^ (z >> 31)


def packet_crc(data: int) -> int:
    """CRC-32 (ISO/IEC 8802-3 polynomial) of a 64-bit payload, little-endian.

    Examples
    --------
    >>> packet_crc(0) == packet_crc(1)
    False
    """
    return zlib.crc32(int(data).to_bytes(8, "little"))


@dataclass(frozen=True, eq=False)
class FabricOutput:
    """Receiver counters of one traffic pass (rows follow ``FabricRoutes.links``).

    Attributes
    ----------
    n_packets : int
        Packets sent per logical link and direction.
    links : ndarray of int64
        Logical link ids.
    received, crc_errors, missing : ndarray of int64, shape (n_links, 2)
        Per direction (0 = from the link's first core, 1 = back): packets
        received, received with a failing CRC, sequence numbers never received.
    """

    n_packets: int
    links: np.ndarray
    received: np.ndarray
    crc_errors: np.ndarray
    missing: np.ndarray


def detect_fabric(output: FabricOutput, routes: FabricRoutes) -> list[Finding]:
    """Failing logical links, with the physical links suspected.

    A link fails when a packet is missing, arrives with a bad CRC, or fewer
    than ``n_packets`` arrive in either direction. Suspects are the
    physical links of its route that no clean route uses.

    Returns
    -------
    list of Finding
        ``evidence``: ``received``, ``crc_errors``, ``missing`` (per direction),
        ``physical_links`` (its route), ``suspects``.

    Examples
    --------
    >>> routes = link_routes(np.array([[0, 1], [2, 3]]), 2)
    >>> n = routes.links.size
    >>> full, zero = np.full((n, 2), 4), np.zeros((n, 2), np.int64)
    >>> detect_fabric(FabricOutput(4, routes.links, full, zero, zero), routes)
    []
    >>> bad = zero.copy(); bad[0, 1] = 2
    >>> [(f.link, f.evidence["suspects"]) for f in detect_fabric(FabricOutput(4, routes.links, full, bad, zero), routes)]
    [(0, [0])]
    """
    failing = ((output.received < output.n_packets) | (output.crc_errors > 0) | (output.missing > 0)).any(axis=1)
    if not failing.any():
        return []
    owner = routes.owner
    clean_use = np.bincount(routes.physical[~failing[owner]], minlength=int(routes.physical.max()) + 1)
    out = []
    cols = routes.logical_shape[1]
    for i in np.flatnonzero(failing).tolist():
        lid = int(output.links[i])
        r, c = divmod(lid // 2, cols)
        path = routes.route(i)
        out.append(Finding("fabric", r, c, link=lid, evidence={
            "received": output.received[i].tolist(), "crc_errors": output.crc_errors[i].tolist(),
            "missing": output.missing[i].tolist(), "physical_links": path.tolist(),
            "suspects": path[clean_use[path] == 0].tolist()}))
    return out
