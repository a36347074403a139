"""rum: events the store refused, kept with the reason.

Revision ID: rum_0002
Revises: rum_0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "rum_0002"
down_revision: str | None = "rum_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rum_dead_letters",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("failed_at_ms", sa.BigInteger, nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(512), nullable=False),
        sa.Column("row_json", sa.Text, nullable=False),
    )
    op.create_index("ix_rum_dead_letters_failed", "rum_dead_letters", ["failed_at_ms"])


def downgrade() -> None:
    op.drop_index("ix_rum_dead_letters_failed", table_name="rum_dead_letters")
    op.drop_table("rum_dead_letters")
