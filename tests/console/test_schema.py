"""Migration 0004 builds what the models describe for console sessions, login failures and pending quiet
flags, on SQLite and PostgreSQL, and goes down and up again."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, Table, inspect, text

from bot.db import alembic_config, make_engine, migrate
from bot.db.models import Base

POSTGRES_URL = os.environ.get("INFOBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA = "infobot_console_schema"
OURS = {"console_sessions", "login_failures", "staff_users", "escalations"}


def fresh_postgres() -> Engine:
    engine = make_engine(POSTGRES_URL)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}"))
    except Exception as exc:  # noqa: BLE001 - turned into a clear instruction
        pytest.fail(f"These tests need PostgreSQL at {POSTGRES_URL} ({exc.__class__.__name__})")
    engine.dispose()
    return make_engine(POSTGRES_URL + f"?options=-csearch_path%3D{SCHEMA}")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    db = make_engine(f"sqlite:///{tmp_path}/s.db") if request.param == "sqlite" else fresh_postgres()
    migrate(db)
    yield db
    db.dispose()


def _table(diff: object) -> str | None:
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:] if isinstance(item, tuple) else ():
        if isinstance(part, str) and part in OURS:
            return part
        table = part if isinstance(part, Table) else getattr(part, "table", None)
        if isinstance(table, Table):
            return str(table.name)
    return None


def differences(engine: Engine) -> list[object]:
    """What the migrated database lacks or has beyond the models, for the tables this migration touches."""
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    return [d for d in diffs if _table(d) in OURS]


def test_the_migrated_schema_matches_the_models(engine: Engine) -> None:
    assert differences(engine) == []
    columns = {c["name"] for c in inspect(engine).get_columns("staff_users")}
    assert "failed_logins" not in columns and "locked_until" not in columns


def test_the_migration_goes_down_and_up_again(engine: Engine) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    tables = set(inspect(engine).get_table_names())
    assert "console_sessions" not in tables and "login_failures" not in tables
    assert {"failed_logins", "locked_until"} <= {
        c["name"] for c in inspect(engine).get_columns("staff_users")
    }
    migrate(engine)
    assert differences(engine) == []


def test_a_missing_piece_would_be_seen(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/m.db")
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_escalations_handover_pending"))
    assert [d[0] for d in differences(engine)] == ["add_index"]  # type: ignore[index]
