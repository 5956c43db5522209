"""The lot report: one self-contained HTML file with a lot's summary, analyst views, wafers and remaps.

:func:`lot_report` reads the database through :mod:`db.queries`,
:mod:`db.analysis` and :mod:`db.life_data` and draws with
:mod:`yieldkit.views` and :func:`yieldkit.reliability.plot_probability`
(the calls listed in the :mod:`yieldkit.views` docstring); the result is a
:class:`yieldkit.report.Report` (pictures embedded, no external link).
``yieldkit report --lot L`` (:func:`report_cmd`) writes it. This module
never imports the fault truth.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
import pandas as pd
from sqlalchemy import select

import db.analysis
import db.queries
from db.burnin_records import lot_by_name
from db.cli import db_option
from db.engine import make_engine
from db.life_data import campaign_survival
from db.migrate import check_schema
from db.models import Campaign, Lot, Run, Wafer
from yieldkit.cli.command import Command
from yieldkit.cli.options import output_option
from yieldkit.design import load_design
from yieldkit.errors import InputError
from yieldkit.outputs import check_output_path
from yieldkit.report import Report

__all__ = ["lot_report", "lot_campaigns", "report_cmd"]


def lot_campaigns(engine, lot: str) -> list[str]:
    """Names of the campaigns that ran wafers of ``lot``, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Campaign.name).join(Run, Run.campaign_id == Campaign.id).join(Wafer, Wafer.id == Run.wafer_id)
            .join(Lot, Lot.id == Wafer.lot_id).where(Lot.name == lot).group_by(Campaign.id, Campaign.name)
            .order_by(Campaign.id)).all()
    return [r[0] for r in rows]


def _check(engine, lot: str, campaign: str | None) -> str | None:
    """Raise InputError for an unknown lot or campaign; return the campaign to fit (None: the lot has none)."""
    with engine.connect() as conn:
        lot_by_name(conn, lot)
    campaigns = lot_campaigns(engine, lot)
    if campaign is None:
        return campaigns[-1] if campaigns else None
    if campaign not in campaigns:
        with engine.connect() as conn:
            exists = conn.execute(select(Campaign.id).where(Campaign.name == campaign)).scalar() is not None
        why = "ran no wafer of this lot" if exists else "does not exist"
        raise InputError(f"campaign {campaign!r} {why}", parameter="--campaign")
    return campaign


def _view(report: Report, caption: str, make: Callable[[], object]) -> None:
    """Add the Figure ``make()`` draws, or a note saying why this view is not shown."""
    try:
        fig = make()
    except (InputError, ValueError) as err:
        report.paragraph(f"{caption}: not shown ({err}).", note=True)
        return
    report.figure(fig, caption)


