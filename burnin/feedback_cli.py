"""``yieldkit feedback``: per-lot dead cores after burn-in against the calibrated defect model.

Thin layer over :func:`db.feedback.feedback_counts` (the database) and
:func:`yieldkit.views.feedback.lot_feedback` / :func:`plot_feedback` (the
comparison); the prediction is the model's Monte-Carlo mean and standard
deviation of dead cores per wafer on the lots' design. Bad input (an unknown
lot, a database without wafers, a model file calibrated on another design)
is one line on stderr and exit 2.
"""

from __future__ import annotations

from pathlib import Path

import click

from db.cli import db_option
from db.engine import make_engine
from db.feedback import feedback_counts
from db.migrate import check_schema
from yieldkit.cli.command import LibraryOption
from yieldkit.cli.options import format_options, plot_option
from yieldkit.cli.output import emit
from yieldkit.design import load_design
from yieldkit.errors import InputError
from yieldkit.model_file import load_model
from yieldkit.montecarlo import simulate
from yieldkit.outputs import atomic_path

__all__ = ["feedback"]

#: Wafers simulated for the model's prediction (one 2,048-wafer block: the mean's standard error is ~2 % of sd).
PREDICTION_WAFERS = 2048


@click.command("feedback")
@db_option
@click.option("--model", "model_path", cls=LibraryOption, required=True, metavar="FILE",
              help="Calibrated defect model file (yieldkit calibrate -o FILE).")
@click.option("--lot", "lots", multiple=True, metavar="NAME", help="Only this lot (repeatable; default all).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the model's Monte-Carlo prediction.")
@plot_option()
@format_options
def feedback(db_url, model_path, lots, seed, plot_path, fmt) -> None:
    """Burn-in feedback: each lot's dead cores per wafer against the calibrated model's prediction.

    Per lot: wafers, dead cores per wafer at fab-out (the stored defect maps)
    with a 95 % interval, cores mapped out in burn-in per wafer, their sum,
    the model's expected dead cores per wafer with the interval for a lot of
    that size, the ratios observed/predicted, and `flagged` when the fab-out
    rate lies outside the prediction (the model predicts fab-out dead cores;
    burn-in adds the latent ones).

    \b
    Example:
      yieldkit feedback --db sqlite:///burnin.db --model model.toml --lot L1 --plot feedback.png --table
    """
    try:
        model, provenance = load_model(model_path)
    except InputError as error:
        raise error.naming("--model") if not error.parameter else error from None
    engine = make_engine(db_url, read_only=True)
    try:
        check_schema(engine)
        counts = feedback_counts(engine, lot=list(lots) or None)
    finally:
        engine.dispose()
    missing = sorted(set(lots) - set(counts["lot"]))
    if missing:
        raise InputError(f"--lot: unknown lot {missing[0]!r} (or a lot without wafers)")
    if counts.empty:
        raise InputError("the database holds no wafers: create a lot first (yieldkit lot create)")
    designs = sorted(set(counts["design"]))
    if provenance.design and designs != [provenance.design]:
        other = next(d for d in designs if d != provenance.design)
        raise InputError(f"{model_path}: model calibrated on design {provenance.design!r}, "
                         f"but the wafers are of design {other!r}", parameter="model")
    if len(designs) > 1:
        raise InputError(f"the wafers are of several designs ({', '.join(designs)}): choose lots with --lot")
    from yieldkit.views.feedback import lot_feedback, plot_feedback

    design = load_design(designs[0])
    prediction = simulate(design, model, PREDICTION_WAFERS, seed)
    table = lot_feedback(counts, prediction.mean_dead_cores, prediction.std_dead_cores)
    if plot_path is not None:
        figure = plot_feedback(table)
        with atomic_path(plot_path) as tmp:
            figure.savefig(tmp, dpi=150, format=Path(plot_path).suffix.lstrip(".").lower())
    emit(table, fmt, table_columns=["lot", "wafers", "fab_out_mean", "fab_out_low", "fab_out_high",
                                    "mapped_out_burn_in_mean", "dead_total_mean", "predicted_mean",
                                    "predicted_low", "predicted_high", "ratio_total", "flagged"])
