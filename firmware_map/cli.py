"""``yieldkit firmware``: build, verify, inspect and diff fabric images; make signing keys.

Registered under the ``yieldkit.commands`` entry point. Each command parses
options, calls one library function and formats the result; bad input (a
malformed or tampered image, a bad key) is one line and exit 2, a
well-formed image that fails verification exit 1.
"""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import click

from yieldkit.cli.command import Group
from yieldkit.cli.inputs import INPUT_FILE
from yieldkit.cli.options import design_option, format_options, output_option, plot_option
from yieldkit.cli.output import emit, resolve_format
from yieldkit.errors import Failure, InputError
from yieldkit.outputs import atomic_path

__all__ = ["firmware"]


def _write_image(path: str, data: bytes) -> None:
    """Write the image to ``path`` whole or not at all (``-``: standard output)."""
    from firmware_map.image import write_image

    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    write_image(data, path)


def _load_repair_map(path: str) -> Any:
    """The repair map at ``path`` (``-``: standard input)."""
    from yieldkit.repair_map import RepairMap

    if path == "-":
        return RepairMap.load(io.BytesIO(sys.stdin.buffer.read()))
    return RepairMap.load(path)


def _parse_meta(items: tuple[str, ...]) -> dict[str, Any]:
    """``--meta KEY=VALUE`` items; a VALUE is parsed as JSON when it can be."""
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


def _read(path: str) -> Any:
    """The parsed image at ``path``; a malformed one is an :class:`InputError` naming the file."""
    from firmware_map.errors import ImageError
    from firmware_map.image import parse_image, read_image_bytes

    data = read_image_bytes(path)
    try:
        return parse_image(data)
    except ImageError as exc:
        raise InputError(f"{path}: {exc}") from None


@click.group(cls=Group)
def firmware() -> None:
    """Fabric images: the deterministic, signed binary the wafer firmware loads.

    \b
    Example:
      yieldkit firmware keygen -o fab.key
      yieldkit firmware build w17.repair.npz -o w17.fabimg --wafer-id W17 --sign-key fab.key
      yieldkit firmware verify w17.fabimg --pubkey fab.key.pub --json
    """


@firmware.command("build")
@click.argument("repair_map", metavar="REPAIR_MAP", type=INPUT_FILE)
@output_option("Image file to write ('-' for standard output).", required=True, stdout=True)
@click.option("--sign-key", metavar="KEY", type=click.Path(exists=True, dir_okay=False),
              help="Ed25519 private key (PEM) to sign the image with.")
@click.option("--wafer-id", default="", show_default=False, help="Wafer id stored in the header (at most 32 bytes).")
@click.option("--meta", "meta", multiple=True, metavar="KEY=VALUE",
              help="Extra metadata (repeatable; VALUE parsed as JSON when it can be), e.g. --meta built_at=2026-01-02.")
@design_option(None, help="Design of the wafer, for its absent edge sites (default: the preset the map names, "
                          "if its fingerprint matches).")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Refuse to build when the repair map breaks an invariant (yieldkit.verify).")
@format_options
def build(repair_map: str, output: str, sign_key: str | None, wafer_id: str, meta: tuple[str, ...],
          design_name: str | None, check: bool, fmt: str | None) -> None:
    """Build the fabric image of a repair map (.npz) and print its size and digest.

    The image is byte-identical for the same inputs (no clock inside: pass a
    build time with --meta if you want one).

    \b
    Example:
      yieldkit firmware build w17.repair.npz -o w17.fabimg --wafer-id W17 --sign-key fab.key
    """
    from firmware_map.image import build_image, check_design, parse_image
    from firmware_map.inspection import inspect_image
    from firmware_map.signing import load_private_key
    from firmware_map.verify import preset_for
    from yieldkit.design import load_design

    rm = _load_repair_map(repair_map)
    key = load_private_key(sign_key) if sign_key else None
    design = load_design(design_name) if design_name else preset_for(rm.design, rm.design_fingerprint)
    if design is not None:
        check_design(rm, design)
    if check:
        from yieldkit.verify import verify_repair_map

        violations = verify_repair_map(rm, design=design)
        if violations:
            v = violations[0]
            where = f" at logical {tuple(v.logical)}" if v.logical is not None else ""
            raise Failure(f"repair map breaks invariant {v.invariant}{where}: {v.message} "
                          f"({len(violations)} violations; --no-check builds anyway)")
    data = build_image(rm, wafer_id=wafer_id, metadata=_parse_meta(meta), signing_key=key, design=design)
    _write_image(output, data)
    if output == "-":
        return
    s = inspect_image(parse_image(data), design).to_dict()
    emit({"image": output, "bytes": len(data), "digest_sha256": s["digest_sha256"], "signed": s["signed"],
          "wafer_id": s["wafer_id"], "logical_cores": s["logical_cores"],
          "map_router_bytes_per_core": s["map_router_bytes_per_core"],
          "sections": {x["name"]: x["length"] for x in s["sections"]}}, fmt)


