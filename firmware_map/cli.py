"""``yieldkit firmware``: build, verify, inspect and diff fabric images; make signing keys.

Registered under the ``yieldkit.commands`` entry point. Each command parses
options, calls one library function and formats the result; bad input (a
malformed or tampered image, a bad key) is one line and exit 2, a
well-formed image that fails verification exit 1.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from yieldkit.cliutil import emit, output_options
from yieldkit.errors import InputError

__all__ = ["firmware"]


def _write_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file, so a reader never sees half an image."""
    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as fp:
            fp.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load_repair_map(path: str) -> Any:
    from yieldkit.repair_map import RepairMap

    if path == "-":
        return RepairMap.load(io.BytesIO(sys.stdin.buffer.read()))
    return RepairMap.load(path)


def _parse_meta(items: tuple[str, ...]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--meta")
        try:
            meta[key] = json.loads(value)
        except ValueError:
            meta[key] = value
    return meta


def _read(path: str, public_key: bytes | None = None) -> Any:
    from firmware_map.errors import ImageError
    from firmware_map.image import parse_image, read_image_bytes

    data = read_image_bytes(path)
    try:
        return parse_image(data, public_key=public_key)
    except ImageError as exc:
        raise InputError(f"{path}: {exc}") from None


@click.group()
def firmware() -> None:
    """Fabric images: the deterministic, signed binary the wafer firmware loads.

    \b
    Example:
      yieldkit firmware keygen -o fab.key
      yieldkit firmware build w17.repair.npz -o w17.fabimg --wafer-id W17 --sign-key fab.key
      yieldkit firmware verify w17.fabimg --pubkey fab.key.pub --json
    """


@firmware.command("build")
@click.argument("repair_map", metavar="REPAIR_MAP")
@click.option("-o", "--output", required=True, metavar="IMAGE", help="Image file to write ('-' for stdout).")
@click.option("--sign-key", metavar="KEY", help="Ed25519 private key (PEM) to sign the image with.")
@click.option("--wafer-id", default="", show_default=False, help="Wafer id stored in the header (at most 32 bytes).")
@click.option("--meta", "meta", multiple=True, metavar="KEY=VALUE",
              help="Extra metadata (repeatable; VALUE parsed as JSON when it can be), e.g. --meta built_at=2026-01-02.")
@click.option("--design", "design_name", metavar="NAME|FILE",
              help="Design of the wafer, for its absent edge sites (default: the preset the map names, if its fingerprint matches).")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Refuse to build when the repair map breaks an invariant (yieldkit.verify).")
@output_options
def build(repair_map: str, output: str, sign_key: str | None, wafer_id: str, meta: tuple[str, ...],
          design_name: str | None, check: bool, fmt: str | None) -> None:
    """Build the fabric image of a repair map (.npz) and print its size and digest.

    The image is byte-identical for the same inputs (no clock inside: pass a
    build time with --meta if you want one).

    \b
    Example:
      yieldkit firmware build w17.repair.npz -o w17.fabimg --wafer-id W17 --sign-key fab.key
    """
    from firmware_map.image import build_image, parse_image
    from firmware_map.inspection import summarize
    from firmware_map.signing import load_private_key

    from yieldkit.design import load_design

    from firmware_map.verify import preset_for

    rm = _load_repair_map(repair_map)
    key = load_private_key(sign_key) if sign_key else None
    design = load_design(design_name) if design_name else preset_for(rm.design, rm.design_fingerprint)
    if check:
        from yieldkit.verify import verify_repair_map

        violations = verify_repair_map(rm, design=design)
        if violations:
            v = violations[0]
            where = f" at logical {tuple(v.logical)}" if v.logical is not None else ""
            raise click.ClickException(f"repair map breaks invariant {v.invariant}{where}: {v.message} "
                                       f"({len(violations)} violations; --no-check builds anyway)")
    data = build_image(rm, wafer_id=wafer_id, metadata=_parse_meta(meta), signing_key=key, design=design)
    _write_atomic(output, data)
    if output == "-":
        return
    s = summarize(parse_image(data))
    emit({"image": output, "bytes": len(data), "digest_sha256": s["digest_sha256"], "signed": s["signed"],
          "wafer_id": s["wafer_id"], "logical_cores": s["logical_cores"],
          "map_router_bytes_per_core": s["map_router_bytes_per_core"],
          "sections": {x["name"]: x["length"] for x in s["sections"]}}, fmt)


@firmware.command("verify")
@click.argument("image", metavar="IMAGE")
@click.option("--defects", metavar="FILE", help="Defect map (JSON) the image must avoid: no logical core on its dead sites.")
@click.option("--pubkey", metavar="KEY", help="Ed25519 public key (PEM or 64 hex digits) the image must be signed with.")
@click.option("--design", "design_name", metavar="NAME|FILE",
              help="Design to check against (default: the preset named in the image, if its fingerprint matches).")
@output_options
def verify(image: str, defects: str | None, pubkey: str | None, design_name: str | None, fmt: str | None) -> None:
    """Check structure, CRCs, digest, signature, router entries and every repair-map invariant.

    Exit 0 only if all hold. Otherwise the report and the error line name the
    first failing check and where: exit 2 for a malformed or tampered file,
    exit 1 for a well-formed image whose map is not a valid fabric.

    \b
    Example:
      yieldkit firmware verify w17.fabimg --defects w17.burnin.json --pubkey fab.key.pub --json
    """
    from yieldkit.defect_map import DefectMap
    from yieldkit.design import load_design

    from firmware_map.image import read_image_bytes
    from firmware_map.signing import load_public_key
    from firmware_map.verify import verify_image

    key = load_public_key(pubkey) if pubkey else None
    defect_map = DefectMap.load(defects) if defects else None
    design = load_design(design_name) if design_name else None
    report = verify_image(read_image_bytes(image), defects=defect_map, public_key=key, design=design)
    emit({"image": image, **report.as_dict()}, fmt)
    if report.exit_code == 2:
        raise InputError(f"{image}: {report.error_line()}")
    if report.exit_code == 1:
        raise click.ClickException(f"{image}: {report.error_line()}")


@firmware.command("inspect")
@click.argument("image", metavar="IMAGE")
@click.option("--plot", "plot_path", metavar="FILE.png", help="Also draw the physical grid: in place, spare used, bypassed, dead.")
@output_options
def inspect_(image: str, plot_path: str | None, fmt: str | None) -> None:
    """Print an image's header fields, section sizes and counts of mapped-out cores.

    \b
    Example:
      yieldkit firmware inspect w17.fabimg --json
      yieldkit firmware inspect w17.fabimg --plot w17.png --table
    """
    from firmware_map.inspection import plot_image, summarize

    parsed = _read(image)
    summary = summarize(parsed)
    if plot_path:
        fig = plot_image(parsed)
        try:
            fig.savefig(plot_path, dpi=150)
        except (OSError, ValueError) as exc:
            raise InputError(f"{plot_path}: cannot write the plot ({exc})") from None
        summary["plot"] = plot_path
    emit(summary, fmt)


@firmware.command("diff")
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(0),
              help="Most entries listed per kind of change (counts are always complete).")
@output_options
def diff(old: str, new: str, limit: int, fmt: str | None) -> None:
    """What loading NEW instead of OLD changes: cores mapped out, cores moved, router entries.

    --json prints counts and lists; --csv and --table one row per change.

    \b
    Example:
      yieldkit firmware diff w17.fabimg w17-remap1.fabimg --json
    """
    from firmware_map.inspection import diff_images, diff_records

    result = diff_images(_read(old), _read(new), limit=limit)
    if fmt in ("csv", "table"):
        emit(diff_records(result), fmt)
    else:
        emit(result, fmt)


@firmware.command("keygen")
@click.option("-o", "--output", required=True, metavar="KEY", help="Private key file to create (KEY.pub is written next to it).")
@output_options
def keygen(output: str, fmt: str | None) -> None:
    """Create an Ed25519 signing key (PEM, mode 0600) and its public key KEY.pub.

    \b
    Example:
      yieldkit firmware keygen -o fab.key
    """
    from firmware_map.signing import generate_key, public_key_bytes, write_keypair

    key = generate_key()
    private, public = write_keypair(key, output)
    emit({"private_key": str(private), "public_key": str(public), "public_key_hex": public_key_bytes(key).hex()}, fmt)
