"""Alembic environment for the yieldkit schema.

Called by :mod:`db.migrate` with an open connection in
``config.attributes["connection"]`` (so the engine carries yieldkit's SQLite
pragmas), or by the ``alembic`` command line, in which case the URL comes
from ``sqlalchemy.url``, ``$YIELDKIT_DB`` or the default.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from db.engine import make_engine
from db.models import Base

config = context.config
MIGRATION_LOCK_ID = 0x79_6B_64_62  # "ykdb"
target_metadata = Base.metadata


def _pragma(connection, sql: str) -> None:
    """Run a PRAGMA outside any transaction (SQLite ignores foreign_keys inside one)."""
    if connection.in_transaction():
        connection.commit()
    connection.connection.dbapi_connection.execute(sql)


def _configure_and_run(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,  # SQLite cannot ALTER most things: copy-and-move
        compare_type=True,
        transactional_ddl=True,
    )
    if sqlite:
        # Batch migrations recreate tables; foreign keys are checked once at the end instead.
        _pragma(connection, "PRAGMA foreign_keys = OFF")
    try:
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Serialise concurrent upgrades (SQLite gets this from BEGIN IMMEDIATE); the lock
                # is taken before Alembic reads the current revision, so a waiter sees the result.
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
            context.run_migrations()
            if sqlite:
                bad = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if bad:
                    raise RuntimeError(f"migration left {len(bad)} foreign key violations, first: {bad[0]}")
    finally:
        if sqlite:
            _pragma(connection, "PRAGMA foreign_keys = ON")


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or str(make_engine(None).url)
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    with engine.connect() as conn:
        _configure_and_run(conn)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
