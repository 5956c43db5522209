"""``yieldkit sweep``: full-fabric yield over a grid of D0, alpha and spares per row."""

from __future__ import annotations

import shutil

import click

from yieldkit.cli.command import Command
from yieldkit.cli.options import (
    confidence_option,
    defect_model_options,
    design_option,
    format_options,
    output_option,
    plot_option,
    quiet_option,
    scheduler_option,
    seed_option,
    wafers_option,
    workers_option,
)
from yieldkit.cli.output import emit
from yieldkit.cli.progress import progress_bar
from yieldkit.cli.types import IntList
from yieldkit.defects import DefectModel
from yieldkit.design import load_design
from yieldkit.outputs import atomic_path
from yieldkit.errors import InputError
from yieldkit.sweep import checkpoint_path, write_table
from yieldkit.sweep import sweep as run_sweep

__all__ = ["sweep", "TABLE_COLUMNS"]

#: What ``--table`` shows at a terminal; ``--json``/``--csv`` and ``-o`` keep every column.
TABLE_COLUMNS = ("d0_per_cm2", "alpha", "spares_per_row", "wafers", "full_fabric_yield", "ci_low", "ci_high",
                 "mean_dead_cores", "mean_logical_cores")


@click.command(cls=Command)
@design_option()
@defect_model_options(lists=True)
@click.option("--spares", "spares", type=IntList(min=0), default=None, metavar="LIST",
              help="Comma list of spare sites per row (default: the design's own).")
@output_option("Write the table to FILE (.csv or .parquet) instead of printing it.", suffixes=(".csv", ".parquet"))
@plot_option("Write the yield curves with CI bands to FILE (.png, .svg, .pdf).")
@wafers_option(10_000, help="Wafers per grid point.")
@seed_option()
@workers_option
@scheduler_option
@confidence_option
@click.option("--resume", is_flag=True, default=False,
              help="Continue a killed run of the same sweep from the tasks finished in its checkpoint "
                   "(OUTPUT.partial/, beside the -o file); needs -o.")
@quiet_option
@format_options
def sweep(design_name: str, model: DefectModel, d0_list: list[float], alpha_list: list[float | None],
          spares: list[int] | None, output: str | None, plot_path: str | None, n_wafers: int, seed: int,
          workers: int, scheduler: str | None, confidence: float, resume: bool, quiet: bool, fmt: str | None) -> None:
    """Full-fabric yield over a grid of D0, alpha and spares per row.

    One tidy row per grid point, with the fields of 'yieldkit simulate' and
    spares_per_row. Every point uses the same seed (common random numbers).
    --table shows the main columns; --json, --csv and -o keep them all.

    With -o the finished tasks are checkpointed in OUTPUT.partial/ beside the
    file: a run that is killed can be continued with --resume (same options)
    and gives the same table; the table is written to a temporary file and
    renamed, and the checkpoint deleted once it is in place. --scheduler
    runs the tasks of every grid point on a Dask cluster (same table).

    \b
    Example:
      yieldkit sweep --design small --d0 0.5,1,2,4 --alpha poisson,2 --spares 2,4 \\
          --wafers 20000 --seed 1 -o table.csv --plot yield.png
    """
    if resume and output is None:
        raise InputError("needs -o FILE (the checkpoint lives beside the output file)", parameter="--resume")
    design = load_design(design_name)
    spares_list: list[int | None] = list(spares) if spares is not None else [None]
    total = n_wafers * len(d0_list) * len(alpha_list) * len(spares_list)
    with progress_bar(total, quiet) as progress:
        table = run_sweep(design, model, d0_list, n_wafers, seed, alphas=alpha_list, spares=spares_list,
                          progress=progress, workers=workers, scheduler=scheduler, confidence=confidence,
                          checkpoint=None if output is None else checkpoint_path(output), resume=resume)
    if plot_path is not None:
        from yieldkit.plots import plot_yield_curves

        own = (int(design.spares_per_row.min()), int(design.spares_per_row.max())) if spares is None else None
        with atomic_path(plot_path) as tmp:
            plot_yield_curves(table, design_spares=own).savefig(tmp, dpi=150)
    if output is None:
        emit(table, fmt, table_columns=TABLE_COLUMNS)
        return
    write_table(table, output)
    shutil.rmtree(checkpoint_path(output), ignore_errors=True)
    click.echo(f"wrote {len(table)} rows to {output}", err=True)
