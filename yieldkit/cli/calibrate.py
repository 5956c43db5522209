"""``yieldkit calibrate``: estimate the defect model from inspected wafers and write it as a model file."""

from __future__ import annotations

from typing import Any

import click

from yieldkit.cli.command import Command
from yieldkit.cli.options import design_option, format_options, output_option
from yieldkit.cli.output import emit
from yieldkit.cli.types import Number
from yieldkit.design import load_design
from yieldkit.errors import InputError

__all__ = ["calibrate"]


def _quadrat(ctx: click.Context, param: click.Parameter, value: str) -> str | float:
    """``reticle`` or a square side [mm] > 0."""
    if value == "reticle":
        return value
    try:
        side = float(value)
    except ValueError:
        raise click.BadParameter(f"expected 'reticle' or a side in mm, got {value!r}") from None
    if not (side > 0 and side < float("inf")):
        raise click.BadParameter(f"expected a finite side > 0 mm, got {value!r}")
    return side


@click.command(cls=Command)
@design_option(help="Preset or design TOML the wafers are mapped on (its reticle fields are the quadrats).")
@click.argument("defect_files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False),
                metavar="DEFECTS...")
@output_option("Model file to write (TOML, for --model of simulate, sweep, repair, plan, defects sample).",
               required=True, suffixes=(".toml",))
@click.option("--quadrat", default="reticle", show_default=True, callback=_quadrat, metavar="reticle|MM",
              help="Counting areas: the design's reticle fields, or squares of this side [mm].")
@click.option("--mixing", type=click.Choice(["wafer", "quadrat"]), default="wafer", show_default=True,
              help="Where the gamma intensity is shared: per wafer (the simulator's model) or per quadrat.")
@click.option("--spatial", type=click.Choice(["auto", "uniform", "radial"]), default="auto", show_default=True,
              help="Spatial model written: auto = radial when uniform is rejected at --level.")
@click.option("--clustered", type=click.Choice(["auto", "yes", "no"]), default="auto", show_default=True,
              help="Clustering written: auto = the NB alpha when Poisson is rejected at --level.")
@click.option("--level", type=Number(0, 1, min_open=True, max_open=True), default=0.05, show_default=True,
              help="Level of the tests behind the auto choices [-].")
@click.option("--max-size-um", type=Number(min=0, min_open=True), default=2000.0, show_default=True,
              help="Truncation of the defect size tail [um].")
@format_options
def calibrate(design_name: str, defect_files: tuple[str, ...], output: str, quadrat: str | float, mixing: str,
              spatial: str, clustered: str, level: float, max_size_um: float, fmt: str | None) -> None:
    """Estimate D0, alpha, the radial profile and the size law from inspected wafers; write a model file.

    DEFECTS are KLARF files (1.2 or 1.8) or CSV / Parquet defect lists, every
    wafer of each (list wafers without defects too: they are zero counts).
    Maximum likelihood: D0 and alpha with profile-likelihood 95 % intervals
    (d0_ci_low, d0_ci_high, ...; alpha's upper end may be unbounded), the
    radial profile 1 + beta (r/R)^p and the size scale x0 (exact interval),
    and the goodness-of-fit tests: Poisson against negative binomial
    (likelihood ratio, lr_p_value), Pearson chi-square of each, uniform
    against radial, and the within-wafer homogeneity test. The model written
    to -o records the data files with their SHA-256, the design, the date
    and these estimates ([provenance]); the printed record also holds the
    model's fields (model_*).

    \b
    Example:
      yieldkit calibrate --design small lot1.klarf lot2.klarf -o model.toml --json
    """
    from yieldkit.calibration import calibrate as run_calibration
    from yieldkit.formats.io import read_defects
    from yieldkit.model_file import Provenance, save_model

    design = load_design(design_name)
    inspected = [read_defects(path) for path in defect_files]
    seen: dict[tuple[str, str], str] = {}
    for path, part in zip(defect_files, inspected):
        for wafer in part.wafers:
            key = (wafer.lot_id, wafer.wafer_id)
            if key in seen:
                lot = f"lot {wafer.lot_id!r} " if wafer.lot_id else ""
                raise InputError(f"{path}: {lot}wafer {wafer.wafer_id!r} is also in {seen[key]}: give each wafer once")
            seen[key] = path
    if sum(d.n_wafers for d in inspected) == 0:
        raise InputError(f"{', '.join(defect_files)}: no wafer to calibrate on")
    cal = run_calibration(design, inspected, quadrat=quadrat, mixing=mixing, max_size_um=max_size_um)
    model = cal.to_model(spatial=spatial, clustered=clustered, level=level)
    estimates = cal.to_dict()
    method = f"calibrate: {estimates.pop('method')}, {cal.quadrats.label}, mixing {mixing}"
    save_model(model, output, Provenance.from_files(defect_files, method=method, design=design.name,
                                                    estimates=estimates))
    record: dict[str, Any] = {"output": output, **{f"model_{k}": v for k, v in model.to_dict().items()},
                              **cal.to_dict()}
    emit(record, fmt)
