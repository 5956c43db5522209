"""Verify a fabric image end to end: integrity, content, and the repair-map invariants.

:func:`verify_image` runs the checks of FORMAT.md in order and stops at the
first failure, reporting which check failed and where. Integrity and decoding
(``structure`` .. ``decode``) come from :func:`firmware_map.image.parse_image`;
then the stored router planes are compared with the planes recomputed from
the decoded map, the design fingerprint is checked when a design is known,
the repair map's invariants are re-checked with
:func:`yieldkit.verify.verify_repair_map`, and, with an external defect map,
no logical core may land on one of its dead sites.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from yieldkit.defect_map import DefectMap
from yieldkit.design import Design, list_presets, load_design

from firmware_map.errors import ImageError
from firmware_map.image import FabricImage, parse_image
from firmware_map.router import PLANES, pack_planes, router_planes

__all__ = ["CheckResult", "VerifyReport", "verify_image", "MALFORMED_CHECKS", "check_router", "design_for", "preset_for"]

#: Checks whose failure means a malformed or tampered file (CLI exit 2); the others exit 1.
MALFORMED_CHECKS = frozenset({"structure", "version", "header_crc", "crc", "digest", "signature", "decode"})
_INTEGRITY = ("structure", "version", "header_crc", "crc", "digest")
_MAX_VIOLATIONS = 20


@dataclass(frozen=True)
class CheckResult:
    """One check: its name, whether it held, and for a failure where and why."""

    check: str
    ok: bool
    where: str = ""
    message: str = ""


@dataclass
class VerifyReport:
    """Outcome of :func:`verify_image`.

    ``checks`` lists the checks run, in order, ending at the first failure;
    ``failed`` is that failure (None when all held); ``violations`` holds up
    to 20 repair-map invariant violations as dicts.
    """

    checks: list[CheckResult] = field(default_factory=list)
    image: FabricImage | None = None
    violations: list[dict[str, Any]] = field(default_factory=list)
    n_violations: int = 0
    design: str = ""

    @property
    def failed(self) -> CheckResult | None:
        return next((c for c in self.checks if not c.ok), None)

    @property
    def ok(self) -> bool:
        return self.failed is None

    @property
    def exit_code(self) -> int:
        failed = self.failed
        if failed is None:
            return 0
        return 2 if failed.check in MALFORMED_CHECKS else 1

    def error_line(self) -> str:
        f = self.failed
        if f is None:
            return ""
        return f"{f.check} check failed" + (f" at {f.where}" if f.where else "") + f": {f.message}"

    def as_dict(self) -> dict[str, Any]:
        f = self.failed
        return {
            "ok": self.ok,
            "failed_check": f.check if f else None,
            "where": f.where if f else None,
            "message": f.message if f else None,
            "checks": [asdict(c) for c in self.checks],
            "design": self.design or None,
            "signed": self.image.signed if self.image is not None else None,
            "digest": self.image.digest if self.image is not None else None,
            "n_violations": self.n_violations,
            "violations": self.violations,
        }


def check_router(image: FabricImage, absent_sites: np.ndarray | None = None) -> CheckResult:
    """Stored router planes against the planes recomputed from the decoded map.

    ``absent_sites`` defaults to the image's ``ABSENT_SITES``.
    """
    rm = image.repair_map
    absent = absent_sites if absent_sites is not None else image.absent_sites
    expected = router_planes(rm.physical_of_logical, rm.physical_rows, rm.physical_cols, rm.defects.dead_links,
                             absent)
    if pack_planes(expected) == image.router_payload:
        return CheckResult("router", True)
    differ = expected != image.router
    plane, row, col = (int(v) for v in np.argwhere(differ)[0])
    stored = bool(image.router[plane, row, col])
    return CheckResult("router", False, f"site ({row}, {col}), plane {PLANES[plane]}",
                       f"stored bit is {int(stored)}, the map implies {int(not stored)} "
                       f"({int(differ.sum())} bits differ)")


@lru_cache(maxsize=8)
def preset_for(name: str, fingerprint: str) -> Design | None:
    """The shipped preset called ``name`` if its fingerprint is ``fingerprint``, else None.

    Cached: a Design is immutable, and its site mask is then computed once per process.
    """
    if name in list_presets() and fingerprint:
        candidate = load_design(name)
        if candidate.fingerprint == fingerprint:
            return candidate
    return None


def design_for(image: FabricImage, design: Design | None) -> tuple[Design | None, CheckResult | None]:
    """The design to check invariants against, and the result of the ``design`` check (None if not run).

    With no design given, the preset named in the image's metadata is used
    when its fingerprint matches the image's.
    """
    fingerprint = image.design_fingerprint
    if design is None:
        candidate = preset_for(image.repair_map.design, fingerprint)
        if candidate is not None:
            return candidate, _absent_matches(image, candidate) or CheckResult("design", True, f"preset '{candidate.name}'")
        return None, None
    grids = (design.rows, design.cols)
    if grids != (image.physical_rows, image.physical_cols):
        return design, CheckResult("design", False, "header (offset 104)",
                                   f"image is for a {image.physical_rows}x{image.physical_cols} grid, design "
                                   f"'{design.name}' is {design.rows}x{design.cols}")
    if fingerprint and fingerprint != design.fingerprint:
        return design, CheckResult("design", False, "header (offset 72)",
                                   f"image was built for design fingerprint {fingerprint[:12]}..., "
                                   f"'{design.name}' has {design.fingerprint[:12]}...")
    return design, _absent_matches(image, design) or CheckResult("design", True, f"design '{design.name}'")


def _absent_matches(image: FabricImage, design: Design) -> CheckResult | None:
    """A failed ``design`` check when the image's absent sites are not the design's, else None."""
    if image.absent_sites is None:
        return None
    expected = np.flatnonzero(~design.site_exists.ravel())
    if np.array_equal(expected, image.absent_sites):
        return None
    odd = np.setxor1d(expected, image.absent_sites)
    r, c = divmod(int(odd[0]), design.cols)
    return CheckResult("design", False, f"site ({r}, {c})",
                       f"ABSENT_SITES disagrees with design '{design.name}' on {odd.size} sites")


def _violation_dict(v: Any) -> dict[str, Any]:
    return {"invariant": v.invariant, "logical": list(v.logical) if v.logical is not None else None,
            "physical": list(v.physical) if v.physical is not None else None, "message": v.message}


def _violation_where(v: Any) -> str:
    parts = []
    if v.logical is not None:
        parts.append(f"logical ({v.logical[0]}, {v.logical[1]})")
    if v.physical is not None:
        parts.append(f"physical ({v.physical[0]}, {v.physical[1]})")
    return " -> ".join(parts) or "map"


def _invariants(report: VerifyReport, check: str, image: FabricImage, design: Design | None,
                defects: DefectMap | None) -> bool:
    from yieldkit.verify import verify_repair_map

    violations = verify_repair_map(image.repair_map, design=design, defects=defects)
    if not violations:
        report.checks.append(CheckResult(check, True))
        return True
    first = violations[0]
    report.n_violations = len(violations)
    report.violations = [_violation_dict(v) for v in violations[:_MAX_VIOLATIONS]]
    report.checks.append(CheckResult(check, False, _violation_where(first),
                                     f"{first.invariant}: {first.message}"
                                     + (f" (and {len(violations) - 1} more)" if len(violations) > 1 else "")))
    return False


def _check_defects(image: FabricImage, defects: DefectMap) -> CheckResult:
    if (defects.rows, defects.cols) != (image.physical_rows, image.physical_cols):
        return CheckResult("defects", False, "defect map",
                           f"defect map is {defects.rows}x{defects.cols}, the image "
                           f"{image.physical_rows}x{image.physical_cols}")
    p = image.repair_map.physical_of_logical
    on_dead = np.isin(p, defects.dead_sites)
    if on_dead.any():
        i, j = (int(v) for v in np.argwhere(on_dead)[0])
        r, c = divmod(int(p[i, j]), image.physical_cols)
        return CheckResult("defects", False, f"logical ({i}, {j}) -> physical ({r}, {c})",
                           f"logical core lands on a dead site ({int(on_dead.sum())} cores do)")
    return CheckResult("defects", True)


def verify_image(data: bytes, *, defects: DefectMap | None = None, public_key: bytes | None = None,
                 design: Design | None = None) -> VerifyReport:
    """Run every check of FORMAT.md on an image; stop at the first failure.

    Parameters
    ----------
    data : bytes
        The image.
    defects : DefectMap, optional
        A defect map (e.g. from a later inspection or burn-in) the map must
        avoid: no logical core on one of its dead sites, and the invariants
        hold over its dead links.
    public_key : bytes, optional
        Raw Ed25519 public key the image must be signed with.
    design : Design, optional
        The design to check the fingerprint and site existence against;
        default: the preset named in the image when its fingerprint matches.
    """
    report = VerifyReport()
    try:
        image = parse_image(data, public_key=public_key)
    except ImageError as exc:
        for name in _INTEGRITY:
            if name == exc.check:
                break
            report.checks.append(CheckResult(name, True))
        report.checks.append(CheckResult(exc.check, False, exc.where, exc.message))
        return report
    report.image = image
    report.checks.extend(CheckResult(name, True) for name in _INTEGRITY)
    if image.signed or public_key is not None:
        report.checks.append(CheckResult("signature", True, "embedded key" if public_key is None else "given key"))
    report.checks.append(CheckResult("decode", True))
    report.checks.append(check_router(image))
    if not report.ok:
        return report
    resolved, design_check = design_for(image, design)
    if design_check is not None:
        report.checks.append(design_check)
        if not design_check.ok:
            return report
    report.design = resolved.name if resolved is not None else ""
    if resolved is not None and image.absent_sites is None and not resolved.site_exists.all():
        # Built without the design: its routes must still avoid the design's absent sites.
        result = check_router(image, np.flatnonzero(~resolved.site_exists.ravel()))
        if not result.ok:
            report.checks.append(CheckResult("router", False, result.where,
                                             f"{result.message}; the image does not list the absent sites of "
                                             f"design '{resolved.name}' and routes through them (rebuild with the design)"))
            return report
    if not _invariants(report, "invariants", image, resolved, None):
        return report
    if defects is not None:
        result = _check_defects(image, defects)
        if not result.ok:
            report.checks.append(result)
            return report
        _invariants(report, "defects", image, resolved, defects)
    return report
