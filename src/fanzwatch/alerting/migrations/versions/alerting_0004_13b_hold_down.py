"""alerting: incidents.resolve_after, set while an incident is "resolving" (flap damping).

Revision ID: alerting_0004
Revises: alerting_0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "alerting_0004"
down_revision: str | None = "alerting_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("alerting_incidents", sa.Column("resolve_after", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerting_incidents") as batch:
        batch.drop_column("resolve_after")
