"""alerting: outbox queue order per incident and channel, and the receiver's message receipt.

``receipt`` keeps what the receiver called a delivered message (a Slack ``ts``, an
e-mail ``Message-ID``) so follow-ups thread under it. The index serves "is an earlier
message of this incident and channel still undelivered?", asked for every claim.

Revision ID: alerting_0002
Revises: alerting_0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "alerting_0002"
down_revision: str | None = "alerting_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerting_outbox") as batch:
        batch.add_column(sa.Column("receipt", sa.String(512), nullable=True))
    op.create_index("ix_alerting_outbox_queue", "alerting_outbox", ["incident_id", "channel", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_alerting_outbox_queue", table_name="alerting_outbox")
    with op.batch_alter_table("alerting_outbox") as batch:
        batch.drop_column("receipt")
