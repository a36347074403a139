"""store: the meta table (instance identity and schema facts).

Revision ID: store_0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "store_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("store",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fanzwatch_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("fanzwatch_meta")
