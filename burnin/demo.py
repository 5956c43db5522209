"""The burn-in stage of ``yieldkit demo``: a small lot at fab-out, a short campaign, its score.

Registered under the ``yieldkit.demo`` entry point (``30-burnin``). Always
on the ``small`` design (a ``wse`` lot would take minutes): 4 wafers,
D0 = 0.1 /cm^2, the ``demo`` fault model, 24 h at 125 degC and 1.1 V in
4 h steps, into ``burnin.db`` (SQLite) in the demo folder; the evaluation
against the simulated truth goes into the report and to standard output;
then the core failures are fitted (``db.life_data.campaign_survival`` ->
``LFPWeibullFitter`` -> ``weibull_probability.png``) and the lot report is
written beside the demo report (``lot_report.html``, see
:mod:`burnin.lot_report`). The database is rebuilt on each run, so re-running
never duplicates a lot. :func:`build_demo_lot` is the same lot for notebooks.
The station driver is found through ``burnin.drivers``, so this module
never imports the truth.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pandas as pd

from burnin.campaign import CampaignSpec, run_campaign
from burnin.drivers import station_driver
from burnin.lot import create_lot
from db.engine import make_engine
from db.migrate import upgrade
from yieldkit.defects import DefectModel
from yieldkit.design import load_design

__all__ = ["burnin_stage", "build_demo_lot", "DEMO_LOT_WAFERS", "DEMO_HOURS"]

DEMO_LOT_WAFERS = 4
DEMO_HOURS = 24.0


def build_demo_lot(path: str | Path, seed: int = 7, *, wafers: int = DEMO_LOT_WAFERS, hours: float = DEMO_HOURS,
                   echo: Any = None):
    """(Re)build the demo burn-in database at ``path``: a 'small' lot, burnt in; return (lot, spec, result, evaluation).

    Any previous database at ``path`` is removed first (re-running never duplicates).
    """
    say = echo or (lambda text: None)
    path = Path(path)
    for suffix in ("", "-wal", "-shm"):
        stale = path.with_name(path.name + suffix)
        if stale.exists():
            stale.unlink()
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        design = load_design("small")
        lot = f"DEMO-{seed}"
        say(f"burn-in: creating lot {lot} ({wafers} 'small' wafers: defects, repair, verified images)")
        report = create_lot(engine, design, DefectModel(0.1), wafers, seed, lot)
        driver = station_driver("simulated")
        spec = CampaignSpec(f"{lot}-125C", hours, 125.0, 1.1, "DEMO", "demo", seed)
        say(f"burn-in: campaign {spec.name}, {hours:g} h at 125 degC")
        result = run_campaign(engine, spec, [w["wafer"] for w in report.wafers], driver.open_station)
        ev = driver.evaluate(engine, spec.name)
    finally:
        engine.dispose()
    return lot, spec, result, ev


def burnin_stage(ctx: Any) -> None:
    """Create a lot in ``ctx.out_dir / "burnin.db"``, burn it in, fit its failures, write its lot report."""
    path = ctx.out_dir / "burnin.db"
    lot, spec, result, ev = build_demo_lot(path, ctx.seed, echo=click.echo)
    ctx.files["burnin_db"] = path
    ctx.report.heading("Burn-in of a small lot, scored against the simulated truth")
    ctx.report.paragraph(
        f"Lot {lot}: {DEMO_LOT_WAFERS} 'small' wafers at D0 = 0.1 /cm^2, {DEMO_HOURS:g} h at 125 degC and 1.1 V "
        "in 4 h steps, demo fault model. Detection recall and precision per fault class:")
    ctx.report.table(ev.per_class)
    ctx.report.table(pd.DataFrame(result.wafers)[["wafer", "state", "events", "remaps", "cores_mapped_out", "moved"]])
    ctx.report.table(pd.DataFrame([ev.summary]))
    ctx.report.paragraph(f"Explore it: yieldkit burnin status --db sqlite:///{path.name}; "
                         f"yieldkit burnin evaluate --db sqlite:///{path.name} --table", note=True)
    click.echo(f"burn-in evaluation ({spec.name}):")
    click.echo(ev.per_class.to_string(index=False))
    click.echo(" ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in ev.summary.items()))
    _fit_and_lot_report(ctx, path, lot, spec.name)


def _fit_and_lot_report(ctx: Any, path: Path, lot: str, campaign: str) -> None:
    """Fit the campaign's core failures (LFP Weibull), add the probability plot; write ``lot_report.html``."""
    from burnin.lot_report import lot_report
    from db.life_data import campaign_survival
    from yieldkit.errors import InputError
    from yieldkit.outputs import atomic_path
    from yieldkit.reliability import LFPWeibullFitter, plot_probability

    click.echo(f"burn-in: fitting the core failures of {campaign} (Weibull with a defective fraction)")
    engine = make_engine(f"sqlite:///{path}", must_exist=True)
    try:
        survival = campaign_survival(engine, campaign)
        ctx.report.heading("Burn-in failures: Weibull fit with a defective fraction")
        try:
            fit = LFPWeibullFitter().fit_interval_censoring(survival["start_h"], survival["end_h"], survival["count"])
        except InputError as err:
            ctx.report.paragraph(f"No fit: {err}", note=True)
            click.echo(f"burn-in: no fit ({err})")
        else:
            fig = plot_probability(fit, title=f"Campaign {campaign}")
            with atomic_path(ctx.out_dir / "weibull_probability.png") as tmp:
                fig.savefig(tmp, dpi=110, bbox_inches="tight")
            ctx.files["weibull_probability"] = ctx.out_dir / "weibull_probability.png"
            ctx.report.table(fit.summary.reset_index())
            ctx.report.image("weibull_probability.png", f"Probability plot of the core failures of {campaign}")
            click.echo(f"burn-in: p = {fit.p_:.3g} defective, beta = {fit.beta_:.3g}, eta = {fit.eta_:.3g} h")
            if fit.p_ > 0.99:
                why = (f"p at its upper bound: {DEMO_HOURS:g} h cannot separate a defective fraction from a "
                       f"decreasing hazard (beta = {fit.beta_:.2g} < 1, infant mortality); longer burn-in would.")
                ctx.report.paragraph(why, note=True)
                click.echo(f"burn-in: {why}")
        click.echo(f"burn-in: writing the lot report of {lot}")
        written = lot_report(engine, lot, campaign).write(ctx.out_dir / "lot_report.html")
    finally:
        engine.dispose()
    ctx.files["lot_report"] = written
    ctx.report.paragraph(f"The lot report: {written.name} (yieldkit report --lot {lot} "
                         f"--db sqlite:///{path.name} -o {written.name})", note=True)
    click.echo(f"lot report: {written.resolve()}")
