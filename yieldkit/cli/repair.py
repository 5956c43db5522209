"""``yieldkit repair``: plan one wafer's repair map, verify it and write it."""

from __future__ import annotations

from typing import Any

import click

from yieldkit.cli.command import Command
from yieldkit.cli.inputs import INPUT_FILE, read_defect_map
from yieldkit.cli.options import (
    defect_model_options,
    design_option,
    format_options,
    given_model_options,
    model_provenance,
    output_option,
    seed_option,
)
from yieldkit.cli.output import emit
from yieldkit.defects import DefectModel, sample_wafer
from yieldkit.design import load_design
from yieldkit.errors import Failure, InputError
from yieldkit.outputs import atomic_write
from yieldkit.redundancy import SCHEMES, describe_schemes
from yieldkit.repair import repair_wafer, with_scheme

__all__ = ["repair"]


def _params(items: tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` scheme parameters; values are int, float or text."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"expected KEY=VALUE, got {item!r}", parameter="--param")
        for kind in (int, float):
            try:
                out[key] = kind(value)
                break
            except ValueError:
                continue
        else:
            out[key] = value
    return out


@click.command(cls=Command, epilog="\b\nSchemes (--scheme) and their parameters (--param):\n" + describe_schemes())
@design_option()
@click.option("--defects", "defects_file", type=INPUT_FILE, default=None, metavar="FILE",
              help="Defect map JSON ('-' reads stdin), e.g. from 'yieldkit defects sample'.")
@seed_option(None, help="Sample the wafer instead (same wafer as 'yieldkit defects sample --seed').")
@defect_model_options(d0="0.1")
@click.option("--scheme", default=None, help=f"Override the design's redundancy scheme ({', '.join(SCHEMES)}).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Override a scheme parameter (repeatable), e.g. --param reach=3.")
@output_option("Repair map file to write (.npz, format in yieldkit/repair_map.py).", required=True)
@click.option("--allow-degraded", is_flag=True,
              help="Write the maximal logical array when the full grid cannot be presented (exit 0).")
@format_options
def repair(design_name: str, defects_file: str | None, seed: int | None, model: DefectModel, scheme: str | None,
           params: tuple[str, ...], output: str, allow_degraded: bool, fmt: str | None) -> None:
    """Plan one wafer's repair map, verify it and write it.

    The wafer is a defect map file (--defects) or sampled (--seed, with the
    defect-model options of 'yieldkit simulate'). Prints repairable,
    logical_rows, logical_cols, dead_cores, dead_links, max_detour (extra
    hops of the longest logical link), algorithm and the reason a degraded
    part is smaller. Without --allow-degraded an unrepairable wafer writes
    no map and exits 1.

    \b
    Example:
      yieldkit repair --design wse --seed 17 --d0 0.1 --alpha 2 -o w17.repair.npz --json
      yieldkit defects sample --design small --d0 2 --seed 3 | yieldkit repair --design small --defects - -o w3.npz --allow-degraded
    """
    if (defects_file is None) == (seed is None):
        raise click.UsageError("give exactly one of --defects FILE and --seed N")
    idle = given_model_options()
    if defects_file is not None and idle:
        raise click.UsageError(f"{idle[0]} applies only with --seed (the defect map file already holds the wafer)")
    design = with_scheme(load_design(design_name), scheme, _params(params))
    defects = read_defect_map(defects_file) if defects_file is not None else sample_wafer(design, model, seed)
    report = repair_wafer(design, defects, allow_degraded=allow_degraded)
    record = {**report.to_dict(), **model_provenance()}
    wrote = report.repair_map.physical_of_logical.size > 0 and (report.repairable or allow_degraded)
    if wrote and not report.violations:
        with atomic_write(output, "wb") as handle:
            report.repair_map.save(handle)
    record["output"] = output if wrote and not report.violations else None
    emit(record, fmt)
    if report.violations:
        first = report.violations[0]
        raise Failure(f"planned map fails verification: {first.invariant}: {first.message}; no map written")
    if not report.repairable and not allow_degraded:
        raise Failure(f"wafer not repairable ({report.repair_map.reason}); no map written (see --allow-degraded)")
