"""``yieldkit map``: SEMI G85 / E142 wafer maps out of repair maps and fabric images, and back in.

Registered under the ``yieldkit.commands`` entry point as ``map``. The group
lives here, in ``firmware_map``, rather than in ``yieldkit/cli``: exporting
a fabric image needs the image parser (:func:`firmware_map.image.parse_image`),
and ``yieldkit`` may not import ``firmware_map`` (the layer order of
docs/architecture.md). Keeping one ``map export`` that takes either file,
recognised by its content (the image magic ``YKFABIMG`` or a zip archive for
a ``.npz`` repair map, whatever the extension), is simpler for the user than
splitting it across ``map`` and ``firmware``. The maps themselves are
:mod:`yieldkit.formats` (library); this module only chooses the input and
prints.
"""

from __future__ import annotations

from typing import Any

import click

from yieldkit.cli.command import Group
from yieldkit.cli.inputs import INPUT_FILE
from yieldkit.cli.options import design_option, format_options, output_option
from yieldkit.cli.output import emit
from yieldkit.errors import InputError

__all__ = ["map_group"]

_ZIP = b"PK\x03\x04"


def _kind(path: str) -> str:
    """``image`` or ``repair_map``, by the file's first bytes; anything else is an InputError naming the file."""
    from firmware_map.image import MAGIC

    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if head.startswith(MAGIC):
        return "image"
    if head.startswith(_ZIP):
        return "repair_map"
    raise InputError(f"{path}: not a repair map (.npz) or a fabric image (first bytes {head!r})")


def _design(name: str | None, named: str, fingerprint: str, path: str) -> Any:
    """The design given, else the preset the file names (when its fingerprint matches)."""
    from firmware_map.verify import preset_for
    from yieldkit.design import load_design

    if name is not None:
        return load_design(name)
    design = preset_for(named, fingerprint)
    if design is None:
        raise InputError(f"{path}: its design {named!r} is not a preset with the same parameters: give --design",
                         parameter="--design")
    return design


@click.group("map", cls=Group)
def map_group() -> None:
    """SEMI wafer maps (G85, E142 XML) of repaired wafers: export and read back.

    \b
    Example:
      yieldkit map export w17.repair.npz --format g85 -o w17.g85.xml --wafer-id W17
      yieldkit map import w17.g85.xml --json
    """


@map_group.command("export")
@click.argument("source", metavar="(REPAIR_MAP | IMAGE)", type=INPUT_FILE)
@click.option("--format", "map_format", type=click.Choice(["g85", "e142"]), default="g85", show_default=True,
              help="SEMI G85 (ASCII bins) or SEMI E142 (hexadecimal bins) XML.")
@output_option("Map file to write (XML).", required=True)
@design_option(None, help="Design of the wafer (default: the preset the file names, if its parameters match).")
@click.option("--wafer-id", default=None, help="Wafer id written into the map (default: an image's own, else none).")
@click.option("--lot-id", default="", help="Lot id written into the map.")
@format_options
def export(source: str, map_format: str, output: str, design_name: str | None, wafer_id: str | None, lot_id: str,
           fmt: str | None) -> None:
    """Write the site map of a repair map (.npz) or a fabric image as SEMI G85 or E142 XML.

    The input is recognised by its content, not its name. Every site gets a
    bin: good (in the nominal footprint), spare in use, unused (spare or
    bypassed), dead, or the null bin (no site). Prints the map's identity
    and the sites in each bin.

    \b
    Example:
      yieldkit map export w17.repair.npz --format g85 -o w17.g85.xml --wafer-id W17 --lot-id LOT1
      yieldkit map export w17.fabimg --format e142 -o w17.e142.xml
    """
    from yieldkit.formats.io import write_map
    from yieldkit.formats.sitemap import SiteMap, nominal_sites, site_states, states_from_arrays

    kind = _kind(source)
    if kind == "image":
        from firmware_map.cli import _read

        image = _read(source)
        design = _design(design_name, image.repair_map.design, image.design_fingerprint, source)
        if (image.physical_rows, image.physical_cols) != (design.rows, design.cols):
            raise InputError(f"{source}: image is {image.physical_rows}x{image.physical_cols}, design "
                             f"{design.name!r} is {design.rows}x{design.cols}", parameter="--design")
        states = states_from_arrays(design.site_exists, image.repair_map.defects.dead_sites,
                                    image.repair_map.physical_of_logical, nominal_sites(design))
        site_map = SiteMap(states, image.wafer_id if wafer_id is None else wafer_id, lot_id, design.name,
                           design.pitch_x_mm, design.pitch_y_mm, design.wafer_diameter_mm)
    else:
        from yieldkit.repair_map import RepairMap

        repair_map = RepairMap.load(source)
        design = _design(design_name, repair_map.design, repair_map.design_fingerprint, source)
        try:
            site_map = site_states(design, repair_map, wafer_id=wafer_id or "", lot_id=lot_id)
        except InputError as error:
            raise InputError(f"{source}: {error}", parameter="--design") from None
    write_map(site_map, output, map_format)
    emit({"output": output, "format": map_format, "source": source, "source_kind": kind, **site_map.to_dict()}, fmt)


@map_group.command("import")
@click.argument("map_file", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
@format_options
def import_(map_file: str, fmt: str | None) -> None:
    """Read a SEMI G85 or E142 XML map (recognised by its root element) and print its identity and bin counts.

    A malformed map is one line naming the file and line (exit 2).

    \b
    Example:
      yieldkit map import w17.g85.xml --json
    """
    from yieldkit.formats.io import read_map

    site_map = read_map(map_file)
    emit({"file": map_file, **site_map.to_dict()}, fmt)
