"""durable journal, opt-outs and late replies (issue 12, items 5, 6, 7)

Contact preferences (opt-outs that survive the loss of Redis, erasure times), the keys of applied
journal entries (idempotent replay) and delivery claims (dedupe that outlives a Redis restart).

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_preferences",
        sa.Column("person", sa.String(length=40), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("person"),
    )
    op.create_table(
        "applied_entries",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("applied_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_applied_entries_applied_at"), ["applied_at"], unique=False)
    op.create_table(
        "delivery_claims",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("token", sa.String(length=40), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("delivery_claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_claims_updated_at"), ["updated_at"], unique=False)
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dead_letters_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dead_letters_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("delivery_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_claims_updated_at"))
    op.drop_table("delivery_claims")
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dead_letters_created_at"))
        batch_op.drop_index(batch_op.f("ix_dead_letters_conversation_id"))
    with op.batch_alter_table("applied_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applied_entries_applied_at"))
    op.drop_table("applied_entries")
    op.drop_table("contact_preferences")
