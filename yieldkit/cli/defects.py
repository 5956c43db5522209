"""``yieldkit defects``: sample a wafer's defect map, summarise and draw one."""

from __future__ import annotations

import sys

import click
import numpy as np

from yieldkit.cli.command import Group
from yieldkit.cli.inputs import INPUT_FILE, read_defect_map
from yieldkit.cli.options import defect_model_options, design_option, format_options, output_option, plot_option
from yieldkit.cli.output import emit
from yieldkit.defects import DefectModel, sample_wafer
from yieldkit.design import load_design
from yieldkit.outputs import atomic_path, atomic_write

__all__ = ["defects"]


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
    click.echo(f"{defect_map.n_dead_sites} dead cores, {defect_map.n_dead_links} dead links", err=True)


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
