"""Metrics of alert handling: incidents, acknowledgement, notifications, remediation, webhook.

Emitted by the fanzwatch server (``fanzwatch.alerting``). Label values are bounded by
configuration (channel and playbook names) or by the fixed sets below, never by alerts:
an alert's platform label is mapped to a configured platform or ``other``.
"""

from __future__ import annotations

from ._spec import PLATFORM, Label, MetricKind, MetricSpec, Source

PRIORITIES = ("P0", "P1", "P2")
CHANNEL_KINDS = ("slack", "pagerduty", "email", "webhook")
NOTIFICATION_FAILURES = ("rejected", "exhausted", "unconfigured")
REMEDIATION_RESULTS = ("succeeded", "failed", "dry_run")
REMEDIATION_REFUSALS = (
    "disabled",
    "kill_switch",
    "label_rejected",
    "cooldown",
    "rate_limited",
    "unknown_playbook",
)
VERIFICATION_RESULTS = ("verified", "failed")
WEBHOOK_RESULTS = ("accepted", "unauthorized", "too_large", "malformed", "unsupported_version")
ALERT_RESULTS = ("applied", "duplicate", "stale")

PRIORITY = Label("priority", "incident priority", PRIORITIES)
CHANNEL = Label("channel", "a configured notification channel's name")
KIND = Label("kind", "the channel's kind", CHANNEL_KINDS)
PLAYBOOK = Label("playbook", "a configured remediation playbook's name")

INCIDENTS_OPEN = MetricSpec(
    name="fanz_alerting_incidents_open",
    kind=MetricKind.GAUGE,
    unit="incidents",
    help="Incidents not yet resolved (triggered or acknowledged), read from the store.",
    labels=(PLATFORM, PRIORITY),
    source=Source.SERVER,
)
TIME_TO_ACKNOWLEDGE = MetricSpec(
    name="fanz_alerting_time_to_acknowledge_seconds",
    kind=MetricKind.HISTOGRAM,
    unit="seconds",
    help="From an incident opening to a human acknowledging it (compare with the priority's response target).",
    labels=(PLATFORM, PRIORITY),
    source=Source.SERVER,
    buckets=(30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0),
)
NOTIFICATIONS_SENT = MetricSpec(
    name="fanz_alerting_notifications_sent",
    kind=MetricKind.COUNTER,
    unit="notifications",
    help="Notifications the receiving service accepted.",
    labels=(PLATFORM, CHANNEL, KIND),
    source=Source.SERVER,
)
NOTIFICATIONS_FAILED = MetricSpec(
    name="fanz_alerting_notifications_failed",
    kind=MetricKind.COUNTER,
    unit="notifications",
    help="Notifications given up on: refused (4xx), out of attempts, or for a channel no longer configured.",
    labels=(PLATFORM, CHANNEL, KIND, Label("reason", "why it failed", NOTIFICATION_FAILURES)),
    source=Source.SERVER,
)
NOTIFICATION_RETRIES = MetricSpec(
    name="fanz_alerting_notification_retries",
    kind=MetricKind.COUNTER,
    unit="attempts",
    help="Delivery attempts that failed in a retryable way (timeout, connection, 429, 5xx) and were rescheduled.",
    labels=(PLATFORM, CHANNEL, KIND),
    source=Source.SERVER,
)
OUTBOX_PENDING = MetricSpec(
    name="fanz_alerting_outbox_pending",
    kind=MetricKind.GAUGE,
    unit="notifications",
    help="Notifications waiting in the outbox (first attempt or a retry), read from the store.",
    labels=(PLATFORM, CHANNEL),
    source=Source.SERVER,
)
REMEDIATIONS_RUN = MetricSpec(
    name="fanz_alerting_remediations_run",
    kind=MetricKind.COUNTER,
    unit="runs",
    help="Remediation actions run (or simulated in dry-run) by playbook and result.",
    labels=(PLATFORM, PLAYBOOK, Label("result", "what the action reported", REMEDIATION_RESULTS)),
    source=Source.SERVER,
)
REMEDIATIONS_REFUSED = MetricSpec(
    name="fanz_alerting_remediations_refused",
    kind=MetricKind.COUNTER,
    unit="decisions",
    help="Remediations the safety rules refused, by playbook and reason.",
    labels=(PLATFORM, PLAYBOOK, Label("reason", "which rule refused", REMEDIATION_REFUSALS)),
    source=Source.SERVER,
)
REMEDIATION_VERIFICATIONS = MetricSpec(
    name="fanz_alerting_remediation_verifications",
    kind=MetricKind.COUNTER,
    unit="verifications",
    help="Whether the alert resolved within the playbook's verification window after an action.",
    labels=(PLATFORM, PLAYBOOK, Label("result", "verification outcome", VERIFICATION_RESULTS)),
    source=Source.SERVER,
)
REMEDIATIONS_GAVE_UP = MetricSpec(
    name="fanz_alerting_remediations_gave_up",
    kind=MetricKind.COUNTER,
    unit="remediations",
    help="Remediations stopped after their maximum failed tries or hourly runs; a human was paged.",
    labels=(PLATFORM, PLAYBOOK),
    source=Source.SERVER,
)
WEBHOOK_PAYLOADS = MetricSpec(
    name="fanz_alerting_webhook_payloads",
    kind=MetricKind.COUNTER,
    unit="payloads",
    help=(
        "Alertmanager webhook payloads, accepted (authenticated, validated, stored) or refused and why. "
        "platform is the payload's common platform label; refused payloads are not read, so 'other'."
    ),
    labels=(PLATFORM, Label("result", "accepted, or why it was refused", WEBHOOK_RESULTS)),
    source=Source.SERVER,
)
WEBHOOK_ALERTS = MetricSpec(
    name="fanz_alerting_webhook_alerts",
    kind=MetricKind.COUNTER,
    unit="alerts",
    help="Alerts processed from stored payloads: applied, duplicate (replay or HA peer) or stale (out of order).",
    labels=(
        PLATFORM,
        Label("status", "the alert's status", ("firing", "resolved")),
        Label("result", "what processing did", ALERT_RESULTS),
    ),
    source=Source.SERVER,
)

METRICS: tuple[MetricSpec, ...] = (
    INCIDENTS_OPEN,
    TIME_TO_ACKNOWLEDGE,
    NOTIFICATIONS_SENT,
    NOTIFICATIONS_FAILED,
    NOTIFICATION_RETRIES,
    OUTBOX_PENDING,
    REMEDIATIONS_RUN,
    REMEDIATIONS_REFUSED,
    REMEDIATION_VERIFICATIONS,
    REMEDIATIONS_GAVE_UP,
    WEBHOOK_PAYLOADS,
    WEBHOOK_ALERTS,
)
