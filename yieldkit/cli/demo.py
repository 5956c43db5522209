"""``yieldkit demo``: the main job end to end, ending with an HTML report."""

from __future__ import annotations

from pathlib import Path

import click

from yieldkit.cli.command import Command
from yieldkit.cli.options import design_option, output_option, quiet_option, seed_option, wafers_option, workers_option
from yieldkit.cli.progress import progress_bar
from yieldkit.demo import DEMO_ALPHAS, DEMO_D0, DemoContext, run_plugin_stages, run_repair_demo, run_yield_demo
from yieldkit.design import load_design
from yieldkit.report import Report

__all__ = ["demo"]


@click.command(cls=Command)
@output_option("Folder for the report, tables and pictures (created if needed).", folder=True,
               default="yieldkit-demo")
@design_option()
@wafers_option(5_000, help="Wafers per point of the yield sweep.")
@seed_option(7)
@workers_option
@quiet_option
def demo(output: str, design_name: str, n_wafers: int, seed: int, workers: int, quiet: bool) -> None:
    """Run the yield study of a design, repair a sampled wafer, write an HTML report.

    Stages of the other packages (the wafer's firmware image, ...) follow.

    \b
    Example:
      yieldkit demo
      yieldkit demo --design small --wafers 2000 -o demo-small
    """
    design = load_design(design_name)
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(design, out, seed, Report(f"yieldkit demo: {design.name}"))
    with progress_bar(n_wafers * len(DEMO_D0) * len(DEMO_ALPHAS), quiet, label="yield sweep") as progress:
        run_yield_demo(ctx, n_wafers, progress=progress, workers=workers)
    run_repair_demo(ctx)
    run_plugin_stages(ctx)
    path = ctx.report.write(out / "report.html")
    click.echo(f"report: {path.resolve()}")
