"""Schema, migrations and engine: db/models.py, db/migrate.py, db/engine.py."""

from __future__ import annotations

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import exc, insert, inspect, text

from db.engine import (
    DEFAULT_URL,
    DatabaseInputError,
    DatabaseUnreachable,
    make_engine,
    resolve_url,
    write_transaction,
)
from db.migrate import SchemaRevisionError, check_schema, current, downgrade, head_revision, upgrade
from db.models import Base, FaultEvent, Wafer, WaferState, decode_ids, encode_ids, one_of
from yieldkit.faults import FaultClass


def _event(run_id: int, seq: int, **over):
    row = dict(run_id=run_id, seq=seq, time_h=1.0, core_row=1, core_col=2, link_id=None,
               fault_class="sram", workload="w", detection="ecc", temperature_c=None, voltage_v=None,
               action="none")
    row.update(over)
    return row


def test_upgrade_creates_schema_at_head_and_is_idempotent(empty_db_url):
    first = upgrade(empty_db_url)
    assert first.revision == head_revision() and first.at_head and first.known
    again = upgrade(empty_db_url)
    assert again.revision == head_revision()
    engine = make_engine(empty_db_url)
    try:
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        assert check_schema(engine) == head_revision()
    finally:
        engine.dispose()


def test_downgrade_to_base_and_back(empty_db_url):
    upgrade(empty_db_url)
    assert downgrade(empty_db_url, "base").revision is None
    engine = make_engine(empty_db_url)
    try:
        assert not set(Base.metadata.tables) & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert upgrade(empty_db_url).at_head


def test_unknown_target_revision_is_an_input_error(empty_db_url):
    with pytest.raises(SchemaRevisionError, match="nonsense"):
        upgrade(empty_db_url, "nonsense")


