"""``yieldkit plan``: size the redundancy for a target yield, and compare with conventional dies."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import click

from yieldkit.cli.command import Command
from yieldkit.cli.options import (
    defect_model_options,
    design_option,
    check_output,
    format_options,
    quiet_option,
    scheduler_option,
    seed_option,
    wafers_option,
    workers_option,
)
from yieldkit.cli.output import emit, resolve_format
from yieldkit.cli.progress import progress_bar
from yieldkit.cli.types import Number
from yieldkit.defects import DefectModel
from yieldkit.design import load_design
from yieldkit.dies import DieProduct, die_comparison, enabled_units
from yieldkit.errors import InputError
from yieldkit.montecarlo import check_scheduler_address
from yieldkit.sizing import SCHEMES, SIZABLE, size_redundancy, wafer_scale_row

__all__ = ["plan", "SCHEME_COLUMNS", "COMPARISON_COLUMNS"]

#: What ``--table`` shows of the scheme rows and of the comparison rows; ``--json``/``--csv`` keep every field.
SCHEME_COLUMNS = ("scheme", "redundancy", "full_fabric_yield", "ci_low", "ci_high", "confident", "wafers", "stopped",
                  "area_overhead", "mean_logical_cores")
COMPARISON_COLUMNS = ("product", "yield", "good_dies_per_wafer", "enabled_fraction_of_wafer", "units_enabled",
                      "units_built", "enabled_unit_share", "sellable_units_per_wafer")


def _run(jobs: list[tuple[Callable[..., Any], tuple[Any, ...]]], workers: int,
         progress: Callable[[int], None] | None) -> list[Any]:
    """Results of ``func(*args)`` for every job, in order; ``workers`` processes run them side by side."""
    if workers == 1:
        results = []
        for func, args in jobs:
            results.append(func(*args))
            if progress is not None:
                progress(1)
        return results
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        futures = [pool.submit(func, *args) for func, args in jobs]
        for future in as_completed(futures):
            future.result()
            if progress is not None:
                progress(1)
        return [future.result() for future in futures]


def _size_on(design, model, target_yield, n_wafers, seed, schemes, scheduler):  # noqa: ANN001, ANN202
    return size_redundancy(design, model, target_yield, n_wafers, seed, schemes, scheduler=scheduler)


def _scheme_names(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(","))
    if any(not name for name in names):
        raise InputError(f"empty item in {text!r}", parameter="--schemes")
    unknown = [name for name in names if name not in SIZABLE]
    if unknown:
        raise InputError(f"cannot size scheme '{unknown[0]}' (sizable: {', '.join(SIZABLE)})", parameter="--schemes")
    return names


@click.command(cls=Command)
@design_option(help="Preset or design TOML: logical grid, pitch and wafer of the product.")
@defect_model_options()
@click.option("--target-yield", type=Number(0, 1, min_open=True, max_open=True), default=0.99, show_default=True,
              help="Full-fabric yield to reach [-].")
@click.option("--schemes", default=",".join(SCHEMES), show_default=True, help=f"Comma list of schemes to size ({', '.join(SIZABLE)}).")
@wafers_option(2000, help="Monte-Carlo wafers per redundancy level at most; a level stops early when its 99.9 % "
                          "interval is clearly above or below the target.")
@seed_option()
@click.option("--die-area-mm2", type=Number(min=0, min_open=True), default=814.0, show_default=True,
              help="Conventional die to compare with [mm^2].")
@click.option("--die-units", type=click.IntRange(min=1), default=144, show_default=True, help="Units on that die.")
@click.option("--die-units-needed", type=click.IntRange(min=1), default=132, show_default=True,
              help="Units a sellable die needs.")
@click.option("--unit-area-fraction", type=Number(0, 1), default=0.8, show_default=True,
              help="Fraction of the die area in the units [-].")
@click.option("--die-map", "die_map_path", default=None, metavar="FILE",
              help="Also write a SEMI G85 map of the conventional dies of one sampled wafer (--seed): good, dead "
                   "(a defect centre in the die) or absent.")
@workers_option
@scheduler_option
@quiet_option
@format_options
def plan(design_name: str, model: DefectModel, target_yield: float, schemes: str, n_wafers: int, seed: int,
         die_area_mm2: float, die_units: int, die_units_needed: int, unit_area_fraction: float,
         die_map_path: str | None, workers: int, scheduler: str | None, quiet: bool, fmt: str | None) -> None:
    """Least redundancy per scheme reaching a target yield, and the die comparison.

    One row per scheme (kind "scheme"): the least redundancy level whose
    Monte-Carlo full-fabric yield reaches --target-yield, the yield and its
    Clopper-Pearson interval, the wafers simulated and why the level
    stopped (sequential test), area overhead and expected good logical
    cores per wafer. Then (kind "comparison") the design as given against dicing
    the wafer into conventional dies, without and with unit redundancy: good
    dies, good silicon area, fraction of the wafer enabled, sellable units,
    and the share of the units built that the product enables (logical
    cores of the existing sites; units needed of the die's units).
    --table shows the main columns of each kind; --json and --csv keep all.
    --workers N sizes the schemes side by side (one scheme per process; the
    result does not depend on N). --scheduler ADDRESS runs every Monte-Carlo
    level on a Dask cluster instead (the same rows). --die-map FILE also
    writes the conventional dies of one wafer (seed --seed, square dies of
    --die-area-mm2) as a SEMI G85 map.

    \b
    Example:
      yieldkit plan --design wse --d0 0.1 --alpha 2 --target-yield 0.99 --json
    """
    if die_units_needed > die_units:
        raise InputError(f"{die_units_needed} is more than the {die_units} units of the die (--die-units)",
                         parameter="--die-units-needed")
    names = _scheme_names(schemes)
    if die_map_path is not None:
        check_output(die_map_path, "--die-map")
    design = load_design(design_name)
    die = DieProduct(name=f"{die_area_mm2:g} mm^2 die, {die_units_needed} of {die_units} units", die_area_mm2=die_area_mm2,
                     units=die_units, units_needed=die_units_needed, unit_area_fraction=unit_area_fraction)
    if scheduler is not None:
        check_scheduler_address(scheduler)
        jobs: list[tuple[Callable[..., Any], tuple[Any, ...]]] = [
            (_size_on, (design, model, target_yield, n_wafers, seed, (name,), scheduler)) for name in names]
        jobs.append((wafer_scale_row, (design, model, n_wafers, seed, 1, scheduler)))
        workers = 1  # the levels run on the cluster, one after the other
    else:
        jobs = [(size_redundancy, (design, model, target_yield, n_wafers, seed, (name,))) for name in names]
        jobs.append((wafer_scale_row, (design, model, n_wafers, seed)))
    with progress_bar(len(jobs), quiet, label="sizing") as progress:
        *per_scheme, wafer_row = _run(jobs, workers, progress)
    sized = [{"kind": "scheme", **row} for rows in per_scheme for row in rows]
    wafer = {"kind": "comparison", **wafer_row, **enabled_units(design.logical_cores, design.existing_sites)}
    dies = [{"kind": "comparison", **row} for row in die_comparison(model.d0_per_cm2, model.alpha, die,
                                                                    design.wafer_diameter_mm, design.edge_exclusion_mm)]
    if die_map_path is not None:
        _write_die_map(die_map_path, design, model, die_area_mm2, seed)
    if resolve_format(fmt) == "table":
        emit(sized, "table", table_columns=SCHEME_COLUMNS)
        click.echo()
        emit([wafer, *dies], "table", table_columns=COMPARISON_COLUMNS)
        return
    emit([*sized, wafer, *dies], fmt)


def _write_die_map(path: str, design: Any, model: DefectModel, die_area_mm2: float, seed: int) -> None:
    """The G85 map of square conventional dies of ``die_area_mm2`` on the wafer of ``seed`` (every defect counts)."""
    import math

    from yieldkit.formats.inspection import sample_inspection
    from yieldkit.formats.io import write_map
    from yieldkit.formats.sitemap import die_map

    wafer = sample_inspection(design, model, 1, seed)
    side = math.sqrt(die_area_mm2)
    site_map = die_map(side, side, wafer_diameter_mm=design.wafer_diameter_mm,
                       edge_exclusion_mm=design.edge_exclusion_mm, defect_x_mm=wafer.x_mm, defect_y_mm=wafer.y_mm,
                       wafer_id=f"seed {seed}", product=f"{die_area_mm2:g} mm^2 die")
    write_map(site_map, path, "g85")
    counts = site_map.counts()
    click.echo(f"die map: {counts['good']} good and {counts['dead']} dead dies of {side:.3g} mm -> {path}", err=True)
