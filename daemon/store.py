"""The state store: engine creation, migrations, and the small queries the pipeline shares."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from truancy.daemon.files import OWNER_ONLY, Privacy, create_private_file
from truancy.daemon.schema import bookmarks

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class StoreError(RuntimeError):
    """The state store cannot be reached or is not at the expected schema version."""


def utcnow() -> datetime:
    return datetime.now(UTC)


LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def postgres_tls(url: URL, sslmode: str | None, sslrootcert: str | None) -> dict[str, str]:
    """libpq TLS options for a PostgreSQL store: verified TLS by default unless the server is local.

    ``verify-full`` checks the certificate chain and that the certificate names the host, so a
    network attacker can neither read the traffic nor impersonate the server. Options already in the
    URL's query string win over the defaults (not over explicit settings).
    """
    options: dict[str, str] = {}
    local = url.host is None or url.host in LOOPBACK or url.host.startswith("/")
    if sslmode is not None:
        options["sslmode"] = sslmode
    elif not local and "sslmode" not in url.query:
        options["sslmode"] = "verify-full"
        if sslrootcert is None and "sslrootcert" not in url.query:
            options["sslrootcert"] = "system"  # the operating system's CA store (libpq 16+)
    if sslrootcert is not None:
        options["sslrootcert"] = sslrootcert
    return options


def create_store_engine(
    url: str,
    *,
    privacy: Privacy = OWNER_ONLY,
    sslmode: str | None = None,
    sslrootcert: str | None = None,
) -> Engine:
    """An engine with SQLite tuned for one writer and crash safety (WAL, foreign keys, busy wait).

    A new SQLite file is created private (``privacy``) before SQLite opens it, so the database and
    the journal, WAL and shared-memory files SQLite derives from it are never readable by others.
    """
    parsed = make_url(url)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args = postgres_tls(parsed, sslmode, sslrootcert)
    elif parsed.get_backend_name() == "sqlite" and parsed.database and ":memory:" not in parsed.database:
        database = Path(parsed.database)
        if database.parent.is_dir():
            create_private_file(database, privacy)
    engine = create_engine(url, future=True, connect_args=connect_args)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

    return engine


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine) -> None:
    """Bring the store to the newest schema (``truancy db upgrade``; also run before each sync)."""
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "head")
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot migrate the state store at {engine.url!r}: {exc.__class__.__name__}"
        ) from None


def schema_revision(engine: Engine) -> tuple[str | None, str | None]:
    """(current, newest) schema revisions, for ``truancy status``."""
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        newest = ScriptDirectory.from_config(_alembic_config(connection)).get_current_head()
    return current, newest


def upsert(
    connection: Connection,
    table: Any,
    rows: list[dict[str, Any]],
    keys: list[str],
    *,
    keep: tuple[str, ...] = (),
) -> None:
    """Insert or replace rows by primary key, as one batched statement (SQLite and PostgreSQL).

    Columns named in ``keep`` keep their stored value when the row already exists. Every row must
    carry the same columns (the statement is compiled once and executed for the whole batch).
    """
    if not rows:
        return
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = insert(table)
    updates = {
        c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys and c.name not in keep
    }
    connection.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates), rows)


def read_bookmark(connection: Connection, stream: str) -> str | None:
    value: str | None = connection.execute(
        select(bookmarks.c.value).where(bookmarks.c.stream == stream)
    ).scalar_one_or_none()
    return value


def write_bookmark(connection: Connection, stream: str, value: str) -> None:
    upsert(connection, bookmarks, [{"stream": stream, "value": value, "updated_at": utcnow()}], ["stream"])


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    with engine.begin() as connection:
        yield connection