def test_models_and_migrations_agree(db_engine):
    """Alembic autogenerate finds no difference between the models and `upgrade head`."""
    with db_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "compare_server_default": False})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_migration_enum_checks_match_the_enums():
    """The self-contained migration spells out the same values as the live enums."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "db/migrations/versions/0001_initial_schema.py"
    spec = importlib.util.spec_from_file_location("yk_migration_0001", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert list(module.FAULT_CLASSES) == FaultClass.values()
    assert list(module.WAFER_STATES) == [s.value for s in WaferState]
    assert module.one_of("fault_class", module.FAULT_CLASSES) == one_of("fault_class", FaultClass)


def test_fault_class_check_constraint(db_engine, db_seed):
    run = db_seed(1)["runs"][0]
    table = FaultEvent.__table__
    with write_transaction(db_engine) as conn:
        conn.execute(insert(table), [_event(run, i, fault_class=c.value) for i, c in enumerate(FaultClass)])
    with pytest.raises(exc.IntegrityError):
        with write_transaction(db_engine) as conn:
            conn.exec_driver_sql(
                "INSERT INTO fault_events (run_id, seq, time_h, core_row, core_col, fault_class, detection, action)"
                f" VALUES ({run}, 100, 1.0, 0, 0, 'cosmic_ray', 'ecc', 'none')")
    with db_engine.connect() as conn:
        stored = sorted(conn.scalars(text("SELECT fault_class FROM fault_events")))
    assert stored == sorted(FaultClass.values())


@pytest.mark.parametrize("bad", [
    dict(core_row=None, core_col=None, link_id=None),  # neither core nor link
    dict(core_row=1, core_col=1, link_id=5),  # both
    dict(time_h=-1.0),
    dict(core_row=-1),
])
def test_fault_event_checks(db_engine, db_seed, bad):
    run = db_seed(1)["runs"][0]
    with pytest.raises(exc.IntegrityError):
        with write_transaction(db_engine) as conn:
            conn.execute(insert(FaultEvent.__table__), [_event(run, 0, **bad)])


def test_foreign_keys_enforced(db_engine):
    with pytest.raises(exc.IntegrityError):
        with write_transaction(db_engine) as conn:
            conn.execute(insert(Wafer).values(lot_id=999, serial="X", design="small"))


def test_wafer_state_check(db_engine):
    with write_transaction(db_engine) as conn:
        conn.exec_driver_sql("INSERT INTO lots (name) VALUES ('L')")
    with pytest.raises(exc.IntegrityError):
        with write_transaction(db_engine) as conn:
            conn.exec_driver_sql("INSERT INTO wafers (lot_id, serial, design, state) VALUES (1, 'W', 's', 'lost')")


def test_sqlite_connection_pragmas(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    finally:
        engine.dispose()


def test_sqlite_write_transactions_begin_immediate(tmp_path):
    """A write transaction takes the write lock at BEGIN: a second one cannot start meanwhile."""
    url = f"sqlite:///{tmp_path / 'lock.db'}"
    upgrade(url)
    holder = make_engine(url)
    other = make_engine(url)
    try:
        with write_transaction(holder):
            with other.connect() as conn:
                conn.connection.dbapi_connection.execute("PRAGMA busy_timeout = 100")
                conn.execution_options(yieldkit_begin_immediate=True)
                with pytest.raises(exc.OperationalError, match="locked"):
                    conn.begin()
            with other.connect() as conn:  # readers are not blocked (WAL)
                assert conn.exec_driver_sql("SELECT count(*) FROM lots").scalar() == 0
    finally:
        holder.dispose()
        other.dispose()


def test_write_sessions_begin_immediate(tmp_path):
    from sqlalchemy import event

    from db.engine import session_factory
    from db.models import Lot

    url = f"sqlite:///{tmp_path / 's.db'}"
    upgrade(url)
    engine = make_engine(url)
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    try:
        with session_factory(engine, write=True).begin() as session:
            session.add(Lot(name="L9"))
        with session_factory(engine)() as session:
            assert session.query(Lot).one().name == "L9"
    finally:
        engine.dispose()
    assert seen[0] == "BEGIN IMMEDIATE" and "BEGIN" in seen and seen.count("BEGIN IMMEDIATE") == 1


def test_unknown_revision_is_refused_and_nothing_changes(empty_db_url):
    upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        with write_transaction(engine) as conn:
            conn.exec_driver_sql("INSERT INTO lots (name) VALUES ('keep')")
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffff9999'")
        with pytest.raises(SchemaRevisionError, match="ffff9999.*unknown"):
            upgrade(empty_db_url)
        with pytest.raises(SchemaRevisionError, match="unknown"):
            check_schema(engine)
        assert current(empty_db_url).known is False
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT name FROM lots").scalars().all() == ["keep"]
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "ffff9999"
    finally:
        engine.dispose()


def test_check_schema_on_empty_database(empty_db_url):
    upgrade(empty_db_url)  # creates the SQLite file; then remove the stamp
    engine = make_engine(empty_db_url)
    try:
        with write_transaction(engine) as conn:
            conn.exec_driver_sql("DELETE FROM alembic_version")
        with pytest.raises(SchemaRevisionError, match="no yieldkit schema"):
            check_schema(engine)
        with pytest.raises(SchemaRevisionError, match="no revision stamp"):
            upgrade(empty_db_url)
    finally:
        engine.dispose()


def test_resolve_url(monkeypatch, tmp_path):
    monkeypatch.delenv("YIELDKIT_DB", raising=False)
    assert str(resolve_url(None)) == DEFAULT_URL
    monkeypatch.setenv("YIELDKIT_DB", "sqlite:////tmp/x.db")
    assert str(resolve_url(None)) == "sqlite:////tmp/x.db"
    assert str(resolve_url("sqlite:///y.db")) == "sqlite:///y.db"  # explicit beats the environment
    assert resolve_url("runs/burnin.db").get_backend_name() == "sqlite"
    with pytest.raises(DatabaseInputError, match="not a database URL"):
        resolve_url("postgresql://user@host:notaport/db")
    with pytest.raises(DatabaseUnreachable, match="no database"):
        make_engine(f"sqlite:///{tmp_path / 'missing.db'}", must_exist=True)
    assert not (tmp_path / "missing.db").exists()


def test_encode_decode_ids_round_trip():
    ids = np.array([0, 5, 2**40, 7], np.int64)
    blob = encode_ids(ids)
    assert len(blob) == 8 * len(ids)
    assert blob[:8] == (0).to_bytes(8, "little") and blob[8:16] == (5).to_bytes(8, "little")
    np.testing.assert_array_equal(decode_ids(blob), ids)
    assert decode_ids(None).size == 0 and decode_ids(b"").dtype == np.int64


def test_package_exports_engine_writers_and_queries():
    import db

    assert set(db.__all__) >= {"make_engine", "write_transaction", "upgrade", "ensure_lot", "add_defect_map",
                               "add_repair_map", "add_fabric_image", "load_defect_map", "load_repair_map",
                               "load_fabric_image", "write_fault_events", "pareto", "export_table"}
    assert all(callable(getattr(db, name)) for name in db.__all__)
    import db.engine

    assert not hasattr(db.engine, "is_sqlite")


def test_maps_written_before_revision_0002_reload_after_the_upgrade(empty_db_url):
    """Rows of the initial schema get the new columns' defaults and still load as domain objects."""
    from db.models import encode_ids
    from db.wafer_maps import load_defect_map, load_repair_map

    upgrade(empty_db_url, "0001")
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO lots (name) VALUES ('L1')")
            conn.exec_driver_sql("INSERT INTO wafers (lot_id, serial, design) VALUES (1, 'W1', 'small')")
            conn.execute(text("INSERT INTO defect_maps (wafer_id, source, rows, cols, n_dead_sites, n_dead_links, "
                              "dead_sites, dead_links) VALUES (1, 'inspection', 2, 3, 1, 0, :sites, :links)"),
                         {"sites": encode_ids([4]), "links": encode_ids([])})
            conn.execute(text("INSERT INTO repair_maps (wafer_id, defect_map_id, scheme, logical_rows, logical_cols, "
                              "physical_rows, physical_cols, full_fabric, mapping) "
                              "VALUES (1, 1, 'row-shift', 1, 2, 2, 3, :full, :mapping)"),
                         {"full": True, "mapping": encode_ids([0, 1])})
        assert upgrade(engine).at_head
        with engine.connect() as conn:
            defects = load_defect_map(conn, 1)
            repair_map = load_repair_map(conn, 1)
    finally:
        engine.dispose()
    assert defects.dead_sites.tolist() == [4] and defects.design == ""
    assert repair_map.physical_of_logical.tolist() == [[0, 1]] and repair_map.scheme_params == {}
    assert (repair_map.design, repair_map.design_fingerprint, repair_map.algorithm) == ("", "", "")
    assert downgrade(empty_db_url, "0001").revision == "0001"
