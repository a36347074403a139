"""rum: the raw event table.

Revision ID: rum_0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "rum_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("rum",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rum_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("occurred_at_ms", sa.BigInteger, nullable=False),
        sa.Column("received_at_ms", sa.BigInteger, nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("page_template", sa.String(256), nullable=False),
        sa.Column("device_class", sa.String(16), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("fingerprint", sa.String(16), nullable=True),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("message", sa.String(1024), nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
    )
    op.create_index("ix_rum_events_type_occurred", "rum_events", ["type", "occurred_at_ms"])


def downgrade() -> None:
    op.drop_index("ix_rum_events_type_occurred", table_name="rum_events")
    op.drop_table("rum_events")
