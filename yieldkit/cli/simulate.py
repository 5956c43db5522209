"""``yieldkit simulate``: Monte-Carlo full-fabric yield at one defect density."""

from __future__ import annotations

import click

from yieldkit.cli.command import Command
from yieldkit.cli.options import (
    confidence_option,
    defect_model_options,
    design_option,
    format_options,
    model_provenance,
    quiet_option,
    scheduler_option,
    seed_option,
    wafers_option,
    workers_option,
)
from yieldkit.cli.output import emit
from yieldkit.cli.progress import progress_bar
from yieldkit.defects import DefectModel
from yieldkit.design import load_design
from yieldkit.montecarlo import simulate as run_simulation

__all__ = ["simulate"]


@click.command(cls=Command)
@design_option()
@defect_model_options()
@wafers_option(10_000)
@seed_option()
@workers_option
@scheduler_option
@confidence_option
@quiet_option
@format_options
def simulate(design_name: str, model: DefectModel, n_wafers: int, seed: int, workers: int, scheduler: str | None,
             confidence: float, quiet: bool, fmt: str | None) -> None:
    """Monte-Carlo full-fabric yield of one design at one defect density.

    Prints wafers, full_fabric_yield, its exact Clopper-Pearson interval
    (ci_low, ci_high), mean dead cores and defects, the seed and what else is
    needed to reproduce the run bit for bit (any --workers gives the same result).

    \b
    Example:
      yieldkit simulate --design wse --d0 0.1 --alpha 2.0 --wafers 100000 --seed 7 --json
    """
    design = load_design(design_name)
    with progress_bar(n_wafers, quiet) as progress:
        result = run_simulation(design, model, n_wafers, seed, workers=workers, scheduler=scheduler,
                                confidence=confidence, progress=progress)
    emit({**result.to_dict(), **model_provenance()}, fmt)
