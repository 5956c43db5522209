"""Benchmark: a 48-hour campaign on a 25-wafer lot of ``small`` (figure, target, peer ratio).

Usage::

    .venv/bin/python benchmarks/bench_burnin_campaign.py [--db URL]

Setup (timed separately): a 25-wafer ``small`` lot (D0 = 0.1 cm^-2, seed 1,
demo fault model) in a fresh SQLite file (or ``--db``). Timed: the whole
campaign, 48 h at 125 degC and 1.1 V in 4 h steps (12 steps per wafer), every
step scanned, classified, remapped when needed and logged in one transaction.
Target: under 60 s. Peer: the same campaign with one wafer, scaled by the
wafer count (a per-wafer serial loop is what the campaign is, so the ratio
says how much the lot costs beyond 25 single wafers: ~1 expected).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from burnin.campaign import CampaignSpec, run_campaign
from burnin.lot import create_lot
from burnin.station import open_station
from db.engine import make_engine
from db.migrate import upgrade
from yieldkit.defects import DefectModel
from yieldkit.design import load_design

TARGET_S = 60.0


def _campaign(url: str, wafers: int) -> tuple[float, float]:
    engine = make_engine(url)
    upgrade(engine)
    t0 = time.perf_counter()
    lot = create_lot(engine, load_design("small"), DefectModel(0.1), wafers, 1, f"B{wafers}")
    t1 = time.perf_counter()
    spec = CampaignSpec(f"B{wafers}-48h", 48.0, 125.0, 1.1, "S1", "bench", 1)
    run_campaign(engine, spec, [w["wafer"] for w in lot.wafers], open_station)
    t2 = time.perf_counter()
    engine.dispose()
    return t1 - t0, t2 - t1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=None, help="Database URL (default: a fresh SQLite file).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        lot_s, figure = _campaign(url, 25)
        _, one = _campaign(f"sqlite:///{Path(tmp) / 'one.db'}", 1)
    print(f"lot create (25 small wafers): {lot_s:.2f} s")
    print(f"48 h campaign on a 25-wafer small lot: {figure:.2f} s")
    print(f"target: < {TARGET_S:g} s -> {'met' if figure < TARGET_S else 'MISSED'}")
    print(f"peer (1-wafer campaign x 25): {25 * one:.2f} s; ratio peer/figure = {25 * one / figure:.2f}x")


if __name__ == "__main__":
    main()
