"""The next fabric image of a remapped wafer: built, then checked to carry exactly the verified map.

The map itself has already passed the independent verifier
(``yieldkit.verify.verify_repair_map``, inside :func:`burnin.remap.remap` or
``repair_wafer``); :func:`build_checked_image` builds its image and decodes
it back (``firmware_map.decode_image``: structure, CRCs, digest), requiring
the same mapping and defects. ``full=True`` also runs every check of
``firmware_map.verify_image`` against the design (a second run of the
invariants, about 2x the cost on ``wse``).
"""

from __future__ import annotations

import numpy as np

from firmware_map.image import build_image, decode_image
from firmware_map.verify import verify_image
from yieldkit.design import Design
from yieldkit.errors import Failure
from yieldkit.repair_map import RepairMap

__all__ = ["build_checked_image", "ImageCheckError"]


class ImageCheckError(Failure):
    """A built image does not carry the map it was built from (a bug, not bad input)."""


def build_checked_image(repair_map: RepairMap, serial: str, design: Design, full: bool = False) -> bytes:
    """The image of ``repair_map`` for wafer ``serial``, checked (module docstring).

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> from yieldkit.defect_map import DefectMap
    >>> from yieldkit.repair import repair_wafer
    >>> d = load_design("small")
    >>> image = build_checked_image(repair_wafer(d, DefectMap.empty(d)).repair_map, "W1", d, full=True)
    >>> image[:8]
    b'YKFABIMG'
    """
    image = build_image(repair_map, wafer_id=serial, design=design)
    back = decode_image(image)
    same = (np.array_equal(back.physical_of_logical, repair_map.physical_of_logical)
            and np.array_equal(back.defects.dead_sites, repair_map.defects.dead_sites)
            and np.array_equal(back.defects.dead_links, repair_map.defects.dead_links))
    if not same:
        raise ImageCheckError(f"the image built for {serial} does not decode to its repair map")
    if full:
        report = verify_image(image, defects=repair_map.defects, design=design)
        if not report.ok:
            raise ImageCheckError(f"the image built for {serial} fails {report.failed.check}: {report.failed}")
    return image
