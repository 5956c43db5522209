"""Shared test fixtures.

Database fixtures: every database test runs on SQLite (a file under the
test's tmp_path) and on PostgreSQL (127.0.0.1:5432, trust auth, database
``test``, user ``postgres`` or ``root``; override with ``YIELDKIT_TEST_PG``)
when it is reachable, else the PostgreSQL cases skip saying why. Each pytest
process (each xdist worker) works in its own throw-away PostgreSQL schemas,
dropped at the end of the session.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator

import pytest

# --- database fixtures ---------------------------------------------------------------------------

_PG_HOST, _PG_PORT, _PG_DB = "127.0.0.1", 5432, "test"
_PG_STATE = {"reason": ""}


def _probe_postgres() -> tuple[str | None, str]:
    """(base URL, "") when PostgreSQL is reachable, else (None, reason)."""
    override = os.environ.get("YIELDKIT_TEST_PG")
    try:
        import psycopg
    except ImportError as err:  # pragma: no cover - psycopg is a dependency
        return None, f"psycopg not importable: {err}"
    if override:
        from sqlalchemy.engine import make_url

        url = make_url(override)
        try:
            psycopg.connect(host=url.host, port=url.port or 5432, dbname=url.database, user=url.username,
                            password=url.password, connect_timeout=3).close()
        except Exception as err:  # noqa: BLE001
            return None, f"PostgreSQL at YIELDKIT_TEST_PG is not reachable: {str(err).strip().splitlines()[0]}"
        return override, ""
    last = ""
    for user in ("postgres", "root"):
        try:
            psycopg.connect(host=_PG_HOST, port=_PG_PORT, dbname=_PG_DB, user=user, connect_timeout=3).close()
        except Exception as err:  # noqa: BLE001
            last = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            continue
        return f"postgresql+psycopg://{user}@{_PG_HOST}:{_PG_PORT}/{_PG_DB}", ""
    return None, f"PostgreSQL not reachable at {_PG_HOST}:{_PG_PORT}/{_PG_DB} ({last})"


def _with_search_path(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


class PgSchemas:
    """Creates throw-away schemas (``yk_test_<hex>``) and drops them all at the end."""

    def __init__(self, base: str) -> None:
        from db.engine import make_engine

        self.base = base
        self.admin = make_engine(base, pool_size=1)
        self.created: list[str] = []

    def new(self) -> str:
        schema = f"yk_test_{uuid.uuid4().hex[:12]}"
        with self.admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        self.created.append(schema)
        return _with_search_path(self.base, schema)

    def drop(self, url: str) -> None:
        schema = url.rsplit("%3D", 1)[1]
        with self.admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        self.created.remove(schema)

    def close(self) -> None:
        with self.admin.begin() as conn:
            for schema in self.created:
                conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_schemas() -> Iterator[PgSchemas | None]:
    """Factory of fresh PostgreSQL schemas, or ``None`` when the server is unreachable."""
    base, reason = _probe_postgres()
    if base is None:
        _PG_STATE["reason"] = reason
        yield None
        return
    schemas = PgSchemas(base)
    try:
        yield schemas
    finally:
        schemas.close()


def _require_pg(schemas: PgSchemas | None) -> PgSchemas:
    if schemas is None:
        pytest.skip(_PG_STATE["reason"])
    return schemas


@pytest.fixture(params=["sqlite", "postgresql"])
def db_backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test: ``sqlite`` or ``postgresql``."""
    return request.param


@pytest.fixture
def empty_db_url(db_backend: str, tmp_path, pg_schemas) -> Iterator[str]:
    """URL of a fresh database with no schema (a new SQLite file path, or an empty PG schema)."""
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    schemas = _require_pg(pg_schemas)
    url = schemas.new()
    try:
        yield url
    finally:
        schemas.drop(url)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> str:
    from db.migrate import upgrade

    path = tmp_path_factory.mktemp("db-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def _pg_migrated(pg_schemas) -> str | None:
    if pg_schemas is None:
        return None
    from db.migrate import upgrade

    url = pg_schemas.new()
    upgrade(url)
    return url


@pytest.fixture
def db_url(db_backend: str, tmp_path, _sqlite_template: str, _pg_migrated, pg_schemas) -> str:
    """URL of an empty database migrated to head (a copy of a template on SQLite,
    the session's schema with every table truncated on PostgreSQL)."""
    if db_backend == "sqlite":
        path = tmp_path / "yieldkit.db"
        shutil.copy(_sqlite_template, path)
        return f"sqlite:///{path}"
    _require_pg(pg_schemas)
    from db.engine import make_engine
    from db.models import Base

    engine = make_engine(_pg_migrated)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    engine.dispose()
    return _pg_migrated


@pytest.fixture
def db_engine(db_url: str):
    """An engine on :func:`db_url`, disposed after the test."""
    from db.engine import make_engine

    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_seed(db_engine) -> Callable[..., dict]:
    """Create a lot, wafer, campaign and ``n_runs`` runs; return their ids."""
    from db.engine import write_transaction
    from db.writer import add_run, add_wafer, ensure_campaign, ensure_lot

    def seed(n_runs: int = 2, lot: str = "L1", wafer: str = "W1", campaign: str = "C1") -> dict:
        with write_transaction(db_engine) as conn:
            lot_id = ensure_lot(conn, lot)
            wafer_id = add_wafer(conn, lot_id, wafer, "small")
            campaign_id = ensure_campaign(conn, campaign)
            runs = [add_run(conn, campaign_id=campaign_id, wafer_id=wafer_id, station=f"S{i}", operator="op",
                            temperature_c=125.0, voltage_v=0.9, hours=24.0) for i in range(n_runs)]
        return {"lot": lot_id, "wafer": wafer_id, "campaign": campaign_id, "runs": runs}

    return seed
