"""The yieldkit database: the one place that knows SQL (see DESIGN.md).

Modules:

``db.models``   SQLAlchemy 2.0 typed declarative schema (lots, wafers, maps,
                fabric images, campaigns, runs, workload executions, fault
                events, remap actions)
``db.engine``   URL resolution (``--db`` / ``$YIELDKIT_DB`` / default SQLite
                file), engine factory, SQLite pragmas, write transactions
``db.migrate``  Alembic migrations shipped in ``db/migrations``: ``upgrade``,
                ``downgrade``, ``current``, ``check_schema``
``db.writer``   bulk, idempotent fault-event writer and record helpers
``db.queries``  analyst queries returning pandas DataFrames
``db.export``   table export to CSV / Parquet
``db.cli``      the ``yieldkit db`` command group

Imports only sqlalchemy, alembic, pandas, numpy, the standard library and
``yieldkit`` (errors, CLI helpers, the fault taxonomy).
"""
