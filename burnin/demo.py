"""The burn-in stage of ``yieldkit demo``: a small lot at fab-out, a short campaign, its score.

Registered under the ``yieldkit.demo`` entry point (``30-burnin``). Always
on the ``small`` design (a ``wse`` lot would take minutes): 4 wafers,
D0 = 0.1 /cm^2, the ``demo`` fault model, 24 h at 125 degC and 1.1 V in
4 h steps, into ``burnin.db`` (SQLite) in the demo folder; the evaluation
against the simulated truth goes into the report and to standard output.
The station driver is found through ``burnin.drivers``, so this module
never imports the truth.
"""

from __future__ import annotations

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

__all__ = ["burnin_stage", "DEMO_LOT_WAFERS", "DEMO_HOURS"]

DEMO_LOT_WAFERS = 4
DEMO_HOURS = 24.0


def burnin_stage(ctx: Any) -> None:
    """Create a lot in ``ctx.out_dir / "burnin.db"``, burn it in, add the evaluation to ``ctx.report``."""
    path = ctx.out_dir / "burnin.db"
    for suffix in ("", "-wal", "-shm"):
        stale = path.with_name(path.name + suffix)
        if stale.exists():
            stale.unlink()
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        design = load_design("small")
        lot = f"DEMO-{ctx.seed}"
        report = create_lot(engine, design, DefectModel(0.1), DEMO_LOT_WAFERS, ctx.seed, lot)
        driver = station_driver("simulated")
        spec = CampaignSpec(f"{lot}-125C", DEMO_HOURS, 125.0, 1.1, "DEMO", "demo", ctx.seed)
        result = run_campaign(engine, spec, [w["wafer"] for w in report.wafers], driver.open_station)
        ev = driver.evaluate(engine, spec.name)
    finally:
        engine.dispose()
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
