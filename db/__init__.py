"""The yieldkit database: the one place that knows SQL.

Modules:

``db.models``      SQLAlchemy 2.0 typed declarative schema (lots, wafers, maps,
                   fabric images, campaigns, runs, workload executions, fault
                   events, remap actions)
``db.engine``      URL resolution (``--db`` / ``$YIELDKIT_DB`` / default SQLite
                   file), engine factory (read-only on request), SQLite
                   pragmas, write transactions
``db.migrate``     Alembic migrations shipped in ``db/migrations``: ``upgrade``,
                   ``downgrade``, ``current``, ``check_schema``
``db.writer``      bulk, idempotent fault-event writer and the small records
                   (lots, wafers, campaigns, runs, remaps), safe under
                   concurrent stations
``db.wafer_maps``  a wafer's DefectMap, RepairMap and fabric image: store and reload
``db.queries``     analyst queries returning pandas DataFrames
``db.export``      table export to CSV / Parquet
``db.cli``         the ``yieldkit db`` command group

Imports only sqlalchemy, alembic, pandas, numpy, the standard library and
``yieldkit`` (errors, outputs, the domain objects, the fault taxonomy).

Examples
--------
>>> import db
>>> engine = db.make_engine("sqlite://")
>>> db.upgrade(engine).at_head
True
>>> with db.write_transaction(engine) as conn:
...     db.ensure_lot(conn, "L042")
1
"""

from db.engine import (
    DatabaseInputError,
    DatabaseReadOnly,
    DatabaseUnreachable,
    make_engine,
    resolve_url,
    session_factory,
    write_transaction,
)
from db.export import ExportError, export_table
from db.migrate import SchemaRevisionError, check_schema, current, downgrade, upgrade
from db.queries import (
    failures_per_hour,
    fault_events,
    pareto,
    remap_history,
    table_counts,
    wafers_by_state,
    yield_per_lot,
)
from db.wafer_maps import (
    MapMismatchError,
    MissingRecordError,
    add_defect_map,
    add_fabric_image,
    add_repair_map,
    load_defect_map,
    load_fabric_image,
    load_repair_map,
)
from db.writer import (
    FaultEventError,
    WriteStats,
    add_remap,
    add_run,
    add_wafer,
    ensure_campaign,
    ensure_lot,
    set_wafer_state,
    write_fault_events,
    write_workload_executions,
)

__all__ = [
    # engine and schema
    "make_engine",
    "resolve_url",
    "session_factory",
    "write_transaction",
    "upgrade",
    "downgrade",
    "current",
    "check_schema",
    # writers
    "write_fault_events",
    "write_workload_executions",
    "WriteStats",
    "ensure_lot",
    "add_wafer",
    "set_wafer_state",
    "ensure_campaign",
    "add_run",
    "add_remap",
    "add_defect_map",
    "add_repair_map",
    "add_fabric_image",
    # readers and queries
    "load_defect_map",
    "load_repair_map",
    "load_fabric_image",
    "fault_events",
    "pareto",
    "failures_per_hour",
    "wafers_by_state",
    "yield_per_lot",
    "remap_history",
    "table_counts",
    "export_table",
    # errors
    "DatabaseInputError",
    "DatabaseUnreachable",
    "DatabaseReadOnly",
    "SchemaRevisionError",
    "FaultEventError",
    "ExportError",
    "MapMismatchError",
    "MissingRecordError",
]
