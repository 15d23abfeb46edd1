"""SQL storage: SQLite under var/ by default, PostgreSQL via DATABASE_URL; schema managed by Alembic."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here (the driver we install)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: survives crashes; referrals fsync their spool
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # A database that does not answer must fail a connection in seconds (the callers spool or refuse),
    # not hang on the operating system's TCP timeout; a pooled connection waits 10 s at most.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        pool_timeout=10,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
    )


CONNECT_TIMEOUT_SECONDS = 5


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


MIGRATION_LOCK_ID = 7_341_902
"""PostgreSQL advisory lock key: one worker migrates while the others wait."""


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Several workers start at once: serialise their migrations (file lock for SQLite)."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        with open(f"{database}.migrate.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        return
    yield


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest revision (idempotent; safe for several workers at start)."""
    config = alembic_config()
    with _migration_lock(engine), engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_ID})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
