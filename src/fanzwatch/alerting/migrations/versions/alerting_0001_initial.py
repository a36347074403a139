"""alerting: inbox, alert events, incidents, alerts, timeline, outbox, remediations, audit, flags.

Revision ID: alerting_0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "alerting_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("alerting",)
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", ID, primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "alerting_inbox",
        _id(),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("processed_at", TS, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_alerting_inbox_pending", "alerting_inbox", ["processed_at", "id"])
    op.create_table(
        "alerting_alert_events",
        _id(),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("incident_id", ID, nullable=True),
        sa.UniqueConstraint("fingerprint", "status", "starts_at", name="uq_alerting_alert_events_key"),
    )
    op.create_table(
        "alerting_incidents",
        _id(),
        sa.Column("group_key", sa.String(512), nullable=False),
        sa.Column("open_group_key", sa.String(512), nullable=True, unique=True),
        sa.Column("title", sa.String(512), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(2), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("service", sa.String(128), nullable=True),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("runbook_url", sa.String(1024), nullable=True),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("acknowledged_at", TS, nullable=True),
        sa.Column("acknowledged_by", sa.String(128), nullable=True),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column("resolved_by", sa.String(128), nullable=True),
        sa.Column("reopen_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("escalation", sa.JSON, nullable=False),
        sa.Column("escalation_step", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_escalation_at", TS, nullable=True),
    )
    op.create_index("ix_alerting_incidents_status", "alerting_incidents", ["status", "opened_at"])
    op.create_index("ix_alerting_incidents_escalation", "alerting_incidents", ["next_escalation_at"])
    op.create_index("ix_alerting_incidents_group", "alerting_incidents", ["group_key", "resolved_at"])
    op.create_table(
        "alerting_alerts",
        _id(),
        sa.Column("incident_id", ID, sa.ForeignKey("alerting_incidents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("alertname", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(2), nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("annotations", sa.JSON, nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=True),
        sa.Column("fired_count", sa.Integer, nullable=False, server_default="1"),
        sa.UniqueConstraint("incident_id", "fingerprint", name="uq_alerting_alerts_incident_fp"),
    )
    op.create_index("ix_alerting_alerts_fp", "alerting_alerts", ["fingerprint", "status"])
    op.create_table(
        "alerting_timeline",
        _id(),
        sa.Column("incident_id", ID, sa.ForeignKey("alerting_incidents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("data", sa.JSON, nullable=True),
    )
    op.create_index("ix_alerting_timeline_incident", "alerting_timeline", ["incident_id", "id"])
    op.create_table(
        "alerting_outbox",
        _id(),
        sa.Column("dedup_key", sa.String(512), nullable=False, unique=True),
        sa.Column("incident_id", ID, nullable=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(128), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_until", TS, nullable=True),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
    )
    op.create_index("ix_alerting_outbox_due", "alerting_outbox", ["status", "channel", "next_attempt_at"])
    op.create_table(
        "alerting_remediations",
        _id(),
        sa.Column("incident_id", ID, sa.ForeignKey("alerting_incidents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("playbook", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failed_tries", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_try_at", TS, nullable=True),
        sa.Column("verify_by", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("incident_id", "playbook", "fingerprint", name="uq_alerting_remediations_key"),
    )
    op.create_index("ix_alerting_remediations_due", "alerting_remediations", ["status", "next_try_at"])
    op.create_table(
        "alerting_remediation_audit",
        _id(),
        sa.Column("at", TS, nullable=False),
        sa.Column("incident_id", ID, nullable=True),
        sa.Column("remediation_id", ID, nullable=True),
        sa.Column("playbook", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("decision", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("detail", sa.JSON, nullable=True),
    )
    op.create_index("ix_alerting_audit_playbook", "alerting_remediation_audit", ["playbook", "decision", "at"])
    op.create_table(
        "alerting_flags",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Boolean, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "alerting_flags",
        "alerting_remediation_audit",
        "alerting_remediations",
        "alerting_outbox",
        "alerting_timeline",
        "alerting_alerts",
        "alerting_incidents",
        "alerting_alert_events",
        "alerting_inbox",
    ):
        op.drop_table(table)
