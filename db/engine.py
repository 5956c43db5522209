"""Engine factory: one URL setting, SQLite tuned for several writers, clear errors.

The URL comes from, in order: an explicit argument (the CLI's ``--db``), the
``YIELDKIT_DB`` environment variable, or ``sqlite:///yieldkit.db`` in the
working directory. A bare path (``runs/burnin.db``) is taken as a SQLite file.

SQLite connections run in WAL mode with ``synchronous=NORMAL``, a 30 s busy
timeout and foreign keys on. SQLAlchemy (not the ``sqlite3`` module) emits
``BEGIN``; write transactions opened with :func:`write_transaction` use
``BEGIN IMMEDIATE`` so two writers never deadlock upgrading a read lock
(SQLAlchemy docs, "Transactions with SQLite and the sqlite3 driver").

A read-only engine (``make_engine(url, read_only=True)``, what the read
commands use) opens a SQLite file with ``mode=ro``, and with
``immutable=1`` when its folder cannot take the WAL side files (read-only
media: a WAL database cannot otherwise even be read, see
https://www.sqlite.org/wal.html#readonly); PostgreSQL sessions get
``default_transaction_read_only``. Writes through it fail with
:class:`DatabaseReadOnly`.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from yieldkit.errors import InputError

__all__ = [
    "DEFAULT_URL",
    "ENV_VAR",
    "BUSY_TIMEOUT_S",
    "DatabaseInputError",
    "DatabaseUnreachable",
    "DatabaseReadOnly",
    "resolve_url",
    "display_url",
    "make_engine",
    "session_factory",
    "write_transaction",
    "translate_errors",
]

DEFAULT_URL = "sqlite:///yieldkit.db"
ENV_VAR = "YIELDKIT_DB"
BUSY_TIMEOUT_S = 30.0
_WRITE_OPTION = "yieldkit_begin_immediate"


class DatabaseInputError(InputError):
    """The database URL, file or schema revision is unusable."""


class DatabaseUnreachable(DatabaseInputError):
    """The database cannot be opened or connected to."""


class DatabaseReadOnly(DatabaseInputError):
    """A write was attempted on a read-only database (engine, file or media)."""


def resolve_url(url: str | os.PathLike[str] | URL | None = None) -> URL:
    """The database URL from the argument, ``$YIELDKIT_DB`` or the default (a bare path is a SQLite file).

    Examples
    --------
    >>> resolve_url("runs/burnin.db").render_as_string()
    'sqlite:///runs/burnin.db'
    >>> resolve_url("postgresql+psycopg://station@db.fab/yield").get_backend_name()
    'postgresql'
    """
    if isinstance(url, os.PathLike):
        url = os.fspath(url)
    if url is None or (isinstance(url, str) and not url.strip()):
        url = os.environ.get(ENV_VAR) or DEFAULT_URL
    if isinstance(url, URL):
        return url
    text = url.strip()
    if "://" not in text:  # a bare path: a SQLite file
        return URL.create("sqlite", database=text)
    try:
        return make_url(text)
    except (exc.ArgumentError, ValueError):
        raise DatabaseInputError(f"not a database URL: {text!r} (expected e.g. sqlite:///file.db)") from None


def display_url(url: str | URL) -> str:
    """The URL for messages: password masked, a SQLite URI shown as its plain file URL.

    Examples
    --------
    >>> display_url("postgresql+psycopg://station:secret@db.fab/yield")
    'postgresql+psycopg://station:***@db.fab/yield'
    >>> display_url("sqlite:///file:/data/y.db?mode=ro&uri=true")
    'sqlite:////data/y.db'
    """
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except exc.ArgumentError:
        return str(url)
    if parsed.get_backend_name() == "sqlite" and (parsed.database or "").startswith("file:"):
        path = sqlite_path(parsed)
        parsed = URL.create("sqlite", database=str(path) if path else None)
    return parsed.render_as_string(hide_password=True)


def sqlite_path(url: URL) -> Path | None:
    """The file of a file-backed SQLite URL (``None`` for in-memory)."""
    database = url.database
    if not database or database == ":memory:" or url.query.get("mode") == "memory":
        return None
    if database.startswith("file:"):
        database = urllib.parse.unquote(database[5:].split("?", 1)[0])
    return Path(database)


def _read_only_sqlite_url(path: Path) -> URL:
    """A ``mode=ro`` URI for ``path``; ``immutable=1`` when the WAL side files cannot exist.

    A WAL database opened read-only needs its ``-shm`` file: either present
    already or creatable in the folder. On read-only media neither holds,
    and SQLite can only read the file as immutable (no locks, no WAL; a
    cleanly closed database has its WAL checkpointed into the main file).
    """
    shm = path.with_name(path.name + "-shm")
    side_files_possible = os.access(path.parent, os.W_OK | os.X_OK) or shm.exists()
    query = "mode=ro" if side_files_possible else "mode=ro&immutable=1"
    uri = f"file:{urllib.parse.quote(str(path.resolve()))}?{query}&uri=true"
    return make_url(f"sqlite:///{uri}")


def make_engine(url: str | os.PathLike[str] | URL | None = None, *, must_exist: bool = False, read_only: bool = False,
                **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (see :func:`resolve_url`).

    Parameters
    ----------
    url : str or URL, optional
        Database URL; ``None`` uses ``$YIELDKIT_DB`` or the default.
    must_exist : bool
        For SQLite files: raise :class:`DatabaseUnreachable` instead of
        creating a new empty file (for commands that only read).
    read_only : bool
        Open for reading only (implies ``must_exist``): works on a SQLite
        file on read-only media; any write raises :class:`DatabaseReadOnly`.
    **kwargs
        Passed to :func:`sqlalchemy.create_engine`.

    Returns
    -------
    Engine
        SQLite engines carry the pragmas of the module docstring.

    Examples
    --------
    >>> from sqlalchemy import text
    >>> engine = make_engine("sqlite://")
    >>> with engine.connect() as conn:
    ...     conn.scalar(text("PRAGMA foreign_keys"))
    1
    >>> make_engine("/nonexistent-folder/x.db", read_only=True)
    Traceback (most recent call last):
    ...
    db.engine.DatabaseUnreachable: no database at /nonexistent-folder/x.db (create it with 'yieldkit db upgrade --db sqlite:////nonexistent-folder/x.db')
    """
    url = resolve_url(url)
    backend = url.get_backend_name()
    connect_args: dict[str, Any] = dict(kwargs.pop("connect_args", {}))
    if backend == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            if (must_exist or read_only) and not path.exists():
                raise DatabaseUnreachable(
                    f"no database at {path} (create it with 'yieldkit db upgrade --db {display_url(url)}')"
                )
            if not path.parent.exists():
                raise DatabaseUnreachable(f"cannot create database {path}: directory {path.parent} does not exist")
            if read_only:
                url = _read_only_sqlite_url(path)
        connect_args.setdefault("timeout", BUSY_TIMEOUT_S)
    elif backend == "postgresql":
        if url.get_driver_name() in ("psycopg2", "psycopg", "psycopg2cffi") or url.drivername == "postgresql":
            connect_args.setdefault("connect_timeout", 10)
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        kwargs.setdefault("pool_pre_ping", True)  # long-lived station processes survive server restarts
    try:
        engine = create_engine(url, connect_args=connect_args, **kwargs)
    except (exc.NoSuchModuleError, exc.ArgumentError) as err:
        raise DatabaseInputError(f"unsupported database URL {display_url(url)}: {err}") from None
    except ImportError as err:
        raise DatabaseInputError(f"no driver for {display_url(url)}: {err}") from None
    if backend == "sqlite":
        _tune_sqlite(engine, read_only)
    elif read_only and backend == "postgresql":
        _read_only_postgresql(engine)
    return engine


