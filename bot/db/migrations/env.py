"""Alembic environment: the URL and connection come from bot.db.migrate, never from an ini file."""

from alembic import context

from bot.db.models import Base

config = context.config
target_metadata = Base.metadata
connection = config.attributes.get("connection")

if connection is None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
