"""``yieldkit demo``: the main job end to end, ending with an HTML report."""

from __future__ import annotations

from pathlib import Path

import click

from yieldkit.cliutil import progress_enabled
from yieldkit.commands.options import ProgressReporter
from yieldkit.demo import DEMO_ALPHAS, DEMO_D0, DemoContext, run_plugin_stages, run_repair_demo, run_yield_demo
from yieldkit.design import load_design
from yieldkit.report import Report


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="yieldkit-demo", show_default=True,
              help="Folder for the report, tables and pictures.")
@click.option("--design", "design_name", default="wse", show_default=True, help="Preset or design TOML.")
@click.option("--wafers", type=click.IntRange(min=100), default=5_000, show_default=True,
              help="Wafers per point of the yield sweep.")
@click.option("--seed", type=click.IntRange(min=0), default=7, show_default=True, help="Root random seed.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Local worker processes.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def demo(out_dir: str, design_name: str, wafers: int, seed: int, workers: int, quiet: bool) -> None:
    """Run the yield study of a design, repair a sampled wafer, write an HTML report.

    Stages of the other packages (the wafer's firmware image, ...) follow.

    \b
    Example:
      yieldkit demo
      yieldkit demo --design small --wafers 2000 --out /tmp/demo
    """
    design = load_design(design_name)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(design, out, seed, Report(f"yieldkit demo: {design.name}"))
    total = wafers * len(DEMO_D0) * len(DEMO_ALPHAS)
    with ProgressReporter(total, progress_enabled(quiet), label="yield sweep") as progress:
        run_yield_demo(ctx, wafers, progress=progress, workers=workers)
    run_repair_demo(ctx)
    run_plugin_stages(ctx)
    path = ctx.report.write(out / "report.html")
    click.echo(f"report: {path.resolve()}")