def _read_only_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = on")
        dbapi_connection.commit()


def _tune_sqlite(engine: Engine, read_only: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy, not the sqlite3 module, emits BEGIN (see module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if read_only:  # the journal mode is the file's; changing it would be a write
                cursor.execute("PRAGMA query_only = ON")
                return
            try:
                cursor.execute("PRAGMA journal_mode = WAL")
            except Exception as err:  # noqa: BLE001 - a read-only file cannot switch modes; reads still work
                if "readonly" not in str(err) and "read-only" not in str(err):
                    raise
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection inside one write transaction, committed on success.

    On SQLite the transaction starts with ``BEGIN IMMEDIATE``: the write lock
    is taken up front (waiting up to the busy timeout), so concurrent writers
    queue instead of failing with "database is locked".
    """
    with translate_errors(engine.url):
        with engine.connect() as conn:
            conn.execution_options(**{_WRITE_OPTION: True})
            with conn.begin():
                yield conn


def session_factory(engine: Engine, *, write: bool = False) -> sessionmaker[Session]:
    """An ORM session factory bound to ``engine`` (``expire_on_commit=False``).

    With ``write=True`` its transactions open with ``BEGIN IMMEDIATE`` on
    SQLite, like :func:`write_transaction`.
    """
    bind = engine.execution_options(**{_WRITE_OPTION: True}) if write else engine
    return sessionmaker(bind, expire_on_commit=False)


def _describe(err: BaseException) -> str:
    orig = getattr(err, "orig", None) or err
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return text


@contextmanager
def translate_errors(url: str | URL) -> Iterator[None]:
    """Turn connection-level failures into one-line :class:`DatabaseInputError`.

    Contention (locks, deadlocks, serialization failures) passes through
    unchanged, so that callers may retry.
    """
    where = display_url(url)
    try:
        yield
    except exc.DBAPIError as err:
        translated = _translated(err, where)
        if isinstance(translated, DatabaseUnreachable) and _on_read_only_media(url):
            translated = DatabaseReadOnly(f"database {where} is on read-only media: it can only be read "
                                          f"(the read commands open it read-only)")
        if translated is err:
            raise
        raise translated from None


def _on_read_only_media(url: str | URL) -> bool:
    """True for an existing SQLite file whose folder cannot be written (so SQLite cannot open it for writing)."""
    parsed = url if isinstance(url, URL) else make_url(url)
    path = sqlite_path(parsed) if parsed.get_backend_name() == "sqlite" else None
    return path is not None and path.exists() and not os.access(path.parent, os.W_OK | os.X_OK)


_PG_READ_ONLY_TRANSACTION = "25006"


def _translated(err: exc.DBAPIError, where: str) -> Exception:
    """The one-line error for ``err``, or ``err`` itself when it is not a usage problem."""
    message = _describe(err)
    lowered = message.lower()
    sqlstate = getattr(err.orig, "sqlstate", None) or ""
    if sqlstate == _PG_READ_ONLY_TRANSACTION:
        return DatabaseReadOnly(f"database {where} is open read-only: {message}")
    if isinstance(err, exc.OperationalError):
        if sqlstate.startswith("40") or "locked" in lowered:
            return err  # contention (deadlock, serialization, lock timeout): the caller may retry
        if "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
            return DatabaseReadOnly(f"database {where} is read-only: {message}")
        if "unable to open" in lowered or "connection" in lowered or "connect" in lowered or "could not" in lowered \
                or "does not exist" in lowered or "authentication" in lowered or "timeout" in lowered:
            return DatabaseUnreachable(f"cannot open database {where}: {message}")
        if "not a database" in lowered or "malformed" in lowered:
            return DatabaseInputError(f"{where} is not a usable database: {message}")
        return err
    if isinstance(err, exc.DatabaseError) and ("not a database" in lowered or "file is encrypted" in lowered):
        return DatabaseInputError(f"{where} is not a SQLite database: {message}")
    return err
