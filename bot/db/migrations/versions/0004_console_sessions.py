"""console session revocation and login throttling (issue 12, item 8)

Console sessions in SQL (logout, removal, role changes and password resets end them at once); failed
logins per (typed account, client address) and per address instead of a per-account counter (which let
anyone lock an agent out and told which e-mails exist); escalations remember a quiet flag the store could
not take while it was down.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("console_sessions") as batch:
        batch.create_index("ix_console_sessions_staff_id", ["staff_id"])
        batch.create_index("ix_console_sessions_expires_at", ["expires_at"])
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account", "address"),
    )
    with op.batch_alter_table("login_failures") as batch:
        batch.create_index("ix_login_failures_account", ["account"])
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("failed_logins")
        batch.drop_column("locked_until")
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(
            sa.Column("handover_pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_index("ix_escalations_handover_pending", ["handover_pending"])


def downgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.drop_index("ix_escalations_handover_pending")
        batch.drop_column("handover_pending")
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.drop_table("login_failures")
    op.drop_table("console_sessions")
