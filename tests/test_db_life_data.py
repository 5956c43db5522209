"""The survival table of a campaign (db.life_data), on both back-ends, and `reliability fit --db` through it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner

from db.engine import write_transaction
from db.life_data import campaign_survival, survival_table
from db.writer import add_run, add_wafer, ensure_campaign, ensure_lot, write_fault_events
from yieldkit.cli import cli
from yieldkit.design import load_design
from yieldkit.errors import InputError

SMALL_CORES = load_design("small").logical_cores


def _campaign(engine, name: str = "htol") -> None:
    """Two small wafers, two 4-hour steps each; core (3, 5) of W1 fails twice, W2 has a link fault."""
    with write_transaction(engine) as conn:
        lot = ensure_lot(conn, "L1")
        campaign = ensure_campaign(conn, name)
        runs = {}
        for serial in ("W1", "W2"):
            wafer = add_wafer(conn, lot, serial, "small")
            for step in range(2):
                runs[serial, step] = add_run(conn, campaign_id=campaign, wafer_id=wafer, station="S1", operator="op",
                                             temperature_c=125.0, voltage_v=1.1, hours=4.0, start_h=4.0 * step)
    events = [
        {"run_id": runs["W1", 0], "seq": 0, "time_h": 4.0, "core_row": 3, "core_col": 5,
         "fault_class": "permanent_core", "detection": "gemm"},
        {"run_id": runs["W1", 1], "seq": 0, "time_h": 8.0, "core_row": 3, "core_col": 5,
         "fault_class": "permanent_core", "detection": "gemm"},   # the same core again: not a new unit
        {"run_id": runs["W1", 1], "seq": 1, "time_h": 8.0, "core_row": 9, "core_col": 1,
         "fault_class": "sram", "detection": "march"},
        {"run_id": runs["W2", 1], "seq": 0, "time_h": 8.0, "link_id": 17,
         "fault_class": "link_packet_loss", "detection": "fabric"},  # no core: not a unit
    ]
    write_fault_events(engine, events)


def test_failed_cores_are_interval_censored_and_survivors_right_censored(db_engine) -> None:
    _campaign(db_engine)
    table = campaign_survival(db_engine)
    failed = table[table["count"] == 1].sort_values("end_h")
    assert failed[["wafer", "core_row", "core_col", "fault_class", "start_h", "end_h"]].values.tolist() == [
        ["W1", 3.0, 5.0, "permanent_core", 0.0, 4.0], ["W1", 9.0, 1.0, "sram", 4.0, 8.0]]
    survivors = table[np.isinf(table["end_h"])].set_index("wafer")
    assert survivors.loc["W1", "count"] == SMALL_CORES - 2 and survivors.loc["W2", "count"] == SMALL_CORES
    assert (survivors["start_h"] == 8.0).all()
    assert table["count"].sum() == 2 * SMALL_CORES  # every unit once: mass kept


def test_campaign_by_name_latest_by_default_and_unknown_refused(db_engine) -> None:
    _campaign(db_engine, "first")
    with pytest.raises(InputError, match="--campaign: no campaign named 'nosuch'"):
        campaign_survival(db_engine, "nosuch")
    assert campaign_survival(db_engine, "first")["count"].sum() == 2 * SMALL_CORES
    with write_transaction(db_engine) as conn:
        ensure_campaign(conn, "empty")
    with pytest.raises(InputError, match="has no runs"):
        campaign_survival(db_engine)  # the latest campaign is the empty one


def test_reliability_fit_reads_the_campaign_through_the_provider(db_url, db_engine) -> None:
    _campaign(db_engine)
    assert survival_table(db_url)["count"].sum() == 2 * SMALL_CORES
    result = CliRunner().invoke(cli, ["reliability", "fit", "--db", db_url, "--dist", "exponential", "--json"])
    assert result.exit_code == 0, result.output
    assert '"n_failures": 2' in result.output and f'"n_units": {2 * SMALL_CORES}' in result.output
    assert not math.isnan(float(result.output.split('"log_likelihood":')[1].split(",")[0]))
