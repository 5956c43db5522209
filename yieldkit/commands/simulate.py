"""``yieldkit simulate`` and ``yieldkit sweep``: Monte-Carlo full-fabric yield."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from yieldkit.cliutil import emit, output_options, parse_float_list, parse_int_list, progress_enabled
from yieldkit.commands.options import (
    ProgressReporter,
    defect_model_from,
    defect_model_options,
    design_option,
    run_options,
)
from yieldkit.design import load_design
from yieldkit.montecarlo import simulate as run_simulation
from yieldkit.sweep import sweep as run_sweep


@click.command()
@design_option
@click.option("--d0", type=click.FloatRange(min=0), required=True, help="Defect density D0 [cm^-2].")
@click.option("--alpha", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Negative-binomial clustering; omit for Poisson (no clustering).")
@defect_model_options
@run_options
@output_options
def simulate(design_name: str, d0: float, alpha: float | None, wafers: int, seed: int, workers: int,
             scheduler: str | None, confidence: float, quiet: bool, fmt: str | None, **model_options: Any) -> None:
    """Monte-Carlo full-fabric yield of one design at one defect density.

    Prints wafers, full_fabric_yield, its exact Clopper-Pearson interval
    (ci_low, ci_high), mean dead cores and defects, the seed and what else is
    needed to reproduce the run bit for bit (any --workers gives the same result).

    \b
    Example:
      yieldkit simulate --design wse --d0 0.1 --alpha 2.0 --wafers 100000 --seed 7 --json
    """
    design = load_design(design_name)
    model = defect_model_from(d0, alpha, model_options)
    with ProgressReporter(wafers, progress_enabled(quiet)) as progress:
        result = run_simulation(design, model, wafers, seed, workers=workers, scheduler=scheduler,
                                confidence=confidence, progress=progress)
    emit(result.to_dict(), fmt)


def _alphas(text: str | None) -> list[float | None]:
    if text is None:
        return [None]
    values: list[float | None] = []
    for part in text.split(","):
        if part.strip().lower() in ("poisson", "none"):
            values.append(None)
        else:
            values.extend(parse_float_list(part, "--alpha"))
    if any(v is not None and v <= 0 for v in values):
        raise click.BadParameter("alpha must be > 0 (or 'poisson')", param_hint="--alpha")
    return values


@click.command()
@design_option
@click.option("--d0", "d0_list", required=True, metavar="LIST", help="Comma list of D0 values [cm^-2].")
@click.option("--alpha", "alpha_list", default=None, metavar="LIST",
              help="Comma list of alphas; 'poisson' for no clustering (the default).")
@click.option("--spares", "spares_list", default=None, metavar="LIST",
              help="Comma list of spare sites per row (default: the design's own).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the table to FILE (.csv, or .parquet); omitted: print it.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the yield curves with CI bands to FILE (.png, .svg, .pdf).")
@defect_model_options
@run_options
@output_options
def sweep(design_name: str, d0_list: str, alpha_list: str | None, spares_list: str | None, output: str | None,
          plot_path: str | None, wafers: int, seed: int, workers: int, scheduler: str | None, confidence: float,
          quiet: bool, fmt: str | None, **model_options: Any) -> None:
    """Full-fabric yield over a grid of D0, alpha and spares per row.

    One tidy row per grid point, with the fields of 'yieldkit simulate' and
    spares_per_row. Every point uses the same seed (common random numbers).

    \b
    Example:
      yieldkit sweep --design small --d0 0.5,1,2,4 --alpha poisson,2 --spares 2,4 \\
          --wafers 20000 --seed 1 -o table.csv --plot yield.png
    """
    d0s = parse_float_list(d0_list, "--d0")
    if any(d < 0 for d in d0s):
        raise click.BadParameter("D0 must be >= 0", param_hint="--d0")
    spares: list[int | None] = [None]
    if spares_list is not None:
        spares = list(parse_int_list(spares_list, "--spares"))
        if any(s < 0 for s in spares):
            raise click.BadParameter("spares must be >= 0", param_hint="--spares")
    for path, allowed, option in ((output, (".csv", ".parquet"), "--output"), (plot_path, (".png", ".svg", ".pdf"), "--plot")):
        if path is not None and Path(path).suffix.lower() not in allowed:
            raise click.BadParameter(f"{path}: extension must be one of {', '.join(allowed)}", param_hint=option)
    alphas = _alphas(alpha_list)
    design = load_design(design_name)
    model = defect_model_from(d0s[0], alphas[0], model_options)
    total = wafers * len(d0s) * len(alphas) * len(spares)
    with ProgressReporter(total, progress_enabled(quiet)) as progress:
        table = run_sweep(design, model, d0s, wafers, seed, alphas=alphas, spares=spares, progress=progress,
                          workers=workers, scheduler=scheduler, confidence=confidence)
    if plot_path is not None:
        from yieldkit.plots import plot_yield_curves

        plot_yield_curves(table).savefig(plot_path, dpi=150)
    if output is None:
        emit(table.to_dict("records"), fmt)
        return
    if output.lower().endswith(".parquet"):
        table.to_parquet(output, index=False)
    else:
        table.to_csv(output, index=False)
    click.echo(f"wrote {len(table)} rows to {output}", err=True)
