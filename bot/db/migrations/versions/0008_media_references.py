"""voice notes and files for staff: the provider's reference, fetched only by the console (issue 18)

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media_references",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("adapter", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("ref", sa.String(length=600), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("media_references") as batch:
        batch.create_index("ix_media_references_person", ["person"])
        batch.create_index("ix_media_references_at", ["at"])


def downgrade() -> None:
    op.drop_table("media_references")
