"""alerting: incidents carry their business impact (issue 20).

``impact`` (JSON: the figures of ``fanzwatch.impact``), ``revenue_at_risk`` (reporting
currency: at risk while open, lost once final; lists order by it), when they were
computed, and whether they are final (a final figure is never overwritten).

Revision ID: alerting_0005
Revises: alerting_0004
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "alerting_0005"
down_revision: str | None = "alerting_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerting_incidents") as batch:
        batch.add_column(sa.Column("impact", sa.JSON, nullable=True))
        batch.add_column(sa.Column("revenue_at_risk", sa.Float, nullable=True))
        batch.add_column(sa.Column("impact_computed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("impact_final", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("alerting_incidents") as batch:
        batch.drop_column("impact_final")
        batch.drop_column("impact_computed_at")
        batch.drop_column("revenue_at_risk")
        batch.drop_column("impact")
