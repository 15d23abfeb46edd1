"""C4D campaigns: subscriptions with consent, campaigns, one recipient row per (campaign, person) (issue 16)

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("person", sa.String(40), nullable=False, unique=True),
        sa.Column("channel", sa.String(20), nullable=False, index=True),
        sa.Column("address", sa.String(128), nullable=False),
        sa.Column("language", sa.String(2), nullable=False, index=True),
        sa.Column("country", sa.String(2), nullable=False, index=True),
        sa.Column("topics", sa.String(200), nullable=False),
        sa.Column("consent_version", sa.String(20), nullable=False),
        sa.Column("consented_at", WHEN, nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, index=True),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.Column("end_reason", sa.String(20), nullable=True),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("approved_by", sa.String(200), nullable=True),
        sa.Column("scheduled_at", WHEN, nullable=True),
    )
    op.create_table(
        "campaign_recipients",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "campaign_id", sa.String(80), sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "subscription_id",
            sa.Integer,
            sa.ForeignKey("subscriptions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("person", sa.String(40), nullable=False, index=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("reason", sa.String(60), nullable=True),
        sa.Column("template", sa.Boolean, nullable=False),
        sa.Column("claim_token", sa.String(40), nullable=True),
        sa.Column("claimed_until", WHEN, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("not_before", WHEN, nullable=True),
        sa.Column("provider_id", sa.String(64), nullable=True, index=True),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_index("ix_campaign_recipients_work", "campaign_recipients", ["campaign_id", "status"])


def downgrade() -> None:
    op.drop_table("campaign_recipients")
    op.drop_table("campaigns")
    op.drop_table("subscriptions")