def lot_report(engine, lot: str, campaign: str | None = None) -> Report:
    """The report of ``lot`` (and its burn-in ``campaign``; default: the lot's latest).

    Raises
    ------
    yieldkit.errors.InputError
        Unknown lot, or a campaign that does not exist or ran no wafer of the lot.
    """
    import matplotlib
    matplotlib.use("Agg")
    from yieldkit.reliability import LFPWeibullFitter, plot_probability
    from yieldkit.views.commonality import FACTORS
    from yieldkit.views import (
        classify_wafers,
        commonality,
        lot_signature_summary,
        lot_waterfall,
        p_chart,
        plot_commonality,
        plot_control_chart,
        plot_failures_per_hour,
        plot_pareto,
        plot_stacked_map,
        plot_wafer_gallery,
        plot_waterfall,
        stack_frequency,
    )

    campaign = _check(engine, lot, campaign)
    maps = db.analysis.wafer_maps(engine, lot=lot)
    if maps.empty:
        raise InputError(f"lot {lot!r} has no wafers", parameter="--lot")
    design = load_design(maps["design"].iloc[0])
    report = Report(f"Lot {lot}")
    filters = {"lot": lot} if campaign is None else {"lot": lot, "campaign": campaign}

    report.heading("Summary")
    report.paragraph(f"Design {design.name}, {len(maps)} wafers; burn-in campaign: {campaign or 'none yet'}.")
    summary = db.queries.yield_per_lot(engine)
    report.table(summary[summary["lot"] == lot])

    report.heading("Wafers at fab-out")
    classified = classify_wafers(design, maps)
    _view(report, "The lot's wafers: dead sites, cores mapped out in burn-in, spatial signature",
          lambda: plot_wafer_gallery(design, maps.assign(label=classified["signature"].to_numpy())))
    _view(report, "Stacked map: per-site failure frequency over the lot",
          lambda: plot_stacked_map(design, *stack_frequency(design, maps["dead_sites"])))
    report.table(lot_signature_summary(classified))
    _view(report, "Yield-loss waterfall, sites to logical fabric",
          lambda: plot_waterfall(lot_waterfall(design, db.analysis.waterfall_counts(engine, lot=lot))))

    report.heading("Burn-in")
    pareto = db.queries.pareto(engine, **filters)
    if campaign is None or pareto.empty:
        report.paragraph("No burn-in failure recorded for this lot.", note=True)
    else:
        _view(report, "Burn-in failures by fault class", lambda: plot_pareto(pareto))
        _view(report, "Burn-in failures per hour by fault class", lambda: plot_failures_per_hour(
            db.queries.failures_per_hour(engine, by_class=True, **filters)))

        def life():
            survival = campaign_survival(engine, campaign)
            fit = LFPWeibullFitter().fit_interval_censoring(survival["start_h"], survival["end_h"], survival["count"])
            report.table(fit.summary.reset_index())
            return plot_probability(fit, title=f"Campaign {campaign}: Weibull with a defective fraction")

        _view(report, f"Probability plot of the core failures of campaign {campaign} (LFP Weibull fit)", life)
        runs = db.analysis.run_failures(engine, cores_per_wafer=design.logical_cores)
        varied = [f for f in FACTORS if f in runs and runs[f].nunique() > 1]
        if varied:
            _view(report, f"Commonality: failures against {', '.join(varied)}", lambda: plot_commonality(
                commonality(runs, varied, exposure="core_hours"), runs, exposure="core_hours"))
        else:
            report.paragraph(f"Commonality: not shown (every run shares one {', '.join(FACTORS)}).", note=True)
        by_lot = db.analysis.failure_rate_by_period(engine, cores_per_wafer=design.logical_cores)
        _view(report, "p-chart of the share of cores failing, by lot", lambda: plot_control_chart(p_chart(by_lot)))

    report.heading("Wafers by final state")
    states = maps[["wafer", "state", "n_dead_sites", "n_dead_links", "n_mapped_out"]].copy()
    states["state"] = states["state"].map(lambda s: getattr(s, "value", s))
    report.table(states.sort_values(["state", "wafer"], kind="stable"))

    report.heading("Remap history")
    history = [db.queries.remap_history(engine, w).assign(wafer=w) for w in maps["wafer"]]
    history = [h for h in history if not h.empty]
    if history:
        remaps = pd.concat(history, ignore_index=True)
        remaps["old_sha256"] = remaps["old_sha256"].map(lambda s: s[:12] if isinstance(s, str) else "")
        remaps["new_sha256"] = remaps["new_sha256"].map(lambda s: s[:12] if isinstance(s, str) else "")
        report.table(remaps[["wafer", "at_h", "station", "n_cores_mapped_out", "n_links_mapped_out",
                             "old_sha256", "new_sha256", "reason"]])
    else:
        report.paragraph("No remap in burn-in.", note=True)
    return report


@click.command(cls=Command)
@click.option("--lot", "lot", required=True, help="Lot name.")
@click.option("--campaign", "campaign", default=None, help="Burn-in campaign (default: the lot's latest).")
@output_option("HTML file to write.", suffixes=(".html", ".htm"), default="report.html")
@db_option
def report_cmd(lot: str, campaign: str | None, output: str, db_url: str | None) -> None:
    """Write the HTML report of lot LOT: summary, wafer gallery, stacked map, waterfall, burn-in views, remaps.

    One self-contained file (pictures embedded, no external link); an
    unknown lot or campaign, or a database not at the newest revision, is
    one line and exit 2, with nothing written.

    \b
    Example:
      yieldkit report --lot L1 --db sqlite:///burnin.db -o lot-L1.html
    """
    path = check_output_path(output, "--output")
    engine = make_engine(db_url, must_exist=True)
    try:
        check_schema(engine)
        written = lot_report(engine, lot, campaign).write(path)
    finally:
        engine.dispose()
    click.echo(f"report: {Path(written).resolve()}")
