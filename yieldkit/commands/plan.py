"""``yieldkit plan``: size the redundancy for a target yield, and compare with conventional dies."""

from __future__ import annotations

from typing import Any

import click

from yieldkit.cliutil import emit, output_options
from yieldkit.defects import DefectModel
from yieldkit.design import load_design
from yieldkit.dies import DieProduct, die_comparison
from yieldkit.sizing import SCHEMES, size_redundancy, wafer_scale_row


@click.command()
@click.option("--design", "design_name", default="wse", show_default=True, metavar="NAME|FILE",
              help="Preset or design TOML: logical grid, pitch and wafer of the product.")
@click.option("--d0", type=click.FloatRange(min=0), required=True, help="Defect density D0 [cm^-2].")
@click.option("--alpha", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Negative-binomial clustering; omit for Poisson.")
@click.option("--target-yield", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.99,
              show_default=True, help="Full-fabric yield to reach.")
@click.option("--schemes", default=",".join(SCHEMES), show_default=True, help="Comma list of schemes to size.")
@click.option("--wafers", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Monte-Carlo wafers per redundancy level at most; a level stops early when its 99.9 % "
                   "interval is clearly above or below the target.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Root random seed.")
@click.option("--die-area-mm2", type=click.FloatRange(min=0, min_open=True), default=814.0, show_default=True,
              help="Conventional die to compare with [mm^2].")
@click.option("--die-units", type=click.IntRange(min=1), default=144, show_default=True, help="Units on that die.")
@click.option("--die-units-needed", type=click.IntRange(min=1), default=132, show_default=True,
              help="Units a sellable die needs.")
@click.option("--unit-area-fraction", type=click.FloatRange(0, 1), default=0.8, show_default=True,
              help="Fraction of the die area in the units.")
@output_options
def plan(design_name: str, d0: float, alpha: float | None, target_yield: float, schemes: str, wafers: int, seed: int,
         die_area_mm2: float, die_units: int, die_units_needed: int, unit_area_fraction: float, fmt: str | None) -> None:
    """Least redundancy per scheme reaching a target yield, and the die comparison.

    One row per scheme (kind "scheme"): the least redundancy level whose
    Monte-Carlo full-fabric yield reaches --target-yield, the yield and its
    Clopper-Pearson interval, the wafers simulated and why the level
    stopped (sequential test), area overhead and expected good logical
    cores per wafer. Then (kind "comparison") the design as given against dicing
    the wafer into conventional dies, without and with unit redundancy: good
    dies, good silicon area, fraction of the wafer enabled, sellable units.

    \b
    Example:
      yieldkit plan --design wse --d0 0.1 --alpha 2 --target-yield 0.99 --json
    """
    if die_units_needed > die_units:
        raise click.BadParameter("cannot need more units than the die has", param_hint="--die-units-needed")
    design = load_design(design_name)
    model = DefectModel(d0_per_cm2=d0, alpha=alpha)
    names = tuple(s.strip() for s in schemes.split(",") if s.strip())
    records: list[dict[str, Any]] = [{"kind": "scheme", **row}
                                     for row in size_redundancy(design, model, target_yield, wafers, seed, names)]
    die = DieProduct(name=f"{die_area_mm2:g} mm^2 die, {die_units_needed} of {die_units} units", die_area_mm2=die_area_mm2,
                     units=die_units, units_needed=die_units_needed, unit_area_fraction=unit_area_fraction)
    records.append({"kind": "comparison", **wafer_scale_row(design, model, wafers, seed)})
    records.extend({"kind": "comparison", **row}
                   for row in die_comparison(d0, alpha, die, design.wafer_diameter_mm, design.edge_exclusion_mm))
    emit(records, fmt)
