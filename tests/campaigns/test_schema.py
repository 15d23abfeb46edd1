"""Migration 0006 builds what the models describe for subscriptions, campaigns and their recipients, on
SQLite and PostgreSQL, and goes down and up again."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.db import alembic_config, make_engine, migrate
from bot.db.models import Base

OURS = {"subscriptions", "campaigns", "campaign_recipients"}


def _mentions_ours(diff: object) -> bool:
    return any(name in repr(diff) for name in OURS)


def test_migration_0006_matches_the_models_and_downgrades(tmp_path: Path, db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diffs if _mentions_ours(d)] == []
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0005")
    assert not OURS & set(inspect(engine).get_table_names())
    migrate(engine)
    assert set(inspect(engine).get_table_names()) >= OURS
    engine.dispose()
