"""``yieldkit defects``: sample a wafer's defect map, summarise and draw one; sample and import inspections.

``sample-lot`` plays the inspection tool: it writes the defects of a lot of
wafers (positions, sizes) as KLARF or a CSV / Parquet list, the files
``import`` and ``yieldkit calibrate`` read. ``import`` maps an inspection
file onto a design: one defect map JSON per wafer, written to ``-o FILE``
(one wafer), ``-o FOLDER`` (``FOLDER/WAFER.json`` each) or ``-o PATTERN``
holding ``{wafer}`` (and optionally ``{lot}``); every path is checked, and
the whole input read, before the first file is written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import numpy as np

from yieldkit.cli.command import Group
from yieldkit.cli.inputs import INPUT_FILE, read_defect_map
from yieldkit.cli.options import (
    check_output,
    check_output_folder,
    defect_model_options,
    design_option,
    format_options,
    given,
    model_provenance,
    output_option,
    plot_option,
    seed_option,
    wafers_option,
)
from yieldkit.cli.output import emit
from yieldkit.defects import DefectModel, sample_wafer
from yieldkit.design import load_design
from yieldkit.errors import InputError
from yieldkit.outputs import atomic_path, atomic_write

__all__ = ["defects", "wafer_outputs"]

#: ``-o`` suffixes of ``sample-lot`` that select a defect-list format; anything else is KLARF.
_LIST_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@click.group(cls=Group)
def defects() -> None:
    """Defect maps of single wafers (the files 'repair' and 'firmware verify' read)."""


@defects.command("sample")
@design_option()
@defect_model_options()
@click.option("--seed", type=click.IntRange(min=0), required=True, help="Random seed of this wafer.")
@output_option("Defect map JSON file to write ('-' or omitted: standard output).", stdout=True)
def sample(design_name: str, model: DefectModel, seed: int, output: str | None) -> None:
    """Sample one wafer's defect map and write it as JSON.

    \b
    Example:
      yieldkit defects sample --design wse --d0 0.1 --alpha 2 --seed 17 -o w17.json
    """
    design = load_design(design_name)
    defect_map = sample_wafer(design, model, seed)
    if output in (None, "-"):
        defect_map.dump(sys.stdout)
        return
    with atomic_write(output) as handle:
        defect_map.dump(handle)
    source = model_provenance().get("model_file")
    click.echo(f"{defect_map.n_dead_sites} dead cores, {defect_map.n_dead_links} dead links"
               + (f" (model {source})" if source else ""), err=True)


@defects.command("show")
@design_option(None, help="Design to check against (default: the one the map names).")
@click.argument("defect_file", type=INPUT_FILE, metavar="DEFECT_FILE")
@plot_option("Also draw the wafer map to FILE (.png, .svg, .pdf).")
@format_options
def show(design_name: str | None, defect_file: str, plot_path: str | None, fmt: str | None) -> None:
    """Summarise a defect map file (checked against its design); '-' reads stdin.

    \b
    Example:
      yieldkit defects show --design wse w17.json --plot w17-defects.png
    """
    defect_map = read_defect_map(defect_file)
    design = load_design(design_name or defect_map.design or "wse")
    defect_map.check_design(design)
    rows = np.unique(defect_map.dead_sites // design.cols)
    emit({"design": design.name, "dead_cores": defect_map.n_dead_sites, "dead_links": defect_map.n_dead_links,
          "rows_with_dead_cores": int(rows.size)}, fmt)
    if plot_path is not None:
        from yieldkit.plots import plot_wafer_map

        with atomic_path(plot_path) as tmp:
            plot_wafer_map(design, defect_map).savefig(tmp, dpi=150)


@defects.command("sample-lot")
@design_option()
@defect_model_options()
@wafers_option(25, help="Wafers of the lot.")
@seed_option(help="Seed of the first wafer (wafer i uses seed + i).")
@click.option("--lot", "lot_id", default="LOT1", show_default=True, help="Lot id written into the file.")
@output_option("Inspection file to write: KLARF 1.2, or a defect list by extension (.csv, .parquet).",
               required=True)
@format_options
def sample_lot(design_name: str, model: DefectModel, n_wafers: int, seed: int, lot_id: str, output: str,
               fmt: str | None) -> None:
    """Sample what an inspection tool reports of a lot: every defect's position and size.

    Writes a KLARF 1.2 file (any name but .csv / .parquet) or a plain defect
    list (columns lot, wafer, x_mm, y_mm, size_um, class), the input of
    'defects import' and 'calibrate'. Wafer ids are W01, W02, ...; wafer i
    draws from seed + i over the whole usable circle. Every defect is
    reported (--kill-probability and --link-fraction are not seen by an
    inspection tool and are ignored). Prints the lot, wafers and defects.

    \b
    Example:
      yieldkit defects sample-lot --design small --d0 0.3 --alpha 2 --wafers 25 --seed 1 -o lot1.klarf
    """
    from yieldkit.formats.defect_list import write_defect_list
    from yieldkit.formats.klarf import write_klarf

    idle = [flag for flag, name in (("--kill-probability", "kill_probability"), ("--link-fraction", "link_fraction"))
            if given(name)]
    if idle:
        raise click.UsageError(f"{idle[0]} does not apply: an inspection tool reports every defect")
    if '"' in lot_id or "\n" in lot_id:
        raise InputError(f"cannot hold quotes or line breaks, got {lot_id!r}", parameter="--lot")
    design = load_design(design_name)
    from yieldkit.formats.inspection import sample_inspection

    lot = sample_inspection(design, model, n_wafers, seed, lot_id=lot_id)
    kind = _LIST_SUFFIXES.get(Path(output).suffix.lower(), "klarf")
    if kind == "klarf":
        write_klarf(lot, output, wafer_diameter_mm=design.wafer_diameter_mm,
                    sample_center_um=(design.wafer_diameter_mm * 500.0,) * 2)
    else:
        write_defect_list(lot, output, fmt=kind)
    emit({"output": output, "format": kind, "design": design.name, **lot.to_dict(), "seed": seed,
          **model_provenance()}, fmt)


def wafer_outputs(output: str, wafers: list[tuple[str, str]], suffix: str = ".json") -> list[str]:
    """One output path per (lot, wafer): ``output`` itself, a pattern with ``{wafer}``, or a folder.

    - a pattern holding ``{wafer}`` (and optionally ``{lot}``): filled in per wafer;
    - a name ending in ``suffix``: that file, for exactly one wafer;
    - anything else: a folder (created), ``FOLDER/WAFER.json`` per wafer.

    Every path is checked (:func:`~yieldkit.cli.options.check_output`) before any is written;
    two wafers that would write the same file are an error.

    Examples
    --------
    >>> wafer_outputs("out/{lot}-{wafer}.json", [("L1", "W01"), ("L1", "W02")])
    Traceback (most recent call last):
    ...
    yieldkit.errors.InputError: --output: out/L1-W01.json: folder out does not exist
    >>> wafer_outputs("w.json", [("L1", "W01"), ("L1", "W02")])
    Traceback (most recent call last):
    ...
    yieldkit.errors.InputError: --output: w.json is one file but the input holds 2 wafers: give a folder or a pattern with {wafer} (or --wafer ID)
    """
    if "{wafer}" in output:
        try:
            paths = [output.format(wafer=wafer, lot=lot) for lot, wafer in wafers]
        except (KeyError, IndexError, ValueError) as exc:
            raise InputError(f"{output}: a pattern may hold only {{wafer}} and {{lot}} ({exc})",
                             parameter="--output") from None
    elif output.lower().endswith(suffix):
        if len(wafers) != 1:
            raise InputError(f"{output} is one file but the input holds {len(wafers)} wafers: give a folder or a "
                             "pattern with {wafer} (or --wafer ID)", parameter="--output")
        paths = [output]
    else:
        folder = check_output_folder(output, "--output")
        paths = [str(folder / f"{wafer}{suffix}") for _, wafer in wafers]
    duplicate = next((p for i, p in enumerate(paths) if p in paths[:i]), None)
    if duplicate is not None:
        raise InputError(f"two wafers would both write {duplicate}: use a pattern with {{lot}} and {{wafer}}",
                         parameter="--output")
    if "{wafer}" not in output and not output.lower().endswith(suffix):
        folder.mkdir(parents=True, exist_ok=True)
    for path in paths:
        check_output(path, "--output")
    return paths


@defects.command("import")
@click.argument("inspection_file", type=click.Path(exists=True, dir_okay=False), metavar="FILE")
@design_option()
@click.option("--wafer", "wafer_id", default=None, metavar="ID", help="Import only this wafer of the file.")
@output_option("Defect map JSON to write: FILE.json (one wafer), a folder (DIR/WAFER.json per wafer, created) "
               "or a pattern with {wafer} (and {lot}), e.g. 'maps/{lot}-{wafer}.json'.", required=True,
               per_wafer=".json")
@click.option("--defect-list", "defect_list", default=None, metavar="FILE",
              help="Also write the imported defects (positions, sizes, classes) as a list (.csv or .parquet), "
                   "for 'calibrate'.")
@format_options
def import_(inspection_file: str, design_name: str, wafer_id: str | None, output: str, defect_list: str | None,
            fmt: str | None) -> None:
    """Map an inspection file (KLARF 1.2/1.8, CSV or Parquet list) onto a design: a defect map per wafer.

    Reads lot, wafer, die pitch and origin, sample plan and the defect list
    (position, size, class); each defect kills the site it lands on and
    every site its disk overlaps. One row per wafer: lot_id, wafer_id,
    defects, dead_sites, outside_sites (defects that touch no core site;
    also a warning on stderr) and the output file. A malformed file is one
    line naming the file and line (exit 2) and nothing is written.

    \b
    Example:
      yieldkit defects import lot1.klarf --design small -o maps/ --defect-list lot1.csv
      yieldkit defects import lot1.klarf --design small --wafer W03 -o w03.json
    """
    from yieldkit.formats.defect_list import write_defect_list
    from yieldkit.formats.io import read_defects

    if defect_list is not None:
        check_output(defect_list, "--defect-list", suffixes=(".csv", ".parquet", ".pq"))
    design = load_design(design_name)
    try:
        inspected = read_defects(inspection_file, wafer=wafer_id)
    except InputError as error:
        if error.parameter == "wafer":
            reason = error.reason if error.reason.startswith(inspection_file) else f"{inspection_file}: {error.reason}"
            raise InputError(reason, parameter="--wafer") from None
        raise
    if inspected.n_wafers == 0:
        raise InputError(f"{inspection_file}: no wafer in the file")
    paths = wafer_outputs(output, [(w.lot_id, w.wafer_id) for w in inspected.wafers])
    imported = [inspected.to_defect_map(design, i) for i in range(inspected.n_wafers)]
    rows: list[dict[str, Any]] = []
    for imp, path in zip(imported, paths):
        with atomic_write(path) as handle:
            imp.defect_map.dump(handle)
        rows.append({**imp.to_dict(), "output": path})
    outside = sum(int(imp.outside.size) for imp in imported)
    if outside:
        many = f"{len(imported)} wafers" if len(imported) > 1 else f"wafer {imported[0].info.wafer_id}"
        click.echo(f"Warning: {outside} of the {inspected.n_defects} defects ({many}) touch no core site of "
                   f"{design.name} (outside_sites)", err=True)
    if defect_list is not None:
        write_defect_list(inspected, defect_list)
    emit(rows, fmt)