@firmware.command("verify")
@click.argument("image", metavar="IMAGE", type=INPUT_FILE)
@click.option("--defects", metavar="FILE", type=INPUT_FILE,
              help="Defect map (JSON) the image must avoid: no logical core on its dead sites.")
@click.option("--pubkey", metavar="KEY", help="Ed25519 public key (PEM file or 64 hex digits) the image must be signed with.")
@design_option(None, help="Design to check against (default: the preset named in the image, if its fingerprint matches).")
@format_options
def verify(image: str, defects: str | None, pubkey: str | None, design_name: str | None, fmt: str | None) -> None:
    """Check structure, CRCs, digest, signature, router entries and every repair-map invariant.

    Exit 0 only if all hold. Otherwise the report and the error line name the
    first failing check and where: exit 2 for a malformed or tampered file,
    exit 1 for a well-formed image whose map is not a valid fabric.

    \b
    Example:
      yieldkit firmware verify w17.fabimg --defects w17.burnin.json --pubkey fab.key.pub --json
    """
    from yieldkit.cli.inputs import read_defect_map
    from yieldkit.design import load_design

    from firmware_map.errors import MismatchError
    from firmware_map.image import read_image_bytes
    from firmware_map.verify import verify_image

    key = _public_key(pubkey) if pubkey else None
    defect_map = read_defect_map(defects) if defects else None
    design = load_design(design_name) if design_name else None
    data = read_image_bytes(image)
    try:
        report = verify_image(data, defects=defect_map, public_key=key, design=design)
    except MismatchError as err:
        raise err.naming(f"--{err.parameter} {defects if err.parameter == 'defects' else design_name}") from None
    emit({"image": image, **report.to_dict()}, fmt)
    if report.exit_code == 2:
        raise InputError(f"{image}: {report.error_line()}")
    if report.exit_code == 1:
        raise Failure(f"{image}: {report.error_line()}")


def _public_key(text: str) -> bytes:
    """The public key of ``--pubkey`` (the loader refuses a private key: it must never be handed around)."""
    from firmware_map.signing import KeyFileError, load_public_key

    try:
        return load_public_key(text)
    except KeyFileError as err:
        raise err.naming("--pubkey") from None


@firmware.command("inspect")
@click.argument("image", metavar="IMAGE", type=INPUT_FILE)
@plot_option("Also draw the physical grid to FILE (.png, .svg, .pdf): in place, moved here, bypassed, dead.")
@format_options
def inspect_(image: str, plot_path: str | None, fmt: str | None) -> None:
    """Print an image's header fields, section sizes and counts of mapped-out cores.

    \b
    Example:
      yieldkit firmware inspect w17.fabimg --json
      yieldkit firmware inspect w17.fabimg --plot w17.png --table
    """
    from firmware_map.inspection import inspect_image, plot_image

    parsed = _read(image)
    summary = inspect_image(parsed).to_dict()
    if plot_path:
        with atomic_path(plot_path) as tmp:
            plot_image(parsed).savefig(tmp, dpi=150)
        summary["plot"] = plot_path
    emit(summary, fmt)


@firmware.command("diff")
@click.argument("old", metavar="OLD", type=INPUT_FILE)
@click.argument("new", metavar="NEW", type=INPUT_FILE)
@click.option("--limit", default=100, show_default=True, type=click.IntRange(0),
              help="Most entries listed per kind of change (counts are always complete).")
@format_options
def diff(old: str, new: str, limit: int, fmt: str | None) -> None:
    """What loading NEW instead of OLD changes: cores mapped out, cores moved, router entries.

    --json prints counts and lists; --csv and --table one row per change.

    \b
    Example:
      yieldkit firmware diff w17.fabimg w17-remap1.fabimg --json
    """
    from firmware_map.inspection import diff_images, diff_records

    result = diff_images(_read(old), _read(new), limit=limit)
    if resolve_format(fmt) in ("csv", "table"):
        emit(diff_records(result), fmt)
    else:
        emit(result, fmt)


@firmware.command("keygen")
@output_option("Private key file to create (mode 0600; FILE.pub is written next to it).", required=True)
@format_options
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
