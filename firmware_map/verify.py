"""Verify a fabric image end to end: integrity, content, and the repair-map invariants.

:func:`verify_image` runs the checks of FORMAT.md in order and stops at the
first failure, reporting which check failed and where. Integrity and decoding
(``structure`` .. ``decode``) come from :func:`firmware_map.image.parse_image`;
then the stored router planes are compared with the planes recomputed from
the decoded map, the design fingerprint is checked when a design is known (and the ``design``
check is reported as skipped, with the reason, when none is),
the repair map's invariants are re-checked with
:func:`yieldkit.verify.verify_repair_map`, and, with an external defect map,
no logical core may land on one of its dead sites.

A defect map or design of another grid or design is not a verification
finding but bad input: :class:`~firmware_map.errors.MismatchError`
(an ``InputError``) is raised before any content check.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from yieldkit.defect_map import DefectMap
from yieldkit.design import Design, list_presets, load_design

from firmware_map.errors import ImageError, MismatchError
from firmware_map.image import FabricImage, check_design, parse_image
from firmware_map.router import PLANES, pack_planes, router_planes

__all__ = ["CheckResult", "VerifyReport", "verify_image", "MALFORMED_CHECKS", "check_router", "design_for",
           "preset_for", "check_defects_grid"]

#: Checks whose failure means a malformed or tampered file (CLI exit 2); the others exit 1.
MALFORMED_CHECKS = frozenset({"structure", "version", "header_crc", "crc", "digest", "signature", "decode"})
_INTEGRITY = ("structure", "version", "header_crc", "crc", "digest")
_MAX_VIOLATIONS = 20


@dataclass(frozen=True)
class CheckResult:
    """One check: its name, whether it held, and for a failure where and why.

    A skipped check (``skipped=True``, ``ok=True``) could not run; its
    ``message`` says why (e.g. no design to check against).
    """

    check: str
    ok: bool
    where: str = ""
    message: str = ""
    skipped: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The check as a flat, JSON-safe record."""
        return asdict(self)


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

    def __repr__(self) -> str:
        failed = self.failed
        return (f"VerifyReport(ok={self.ok}, failed={failed.check if failed else None!r}, "
                f"design={self.design!r}, checks={len(self.checks)})")

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-safe record (checks as a list of records)."""
        f = self.failed
        return {
            "ok": self.ok,
            "failed_check": f.check if f else None,
            "where": f.where if f else None,
            "message": f.message if f else None,
            "checks": [c.to_dict() for c in self.checks],
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


def design_for(image: FabricImage, design: Design | None) -> tuple[Design | None, CheckResult]:
    """The design to check invariants against, and the result of the ``design`` check.

    With no design given, the preset named in the image's metadata is used
    when its fingerprint matches the image's; otherwise the check is
    skipped and its message says why.

    Raises
    ------
    MismatchError
        ``design`` is given and is not the image's (grid or fingerprint).
    """
    if design is None:
        candidate = preset_for(image.repair_map.design, image.design_fingerprint)
        if candidate is None:
            return None, CheckResult("design", True, "header (offset 72)", _why_no_design(image), skipped=True)
        design = candidate
        passed = CheckResult("design", True, f"preset '{candidate.name}'")
    else:
        check_design(image.repair_map, design)
        passed = CheckResult("design", True, f"design '{design.name}'")
    return design, _absent_matches(image, design) or passed


def _why_no_design(image: FabricImage) -> str:
    name = image.repair_map.design
    unchecked = "design not checked (give the design to check it)"
    if name not in list_presets():
        return f"no design given and the image names {f'{name!r}, not a preset' if name else 'none'}; {unchecked}"
    preset = load_design(name)
    if (preset.rows, preset.cols) != (image.physical_rows, image.physical_cols):
        return (f"the image names preset {name!r} but is for a {image.physical_rows}x{image.physical_cols} grid, "
                f"the preset is {preset.rows}x{preset.cols}; {unchecked}")
    if not image.design_fingerprint:
        return f"the image names preset {name!r} but carries no design fingerprint; {unchecked}"
    return (f"the image names preset {name!r} but was built for another design (fingerprint "
            f"{image.design_fingerprint[:12]}..., the preset's {preset.fingerprint[:12]}...); {unchecked}")


def check_defects_grid(image: FabricImage, defects: DefectMap) -> None:
    """Raise :class:`MismatchError` unless ``defects`` is a map of the image's physical grid.

    :func:`verify_image` calls it before any content check (see its example).
    """
    if (defects.rows, defects.cols) != (image.physical_rows, image.physical_cols):
        raise MismatchError(f"the defect map is for a {defects.rows}x{defects.cols} grid, the image for "
                            f"{image.physical_rows}x{image.physical_cols}", parameter="defects")


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
        default: the preset named in the image when its fingerprint matches
        (else the ``design`` check is skipped, saying why).

    Returns
    -------
    VerifyReport
        The checks run, ending at the first failure; ``exit_code`` 2 for a
        malformed or tampered file, 1 for a well-formed invalid map.

    Raises
    ------
    MismatchError
        ``defects`` or ``design`` is of another grid or design than the image.

    Examples
    --------
    >>> from yieldkit.repair_map import RepairMap
    >>> grid = np.array([[0, 1, 2], [4, 5, 6]])
    >>> repair_map = RepairMap(grid, DefectMap(2, 4, [3]), scheme="row-shift", scheme_params={"reach": 1})
    >>> from firmware_map.image import build_image
    >>> report = verify_image(build_image(repair_map))
    >>> report.ok, [c.check for c in report.checks if c.skipped]
    (True, ['design'])
    >>> verify_image(build_image(repair_map), defects=DefectMap(3, 4))
    Traceback (most recent call last):
    ...
    firmware_map.errors.MismatchError: defects: the defect map is for a 3x4 grid, the image for 2x4
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
    if defects is not None:  # files that do not belong together: bad input, before any content check
        check_defects_grid(image, defects)
    if design is not None:
        check_design(image.repair_map, design)
    report.image = image
    report.checks.extend(CheckResult(name, True) for name in _INTEGRITY)
    if image.signed or public_key is not None:
        report.checks.append(CheckResult("signature", True, "embedded key" if public_key is None else "given key"))
    report.checks.append(CheckResult("decode", True))
    report.checks.append(check_router(image))
    if not report.ok:
        return report
    resolved, design_check = design_for(image, design)
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
