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
from db.queries import table_counts
from yieldkit.cliutil import emit, output_options

__all__ = ["db"]

_DB_HELP = f"Database URL (default: ${ENV_VAR}, else sqlite:///yieldkit.db in the working directory)."


def db_option(func):
    """The ``--db URL`` option shared by every command that reads or writes."""
    return click.option("--db", "db_url", metavar="URL", envvar=ENV_VAR, default=None, help=_DB_HELP)(func)


@click.group()
def db() -> None:
    """Database: schema migrations, statistics and table export.

    \b
    Example:
      yieldkit db upgrade --db sqlite:///burnin.db
      yieldkit db stats --db sqlite:///burnin.db --table
    """


@db.command("upgrade")
@db_option
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@output_options
def upgrade_cmd(db_url: str | None, revision: str, fmt: str | None) -> None:
    """Create the database if needed and migrate it to the newest schema.

    Refuses (exit 2, nothing changed) a database at a revision this version
    does not know, e.g. one written by a newer yieldkit.

    \b
    Example:
      yieldkit db upgrade --db postgresql+psycopg://postgres@127.0.0.1:5432/test
    """
    emit(upgrade(db_url, revision).as_dict(), fmt)


@db.command("current")
@db_option
@output_options
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
    emit(rev.as_dict(), fmt)


@db.command("stats")
@db_option
@output_options
def stats_cmd(db_url: str | None, fmt: str | None) -> None:
    """Row count of every table.

    \b
    Example:
      yieldkit db stats --db sqlite:///burnin.db --table
    """
    engine = make_engine(db_url, must_exist=True)
    try:
        check_schema(engine)
        emit(table_counts(engine).to_dict(orient="records"), fmt)
    finally:
        engine.dispose()


@db.command("export")
@db_option
@click.option("--table", "table", required=True, help="Table to export (see 'yieldkit db stats').")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True,
              help="Output format.")
@click.option("-o", "--output", default="-", show_default=True, help="Output file, or - for stdout.")
def export_cmd(db_url: str | None, table: str, fmt: str, output: str) -> None:
    """Export one table as CSV or Parquet.

    \b
    Example:
      yieldkit db export --db sqlite:///burnin.db --table fault_events --format parquet -o events.parquet
      yieldkit db export --table wafers --format csv - | head
    """
    engine = make_engine(db_url, must_exist=True)
    try:
        check_schema(engine)
        if output == "-":
            stream = sys.stdout.buffer
            export_table(engine, table, fmt, stream)
            stream.flush()
        else:
            n = export_table(engine, table, fmt, output)
            click.echo(f"wrote {n} rows of {table} to {output}", err=True)
    finally:
        engine.dispose()
