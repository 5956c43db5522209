"""``yieldkit lot`` and ``yieldkit burnin``: lots at fab-out, burn-in campaigns, scans, remaps, scores.

Thin layer over :mod:`burnin.lot`, :mod:`burnin.campaign`, :mod:`burnin.scan`,
:mod:`burnin.remap`; the hardware is the station driver named by
``--driver`` (``burnin.drivers``), so this module never imports the fault
truth. Every command checks its input before writing anything: an unknown
wafer, lot or campaign, a wafer with no image, negative hours or a database
not at the newest schema revision is one line on stderr and exit 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from burnin.campaign import DEFAULT_STEP_H, CampaignSpec, check_wafers, run_campaign, step_hours
from burnin.drivers import station_driver
from burnin.image_step import build_checked_image
from burnin.lot import create_lot
from burnin.policy import MIN_FRACTION, fabric_state
from burnin.remap import remap
from burnin.scan import scan
from db.burnin_records import (
    first_defect_map,
    image_bytes,
    image_id_of,
    list_lots,
    lot_by_name,
    lot_name_of,
    lot_params_of,
    lot_wafers,
    record_remap,
    repair_map_of_image,
    wafer_by_serial,
    wafer_exposure,
    wafer_status,
)
from db.cli import db_option
from db.engine import make_engine, write_transaction
from db.migrate import check_schema, current, upgrade
from db.models import WaferState
from db.wafer_maps import add_defect_map, add_fabric_image, add_repair_map
from db.writer import set_wafer_state
from yieldkit.cli.command import Group, LibraryOption
from yieldkit.cli.options import defect_model_options, design_option, format_options, quiet_option, seed_option
from yieldkit.cli.output import emit
from yieldkit.cli.progress import progress_bar
from yieldkit.cli.types import Number
from yieldkit.design import load_design
from yieldkit.errors import InputError

__all__ = ["lot", "burnin"]


def _engine(db_url: str | None, *, create: bool = False):
    """An engine on a database at the newest revision (``create``: an empty or new database is migrated first;
    otherwise a missing SQLite file is bad input and is not created)."""
    engine = make_engine(db_url, must_exist=not create)
    try:
        if create and current(engine).revision is None:
            upgrade(engine)
        check_schema(engine)
    except Exception:
        engine.dispose()
        raise
    return engine


# --- lot ---------------------------------------------------------------------------------------------


@click.group(cls=Group)
def lot() -> None:
    """Lots of wafers at fab-out: defects sampled, repair planned and verified, images built and stored.

    \b
    Example:
      yieldkit lot create --design small --wafers 3 --d0 0.1 --seed 1 --name L1 --db sqlite:///burnin.db
    """


@lot.command("create")
@design_option(default="small")
@click.option("--wafers", "n_wafers", cls=LibraryOption, type=click.IntRange(min=1, max=99), default=25,
              show_default=True, help="Wafers in the lot.")
@defect_model_options()
@seed_option(default=0, help="Lot seed: wafer i gets SeedSequence([seed, i]).")
@click.option("--name", "name", cls=LibraryOption, default=None, help="Lot name (default LOT-<design>-s<seed>).")
@click.option("--fault-model", "fault_model", cls=LibraryOption, default="demo", show_default=True,
              help="Fault population of the simulated hardware (demo, field, clean).")
@db_option
@quiet_option
@format_options
def lot_create(design_name, n_wafers, model, seed, name, fault_model, db_url, quiet, fmt) -> None:
    """Create a lot: every wafer's defects, repair map, fabric image and state, in one transaction.

    A wafer is a full fabric (repaired), an engineering part (its maximal
    logical grid keeps at least 90 % of the logical cores) or scrap.
    Re-using a lot name is refused (exit 2) and writes nothing.

    \b
    Example:
      yieldkit lot create --design small --wafers 3 --d0 0.1 --seed 1 --name L1 --db sqlite:///burnin.db
    """
    design = load_design(design_name)
    if fault_model not in ("demo", "field", "clean"):
        raise InputError(f"unknown fault model {fault_model!r}; choose demo, field or clean", parameter="fault_model")
    engine = _engine(db_url, create=True)
    try:
        with progress_bar(n_wafers, quiet) as update:
            report = create_lot(engine, design, model, n_wafers, seed, name, fault_model=fault_model,
                                progress=update)
        emit(report.wafers, fmt, table_columns=["wafer", "state", "dead_cores", "logical_rows", "logical_cols"])
    finally:
        engine.dispose()


@lot.command("list")
@db_option
@format_options
def lot_list(db_url, fmt) -> None:
    """Every lot: design, wafers per state, defect model and seed.

    \b
    Example:
      yieldkit lot list --db sqlite:///burnin.db --table
    """
    engine = _engine(db_url)
    try:
        with engine.connect() as conn:
            emit(list_lots(conn), fmt)
    finally:
        engine.dispose()


@lot.command("show")
@click.argument("name")
@db_option
@format_options
def lot_show(name, db_url, fmt) -> None:
    """The wafers of lot NAME: state, logical grid, burn-in hours, remaps.

    \b
    Example:
      yieldkit lot show L1 --db sqlite:///burnin.db --table
    """
    engine = _engine(db_url)
    try:
        with engine.connect() as conn:
            row = lot_by_name(conn, name)
            emit(wafer_status(conn, row.id), fmt)
    finally:
        engine.dispose()


# --- burnin ------------------------------------------------------------------------------------------


@click.group(cls=Group)
def burnin() -> None:
    """Burn-in: campaigns, targeted scans, manual remaps, status and scores against the simulated truth.

    \b
    Example:
      yieldkit burnin run --lot L1 --hours 8 --db sqlite:///burnin.db -q
      yieldkit burnin evaluate --db sqlite:///burnin.db --table
    """


def _driver_option(func):
    return click.option("--driver", "driver", cls=LibraryOption, default="simulated", show_default=True,
                        help="Station driver (entry point yieldkit.burnin_stations).")(func)


def _conditions(func):
    func = click.option("--voltage", "voltage_v", cls=LibraryOption, type=Number(min=0, min_open=True), default=1.1,
                        show_default=True, help="Core supply during stress [V].")(func)
    return click.option("--temp-c", "temp_c", cls=LibraryOption, type=Number(), default=125.0, show_default=True,
                        help="Junction temperature during stress [degC].")(func)


@burnin.command("run")
@click.option("--lot", "lot", default=None, help="Burn in every wafer of this lot.")
@click.option("--wafer", "wafer", multiple=True, help="Wafer serial (repeatable).")
@click.option("--hours", "hours", cls=LibraryOption, type=Number(), default=48.0, show_default=True,
              help="Stress duration [h].")
@_conditions
@click.option("--step-h", "step_h", cls=LibraryOption, type=Number(min=0, min_open=True), default=DEFAULT_STEP_H,
              show_default=True, help="Scan interval: one logged step per interval [h].")
@click.option("--station", "station", default="S1", show_default=True, help="Station name.")
@click.option("--operator", "operator", default="operator", show_default=True, help="Operator name.")
@seed_option(default=0, help="Campaign seed.")
@click.option("--campaign", "campaign", cls=LibraryOption, default=None,
              help="Campaign name (default: <lot>-<temp>C-<voltage>V-<hours>h-s<seed>).")
@click.option("--resume", is_flag=True, help="Continue the campaign after its last committed step.")
@_driver_option
@db_option
@quiet_option
@format_options
def run_cmd(lot, wafer, hours, temp_c, voltage_v, step_h, station, operator, seed, campaign, resume, driver,
            db_url, quiet, fmt) -> None:
    """Run a burn-in campaign, logging every step to the database as it happens.

    Each step (one scan interval) is written in one transaction; a campaign
    killed at any moment continues with --resume and ends with exactly the
    database content of an uninterrupted run.

    \b
    Example:
      yieldkit burnin run --lot L1 --hours 8 --temp-c 125 --voltage 1.1 --station S1 --operator ana --seed 7 -q --db sqlite:///burnin.db
    """
    lot_name, wafers = lot, wafer
    if bool(lot_name) == bool(wafers):
        raise click.UsageError("give --lot or --wafer (not both)")
    CampaignSpec("check", hours, temp_c, voltage_v, station, operator, seed, step_h)  # checks before any work
    drv = station_driver(driver)
    engine = _engine(db_url)
    try:
        with engine.connect() as conn:
            if lot_name:
                lot_row = lot_by_name(conn, lot_name)
                rows = lot_wafers(conn, lot_row.id)
                serials = [w.serial for w in rows if w.state != WaferState.SCRAPPED]
                base = lot_name
            else:
                serials = list(wafers)
                base = lot_name_of(conn, wafer_by_serial(conn, serials[0]).lot_id)
        name = campaign or f"{base}-{temp_c:g}C-{voltage_v:g}V-{hours:g}h-s{seed}"
        spec = CampaignSpec(name, hours, temp_c, voltage_v, station, operator, seed, step_h)
        check_wafers(engine, serials)
        total = len(serials) * len(step_hours(hours, step_h))
        with progress_bar(total, quiet, label="steps") as update:
            result = run_campaign(engine, spec, serials, drv.open_station, resume=resume, progress=update)
        emit(result.wafers, fmt, table_columns=["wafer", "state", "steps", "events", "remaps", "cores_mapped_out",
                                                "links_mapped_out", "moved"])
    finally:
        engine.dispose()


def _wafer_context(conn, serial: str):
    wafer = wafer_by_serial(conn, serial)
    image_id = image_id_of(conn, wafer.id)
    if image_id is None:
        raise InputError(f"wafer {serial!r} has no fabric image (state {wafer.state})", parameter="wafer")
    return wafer, image_id, repair_map_of_image(conn, image_id)


@burnin.command("scan")
@click.argument("wafer")
@_conditions
@seed_option(default=0, help="Seed of the scan's inputs.")
@_driver_option
@db_option
@format_options
def scan_cmd(wafer, temp_c, voltage_v, seed, driver, db_url, fmt) -> None:
    """One targeted scan of WAFER on its current image; prints the classified findings, writes nothing.

    \b
    Example:
      yieldkit burnin scan L1-W01 --db sqlite:///burnin.db --table
    """
    drv = station_driver(driver)
    engine = _engine(db_url)
    try:
        with engine.connect() as conn:
            row, _, current_map = _wafer_context(conn, wafer)
            fab_out = first_defect_map(conn, row.id)
            exposure = wafer_exposure(conn, row.id)
            model = lot_params_of(conn, row.lot_id).get("fault_model", "demo")
        design = load_design(row.design)
        station = drv.open_station(design, fab_out, current_map, int(row.seed), model, exposure)
        station.begin_step(seed, 10**6)
        station.stress(0.0, temp_c, voltage_v)
        result = scan(station, temp_c, voltage_v, [seed, int(row.seed), 10**6, 7])
        records = [{"logical_row": e["logical"][0], "logical_col": e["logical"][1], "core_row": e["core_row"],
                    "core_col": e["core_col"], "link_id": e["link_id"], "fault_class": str(e["fault_class"]),
                    "detection": e["detection"], "action": e["action"]} for e in result.events]
        if not records:
            click.echo(f"{wafer}: no findings", err=True)
        emit(records, fmt)
    finally:
        engine.dispose()


def _core(text: str) -> tuple[int, int]:
    try:
        r, c = (int(x) for x in text.split(","))
    except ValueError:
        raise click.BadParameter(f"expected ROW,COL, got {text!r}", param_hint="--core") from None
    return r, c


@burnin.command("remap")
@click.argument("wafer")
@click.option("--core", "cores", multiple=True, required=True, help="Physical core ROW,COL to map out (repeatable).")
@click.option("--reason", required=True, help="Why (stored with the remap).")
@click.option("--images", "images", type=click.Path(file_okay=False), default=None,
              help="Folder to write <wafer>-old.fabimg and <wafer>-new.fabimg for 'yieldkit firmware diff'.")
@db_option
@format_options
def remap_cmd(wafer, cores, reason, images, db_url, fmt) -> None:
    """Map cores of WAFER out by hand: incremental remap, next image built, verified and stored.

    \b
    Example:
      yieldkit burnin remap L1-W01 --core 10,12 --reason "hot spot seen by IR camera" --images imgs --db sqlite:///burnin.db
      yieldkit firmware diff imgs/L1-W01-old.fabimg imgs/L1-W01-new.fabimg
    """
    engine = _engine(db_url)
    try:
        with engine.connect() as conn:
            row, old_id, current_map = _wafer_context(conn, wafer)
            old_bytes = image_bytes(conn, old_id)
        design = load_design(row.design)
        sites = []
        for text in cores:
            r, c = _core(text)
            if not (0 <= r < design.rows and 0 <= c < design.cols) or not design.site_exists[r, c]:
                raise InputError(f"core {r},{c} is not a site of design {design.name!r}", parameter="cores")
            sites.append(r * design.cols + c)
        result = remap(design, current_map, sites)
        verdict, why = fabric_state(result.repair_map, design, result.violations == 0, MIN_FRACTION)
        state = {"full": row.state, "engineering_part": WaferState.ENGINEERING_PART,
                 "scrap": WaferState.SCRAPPED}[verdict]
        image = None
        if result.method != "none" and verdict != "scrap":
            image = build_checked_image(result.repair_map, row.serial, design, full=verdict == "full")
        with write_transaction(engine) as conn:
            if result.method != "none":
                dm = add_defect_map(conn, row.id, result.repair_map.defects, source="burn_in")
                if image is not None:
                    rm = add_repair_map(conn, row.id, result.repair_map, defect_map_id=dm)
                    new_id = add_fabric_image(conn, row.id, image, repair_map_id=rm, parent_id=old_id)
                    at_h = sum(h for h, _, _ in wafer_exposure(conn, row.id))
                    record_remap(conn, wafer_id=row.id, old_image_id=old_id, new_image_id=new_id, at_h=at_h,
                                 cores=result.new_dead_sites, reason=reason, cores_moved=result.moved,
                                 method=f"manual/{result.method}")
            set_wafer_state(conn, row.id, state)
        if images and image is not None:
            folder = Path(images)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{row.serial}-old.fabimg").write_bytes(old_bytes)
            (folder / f"{row.serial}-new.fabimg").write_bytes(image)
        emit({"wafer": row.serial, **result.to_dict(), "state": str(WaferState(state)), "policy": why or "full fabric"},
             fmt)
    finally:
        engine.dispose()


@burnin.command("status")
@click.option("--lot", "lot", default=None, help="Only this lot.")
@db_option
@format_options
def status_cmd(lot, db_url, fmt) -> None:
    """Every wafer: state, logical grid, burn-in hours, runs, remaps, cores mapped out.

    \b
    Example:
      yieldkit burnin status --lot L1 --db sqlite:///burnin.db --table
    """
    engine = _engine(db_url)
    try:
        with engine.connect() as conn:
            lot_id = lot_by_name(conn, lot).id if lot else None
            emit(wafer_status(conn, lot_id), fmt)
    finally:
        engine.dispose()


@burnin.command("evaluate")
@click.option("--campaign", "campaign", cls=LibraryOption, default=None, help="Campaign name (default: the latest).")
@click.option("--field-hours", "field_hours", cls=LibraryOption, type=Number(min=0), default=1000.0,
              show_default=True, help="Escapes: latent defects failing within this many field hours [h].")
@_driver_option
@db_option
@format_options
def evaluate_cmd(campaign, field_hours, driver, db_url, fmt) -> None:
    """Score a campaign against the simulated truth: recall, precision, confusion, escapes, hours to stability.

    --table prints the per-class table, the confusion matrix and the summary;
    --json all of them as one object; --csv the per-class table.

    \b
    Example:
      yieldkit burnin evaluate --db sqlite:///burnin.db --table
    """
    drv = station_driver(driver)
    if not hasattr(drv, "evaluate"):
        raise InputError(f"station driver {driver!r} has no truth to score against", parameter="driver")
    engine = _engine(db_url)
    try:
        ev = drv.evaluate(engine, campaign, field_hours)
        if fmt == "json" or (fmt is None and not sys.stdout.isatty()):
            emit(ev.to_dict(), "json")
        elif fmt == "csv":
            emit(ev.per_class, "csv")
        else:
            emit(ev.per_class, "table")
            click.echo("")
            emit(ev.confusion.reset_index(names="truth"), "table")
            click.echo("")
            emit(ev.summary, "table")
    finally:
        engine.dispose()

