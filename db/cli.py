"""``yieldkit db``: migrate, inspect and export the yieldkit database.

Thin layer: each command parses options, calls one library function of the
``db`` package and prints the result. Every command takes ``--db URL``
(default ``$YIELDKIT_DB``, else ``sqlite:///yieldkit.db`` in the working
directory).
"""

from __future__ import annotations

import sys

import click

from db.engine import ENV_VAR, make_engine
from db.export import FORMATS, export_table
from db.migrate import SchemaRevisionError, check_schema, current, upgrade
from db.queries import failures_per_hour, pareto, table_counts
from yieldkit.cli.command import Group
from yieldkit.cli.options import format_options, output_option
from yieldkit.cli.output import emit
from yieldkit.cli.types import Number

__all__ = ["db"]

_DB_HELP = f"Database URL (default: ${ENV_VAR}, else sqlite:///yieldkit.db in the working directory)."


def db_option(func):
    """The ``--db URL`` option shared by every command that reads or writes."""
    return click.option("--db", "db_url", metavar="URL", envvar=ENV_VAR, default=None, help=_DB_HELP)(func)


@click.group(cls=Group)
def db() -> None:
    """Database: schema migrations, statistics, analyst queries and table export.

    \b
    Example:
      yieldkit db upgrade --db sqlite:///burnin.db
      yieldkit db stats --db sqlite:///burnin.db --table
    """


@db.command("upgrade")
@db_option
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@format_options
def upgrade_cmd(db_url: str | None, revision: str, fmt: str | None) -> None:
    """Create the database if needed and migrate it to the newest schema.

    Refuses (exit 2, nothing changed) a database at a revision this version
    does not know, e.g. one written by a newer yieldkit.

    \b
    Example:
      yieldkit db upgrade --db postgresql+psycopg://postgres@127.0.0.1:5432/test
    """
    emit(upgrade(db_url, revision).to_dict(), fmt)


@db.command("current")
@db_option
@format_options
def current_cmd(db_url: str | None, fmt: str | None) -> None:
    """Show the database's schema revision and the newest one this code knows.

    \b
    Example:
      YIELDKIT_DB=sqlite:///burnin.db yieldkit db current --json
    """
    rev = current(db_url)
    if not rev.known:
        raise SchemaRevisionError(
            f"database {rev.url} is at revision {rev.revision!r}, unknown to this yieldkit "
            f"(newest known: {rev.head}); written by a newer version?"
        )
    emit(rev.to_dict(), fmt)


@db.command("stats")
@db_option
@format_options
def stats_cmd(db_url: str | None, fmt: str | None) -> None:
    """Row count of every table.

    \b
    Example:
      yieldkit db stats --db sqlite:///burnin.db --table
    """
    engine = _reader(db_url)
    try:
        emit(table_counts(engine), fmt)
    finally:
        engine.dispose()


def filter_options(func):
    """Fault-event filters shared by the analyst commands (repeat an option for several values)."""
    options = [
        click.option("--lot", multiple=True, help="Lot name (repeatable)."),
        click.option("--wafer", multiple=True, help="Wafer serial (repeatable)."),
        click.option("--campaign", multiple=True, help="Campaign name (repeatable)."),
        click.option("--class", "fault_class", multiple=True, help="Fault class value, e.g. sram (repeatable)."),
        click.option("--start-h", type=Number(), default=None, help="Window start, burn-in hours (inclusive) [h]."),
        click.option("--end-h", type=Number(), default=None, help="Window end, burn-in hours (exclusive) [h]."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _filters(lot, wafer, campaign, fault_class, start_h, end_h) -> dict:
    return {"lot": list(lot) or None, "wafer": list(wafer) or None, "campaign": list(campaign) or None,
            "fault_class": list(fault_class) or None, "start_h": start_h, "end_h": end_h}


def _reader(db_url: str | None):
    engine = make_engine(db_url, read_only=True)
    try:
        check_schema(engine)
    except Exception:
        engine.dispose()
        raise
    return engine


@db.command("pareto")
@db_option
@filter_options
@format_options
def pareto_cmd(db_url, lot, wafer, campaign, fault_class, start_h, end_h, fmt) -> None:
    """Pareto of fault classes: count, share, cumulative share.

    \b
    Example:
      yieldkit db pareto --db sqlite:///burnin.db --lot L042 --start-h 0 --end-h 48 --table
    """
    engine = _reader(db_url)
    try:
        emit(pareto(engine, **_filters(lot, wafer, campaign, fault_class, start_h, end_h)), fmt)
    finally:
        engine.dispose()


@db.command("failures")
@db_option
@click.option("--bin-h", type=Number(min=0, min_open=True), default=1.0, show_default=True, help="Bin width [h].")
@click.option("--by-class", is_flag=True, help="One row per (bin, fault class).")
@filter_options
@format_options
def failures_cmd(db_url, bin_h, by_class, lot, wafer, campaign, fault_class, start_h, end_h, fmt) -> None:
    """Failures per burn-in time bin (for hazard / bathtub plots).

    \b
    Example:
      yieldkit db failures --db sqlite:///burnin.db --bin-h 4 --campaign htol-125C --csv
    """
    engine = _reader(db_url)
    try:
        frame = failures_per_hour(engine, bin_h=bin_h, by_class=by_class,
                                  **_filters(lot, wafer, campaign, fault_class, start_h, end_h))
        emit(frame, fmt)
    finally:
        engine.dispose()


@db.command("export")
@db_option
@click.option("--table", "table", required=True, help="Table to export (see 'yieldkit db stats').")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True,
              help="Output format.")
@output_option("Output file, or - for standard output.", stdout=True, default="-")
def export_cmd(db_url: str | None, table: str, fmt: str, output: str) -> None:
    """Export one table as CSV or Parquet.

    \b
    Example:
      yieldkit db export --db sqlite:///burnin.db --table fault_events --format parquet -o events.parquet
      yieldkit db export --table wafers --format csv | head
    """
    engine = _reader(db_url)
    try:
        if output == "-":
            stream = sys.stdout.buffer
            export_table(engine, table, fmt, stream)
            stream.flush()
        else:
            n = export_table(engine, table, fmt, output)
            click.echo(f"wrote {n} rows of {table} to {output}", err=True)
    finally:
        engine.dispose()
