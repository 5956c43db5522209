"""``yieldkit repair``: plan one wafer's repair map and write it."""

from __future__ import annotations

import sys
from typing import Any

import click

from yieldkit.cliutil import emit, output_options
from yieldkit.commands.options import defect_model_from, defect_model_options, design_option
from yieldkit.defect_map import DefectMap
from yieldkit.defects import sample_wafer
from yieldkit.design import load_design
from yieldkit.errors import InputError
from yieldkit.repair import repair_wafer, with_scheme


def _params(items: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--param expects KEY=VALUE, got {item!r}")
        try:
            out[key] = int(value)
        except ValueError:
            try:
                out[key] = float(value)
            except ValueError:
                out[key] = value
    return out


@click.command()
@design_option
@click.option("--defects", "defects_file", type=click.File("r"), default=None,
              help="Defect map JSON ('-' reads stdin), e.g. from 'yieldkit defects sample'.")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Sample the wafer instead (same stream as 'yieldkit defects sample --seed').")
@click.option("--d0", type=click.FloatRange(min=0), default=0.1, show_default=True,
              help="With --seed: defect density D0 [cm^-2].")
@click.option("--alpha", type=click.FloatRange(min=0, min_open=True), default=None,
              help="With --seed: negative-binomial clustering; omit for Poisson.")
@click.option("--scheme", default=None, help="Override the design's redundancy scheme (none, row-shift, row-col, block).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Override a scheme parameter (repeatable), e.g. --param reach=3.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, writable=True), required=True,
              help="Repair map file to write (.npz, format in yieldkit/repair_map.py).")
@click.option("--allow-degraded", is_flag=True,
              help="Write the maximal logical array when the full grid cannot be presented (exit 0).")
@defect_model_options
@output_options
def repair(design_name: str, defects_file: Any, seed: int | None, d0: float, alpha: float | None, scheme: str | None,
           params: tuple[str, ...], out_path: str, allow_degraded: bool, fmt: str | None, **model_options: Any) -> None:
    """Plan one wafer's repair map, verify it and write it.

    Prints repairable, logical_rows, logical_cols, dead_cores, dead_links,
    max_detour (extra hops of the longest logical link), algorithm and the
    reason a degraded part is smaller. Without --allow-degraded an
    unrepairable wafer writes no map and exits 1.

    \b
    Example:
      yieldkit repair --design wse --seed 17 --d0 0.1 --alpha 2 --out w17.npz --json
      yieldkit defects sample --design small --d0 2 --seed 3 | yieldkit repair --design small --defects - --out w3.npz --allow-degraded
    """
    if (defects_file is None) == (seed is None):
        raise click.UsageError("give exactly one of --defects FILE and --seed N")
    design = with_scheme(load_design(design_name), scheme, _params(params))
    if defects_file is not None:
        source = getattr(defects_file, "name", "<defects>")
        try:
            text = defects_file.read()
        except UnicodeDecodeError:
            raise InputError(f"{source}: not a defect map (not UTF-8 JSON text)") from None
        defects = DefectMap.loads(text, source=source)
    else:
        model = defect_model_from(d0, alpha, model_options)
        defects = sample_wafer(design, model, seed)
    report = repair_wafer(design, defects, allow_degraded=allow_degraded)
    record = report.summary()
    wrote = report.repair_map.physical_of_logical.size > 0 and (report.repairable or allow_degraded)
    if wrote:
        report.repair_map.save(out_path)
    record["out"] = out_path if wrote else None
    emit(record, fmt)
    if report.violations:
        first = report.violations[0]
        click.echo(f"Error: planned map fails verification: {first.invariant}: {first.message}", err=True)
        sys.exit(1)
    if not report.repairable and not allow_degraded:
        click.echo(f"Error: wafer not repairable ({report.repair_map.reason}); no map written (see --allow-degraded)",
                   err=True)
        sys.exit(1)
