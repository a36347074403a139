"""The alerting tables in the server's store (schema owned by the ``alerting`` migration branch).

Every write that must happen together happens in one transaction: an alert event, the
incident change it causes, its timeline entries, the notifications it queues (outbox)
and the remediation it asks for. Side effects leave the database only through the
outbox and remediation workers, after commit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData()
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite keeps naive UTC text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store timezone-aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _id() -> sa.Column[int]:
    return sa.Column("id", ID, primary_key=True, autoincrement=True)


# Payloads exactly as received (after authentication and validation), before processing.
inbox = sa.Table(
    "alerting_inbox",
    metadata,
    _id(),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("processed_at", UtcDateTime, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text, nullable=True),
    sa.Index("ix_alerting_inbox_pending", "processed_at", "id"),
)

# One row per distinct (fingerprint, status, startsAt): the idempotency key of alert events.
alert_events = sa.Table(
    "alerting_alert_events",
    metadata,
    _id(),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("starts_at", UtcDateTime, nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("incident_id", ID, nullable=True),
    sa.UniqueConstraint("fingerprint", "status", "starts_at", name="uq_alerting_alert_events_key"),
)

incidents = sa.Table(
    "alerting_incidents",
    metadata,
    _id(),
    sa.Column("group_key", sa.String(512), nullable=False),
    # Equal to group_key while the incident is not resolved, NULL after: the unique
    # index makes "one open incident per group" hold across server replicas.
    sa.Column("open_group_key", sa.String(512), nullable=True, unique=True),
    sa.Column("title", sa.String(512), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("priority", sa.String(2), nullable=False),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("service", sa.String(128), nullable=True),
    sa.Column("labels", sa.JSON, nullable=False),
    sa.Column("runbook_url", sa.String(1024), nullable=True),
    sa.Column("opened_at", UtcDateTime, nullable=False),
    sa.Column("acknowledged_at", UtcDateTime, nullable=True),
    sa.Column("acknowledged_by", sa.String(128), nullable=True),
    sa.Column("resolved_at", UtcDateTime, nullable=True),
    sa.Column("resolved_by", sa.String(128), nullable=True),
    sa.Column("reopen_count", sa.Integer, nullable=False, server_default="0"),
    # Set exactly while the status is "resolving" (flap damping): when the resolve becomes final.
    sa.Column("resolve_after", UtcDateTime, nullable=True),
    sa.Column("escalation", sa.JSON, nullable=False),
    sa.Column("escalation_step", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_escalation_at", UtcDateTime, nullable=True),
    # Business impact (fanzwatch.impact, written through incidents/impact.py): the figures,
    # the money (reporting currency: at risk while open, lost once final) lists order by.
    sa.Column("impact", sa.JSON, nullable=True),
    sa.Column("revenue_at_risk", sa.Float, nullable=True),
    sa.Column("impact_computed_at", UtcDateTime, nullable=True),
    sa.Column("impact_final", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_alerting_incidents_status", "status", "opened_at"),
    sa.Index("ix_alerting_incidents_escalation", "next_escalation_at"),
    sa.Index("ix_alerting_incidents_group", "group_key", "resolved_at"),
)

# The alerts of each incident, as last seen.
alerts = sa.Table(
    "alerting_alerts",
    metadata,
    _id(),
    sa.Column("incident_id", ID, sa.ForeignKey("alerting_incidents.id", ondelete="CASCADE"), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("alertname", sa.String(256), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("priority", sa.String(2), nullable=False),
    sa.Column("labels", sa.JSON, nullable=False),
    sa.Column("annotations", sa.JSON, nullable=False),
    sa.Column("starts_at", UtcDateTime, nullable=False),
    sa.Column("ends_at", UtcDateTime, nullable=True),
    sa.Column("fired_count", sa.Integer, nullable=False, server_default="1"),
    sa.UniqueConstraint("incident_id", "fingerprint", name="uq_alerting_alerts_incident_fp"),
    sa.Index("ix_alerting_alerts_fp", "fingerprint", "status"),
)

timeline = sa.Table(
    "alerting_timeline",
    metadata,
    _id(),
    sa.Column("incident_id", ID, sa.ForeignKey("alerting_incidents.id", ondelete="CASCADE"), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("data", sa.JSON, nullable=True),
    sa.Index("ix_alerting_timeline_incident", "incident_id", "id"),
)

# Notifications to deliver; ``dedup_key`` makes queueing the same message twice a no-op.
# Per (incident_id, channel) rows are delivered in ``id`` order (see ``notify.outbox``);
# status: pending, sent, failed, superseded.
outbox = sa.Table(
    "alerting_outbox",
    metadata,
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
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("next_attempt_at", UtcDateTime, nullable=False),
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("claimed_until", UtcDateTime, nullable=True),
    sa.Column("sent_at", UtcDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("receipt", sa.String(512), nullable=True),  # the receiver's id of the message (Slack ts, Message-ID)
    sa.Index("ix_alerting_outbox_due", "status", "channel", "next_attempt_at"),
    sa.Index("ix_alerting_outbox_queue", "incident_id", "channel", "status", "id"),
)

# One remediation per (incident, playbook, alert): its state machine (see remediation/planner.py).
remediations = sa.Table(
    "alerting_remediations",
    metadata,
    _id(),
    sa.Column("incident_id", ID, sa.ForeignKey("alerting_incidents.id", ondelete="CASCADE"), nullable=False),
    sa.Column("playbook", sa.String(64), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("labels", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("failed_tries", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_try_at", UtcDateTime, nullable=True),
    sa.Column("verify_by", UtcDateTime, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # The replica running the action and until when; renewed while it runs, retaken after.
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("claimed_until", UtcDateTime, nullable=True),
    # Actions started (the idempotency key of each run), and whether the last one was cut
    # short by a crash or a stop before its outcome was recorded (it is then resumed).
    sa.Column("runs", sa.Integer, nullable=False, server_default="0"),
    sa.Column("interrupted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("incident_id", "playbook", "fingerprint", name="uq_alerting_remediations_key"),
    sa.Index("ix_alerting_remediations_due", "status", "next_try_at"),
)

# Every remediation decision, taken or refused.
audit = sa.Table(
    "alerting_remediation_audit",
    metadata,
    _id(),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("incident_id", ID, nullable=True),
    sa.Column("remediation_id", ID, nullable=True),
    sa.Column("playbook", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("decision", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("detail", sa.JSON, nullable=True),
    sa.Index("ix_alerting_audit_playbook", "playbook", "decision", "at"),
)

# Switches operators flip at run time (the remediation kill switch).
flags = sa.Table(
    "alerting_flags",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Boolean, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=False),
)
