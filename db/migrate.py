"""Schema migrations (Alembic, shipped inside the package), driven from Python.

``upgrade(url)`` brings any yieldkit database to head; ``current(url)`` says
where it is; :func:`check_schema` refuses to work on a database at an older,
unknown or newer revision with one clear line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.util import CommandError
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect
from sqlalchemy.engine import URL

from db.engine import DatabaseInputError, display_url, make_engine, translate_errors
from db.models import Base

__all__ = [
    "SchemaRevisionError",
    "Revision",
    "alembic_config",
    "head_revision",
    "upgrade",
    "downgrade",
    "current",
    "revision_of",
    "check_schema",
]

_HERE = Path(__file__).resolve().parent


class SchemaRevisionError(DatabaseInputError):
    """The database schema is not at a revision this version of yieldkit can use."""


@dataclass(frozen=True)
class Revision:
    """Where a database stands: its revision, the code's head, and whether they match."""

    url: str
    revision: str | None
    head: str
    known: bool

    @property
    def at_head(self) -> bool:
        return self.revision == self.head

    def to_dict(self) -> dict[str, object]:
        """The revision as a flat, JSON-safe record."""
        return {"url": self.url, "revision": self.revision, "head": self.head, "at_head": self.at_head,
                "known": self.known}



def alembic_config() -> Config:
    """The packaged Alembic configuration (``db/alembic.ini``, ``db/migrations``)."""
    config = Config(str(_HERE / "alembic.ini"))
    config.set_main_option("script_location", str(_HERE / "migrations"))
    return config


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision shipped with this code."""
    head = _scripts().get_current_head()
    assert head is not None
    return head


def _known(revision: str | None) -> bool:
    if revision is None:
        return True
    try:
        return _scripts().get_revision(revision) is not None
    except Exception:  # noqa: BLE001 - alembic raises several types for unknown ids
        return False


def revision_of(conn: Connection) -> str | None:
    """The revision stamped in the database (``None`` for an empty database)."""
    return MigrationContext.configure(conn).get_current_revision()


def _engine(url: str | URL | Engine | None, *, must_exist: bool = False,
            read_only: bool = False) -> tuple[Engine, bool]:
    if isinstance(url, Engine):
        return url, False
    return make_engine(url, must_exist=must_exist, read_only=read_only), True


def current(url: str | URL | Engine | None = None) -> Revision:
    """Where the database at ``url`` stands (it must exist; opened read-only)."""
    engine, owned = _engine(url, read_only=True)
    try:
        with translate_errors(engine.url), engine.connect() as conn:
            rev = revision_of(conn)
        return Revision(display_url(engine.url), rev, head_revision(), _known(rev))
    finally:
        if owned:
            engine.dispose()


def _refuse_unknown(rev: str | None, where: str) -> None:
    if not _known(rev):
        raise SchemaRevisionError(
            f"database {where} is at revision {rev!r}, unknown to this yieldkit (written by a newer version?); "
            "upgrade yieldkit, nothing was changed"
        )


def upgrade(url: str | URL | Engine | None = None, revision: str = "head") -> Revision:
    """Bring the database at ``url`` to ``revision`` (default head); create it if needed.

    Refuses, changing nothing, a database at a revision this code does not
    know, or one holding yieldkit tables without a revision stamp.

    Examples
    --------
    >>> revision = upgrade(make_engine("sqlite://"))
    >>> revision.to_dict() == {"url": "sqlite://", "revision": head_revision(), "head": head_revision(),
    ...                        "at_head": True, "known": True}
    True
    """
    engine, owned = _engine(url)
    where = display_url(engine.url)
    try:
        with translate_errors(engine.url):
            with engine.connect() as conn:
                rev = revision_of(conn)
                existing = set(inspect(conn).get_table_names())
            _refuse_unknown(rev, where)
            if rev is None and existing & set(Base.metadata.tables):
                raise SchemaRevisionError(
                    f"database {where} has yieldkit tables but no revision stamp; refusing to migrate it"
                )
            _run(engine, command.upgrade, revision)
        return current(engine)
    finally:
        if owned:
            engine.dispose()


def downgrade(url: str | URL | Engine | None, revision: str) -> Revision:
    """Migrate the database at ``url`` down to ``revision`` (``"base"`` drops the schema)."""
    engine, owned = _engine(url, must_exist=True)
    try:
        with translate_errors(engine.url):
            with engine.connect() as conn:
                rev = revision_of(conn)
            _refuse_unknown(rev, display_url(engine.url))
            _run(engine, command.downgrade, revision)
        return current(engine)
    finally:
        if owned:
            engine.dispose()


def _run(engine: Engine, step, revision: str) -> None:
    """Run an Alembic command on one connection in one write transaction (BEGIN IMMEDIATE on SQLite)."""
    config = alembic_config()
    with engine.connect() as conn:
        conn.execution_options(yieldkit_begin_immediate=True)
        config.attributes["connection"] = conn
        try:
            step(config, revision)
        except CommandError as err:
            raise SchemaRevisionError(f"cannot migrate {display_url(engine.url)} to {revision!r}: {err}") from None
        if conn.in_transaction():
            conn.commit()


def check_schema(engine: Engine) -> str:
    """Raise :class:`SchemaRevisionError` unless the database is at head; return the revision."""
    where = display_url(engine.url)
    with translate_errors(engine.url), engine.connect() as conn:
        rev = revision_of(conn)
    if rev is None:
        raise SchemaRevisionError(f"database {where} has no yieldkit schema; run 'yieldkit db upgrade' first")
    _refuse_unknown(rev, where)
    head = head_revision()
    if rev != head:
        raise SchemaRevisionError(
            f"database {where} is at revision {rev}, this yieldkit needs {head}; run 'yieldkit db upgrade'"
        )
    return rev

