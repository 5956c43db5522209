"""``yieldkit defects``: sample a wafer's defect map, plot one."""

from __future__ import annotations

import sys
from typing import Any

import click
import numpy as np

from yieldkit.cliutil import emit, output_options
from yieldkit.commands.options import defect_model_from, defect_model_options, design_option
from yieldkit.defect_map import DefectMap
from yieldkit.defects import sample_wafer
from yieldkit.design import load_design


@click.group()
def defects() -> None:
    """Defect maps of single wafers (the files 'repair' and 'firmware verify' read)."""


@defects.command("sample")
@design_option
@click.option("--d0", type=click.FloatRange(min=0), required=True, help="Defect density D0 [cm^-2].")
@click.option("--alpha", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Negative-binomial clustering; omit for Poisson.")
@click.option("--seed", type=click.IntRange(min=0), required=True, help="Random seed of this wafer.")
@click.option("-o", "--output", type=click.File("w"), default="-", show_default=True,
              help="Defect map JSON file ('-' for stdout).")
@defect_model_options
def sample(design_name: str, d0: float, alpha: float | None, seed: int, output: Any, **model_options: Any) -> None:
    """Sample one wafer's defect map and write it as JSON.

    \b
    Example:
      yieldkit defects sample --design wse --d0 0.1 --alpha 2 --seed 17 -o w17.json
    """
    design = load_design(design_name)
    model = defect_model_from(d0, alpha, model_options)
    defect_map = sample_wafer(design, model, seed)
    defect_map.dump(output)
    if output is not sys.stdout:
        click.echo(f"{defect_map.n_dead_sites} dead cores, {defect_map.n_dead_links} dead links", err=True)


@defects.command("show")
@click.option("--design", "design_name", default=None, metavar="NAME|FILE",
              help="Design to check against (default: the one the map names).")
@click.argument("defect_file", type=click.File("r"))
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write a wafer map picture (.png, .svg, .pdf).")
@output_options
def show(design_name: str, defect_file: Any, plot_path: str | None, fmt: str | None) -> None:
    """Summarise a defect map file (checked against its design); '-' reads stdin.

    \b
    Example:
      yieldkit defects show --design wse w17.json --plot w17.png
    """
    defect_map = DefectMap.loads(defect_file.read(), source=defect_file.name)
    design = load_design(design_name or defect_map.design or "wse")
    defect_map.check_design(design)
    rows = np.unique(defect_map.dead_sites // design.cols)
    emit({"design": design.name, "dead_cores": defect_map.n_dead_sites, "dead_links": defect_map.n_dead_links,
          "rows_with_dead_cores": int(rows.size)}, fmt)
    if plot_path is not None:
        from yieldkit.plots import plot_wafer_map

        plot_wafer_map(design, defect_map).savefig(plot_path, dpi=150)
