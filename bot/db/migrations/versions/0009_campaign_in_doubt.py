"""campaign recipients in doubt: a send interrupted (crash, timeout) is checked with the provider first

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign_recipients") as batch:
        batch.add_column(sa.Column("in_doubt_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaign_recipients") as batch:
        batch.drop_column("in_doubt_since")
