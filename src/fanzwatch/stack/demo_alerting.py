"""The demo's alert handling: who is on call, how they are notified, and the fix applied.

With ``--demo`` the server's ``config/alerting.yml`` gets, on top of the webhook token:

- three channels pointing at the demo's local receivers (``fanzwatch demo sinks``):
  Slack (an incoming webhook), PagerDuty (Events API v2) and e-mail (SMTP, plain on
  loopback), so a notification travels the real protocol and can be read on their page;
- four people and the guide's rotations: ``primary`` (Ana and Ben, handing over daily
  at 09:00 UTC), ``secondary`` (the other of the two), ``engineering-lead`` (Lee) and
  ``stakeholders`` (Sam). Every priority escalates through them with the built-in policy
  (``DEFAULT_STEPS``): primary at once, then each next step when nobody acknowledges
  within the priority's response target (P0 15 min, P1 1 h, P2 4 h);
- the ``payment-failover`` playbook, run for real: a ``PaymentFailureRate`` alert on the
  payments service switches the platform to the backup processor, then waits for the
  alert to resolve, which resolves the incident. ``dry_run`` (``--remediation-dry-run``,
  ``FANZWATCH_DEMO_REMEDIATION_DRY_RUN``) records what would run without switching.

Everything here is configuration of the public settings (``AlertingSettings``): the
same file a production deployment writes, with real Slack and PagerDuty URLs.
"""

from __future__ import annotations

from typing import Any

SLACK_HOOK = "/slack/services/T0FANZDEMO/B0ONCALL/fanzwatch-demo"
PAGERDUTY_PATH = "/pagerduty/v2/enqueue"
PAGERDUTY_ROUTING_KEY = "fanzwatch-demo-routing-key-0001"  # the sinks accept any key
ROTATION_START = "2026-01-05T09:00:00+00:00"  # a Monday, 09:00 UTC

PEOPLE: tuple[dict[str, Any], ...] = (
    {"name": "ana", "email": "ana@fanz.example", "notify": ["demo-pagerduty", "demo-slack", "demo-email"]},
    {"name": "ben", "email": "ben@fanz.example", "notify": ["demo-pagerduty", "demo-slack", "demo-email"]},
    {"name": "lee", "email": "lee@fanz.example", "notify": ["demo-slack", "demo-email"]},
    {"name": "sam", "email": "sam@fanz.example", "notify": ["demo-email"]},
)
SCHEDULES: tuple[dict[str, Any], ...] = (
    {"name": "primary", "users": ["ana", "ben"], "rotation": "daily", "start": ROTATION_START},
    {"name": "secondary", "users": ["ben", "ana"], "rotation": "daily", "start": ROTATION_START},
    {"name": "engineering-lead", "users": ["lee"], "rotation": "weekly", "start": ROTATION_START},
    {"name": "stakeholders", "users": ["sam"], "rotation": "weekly", "start": ROTATION_START},
)


def demo_channels(*, sinks_url: str, smtp_host: str, smtp_port: int) -> list[dict[str, Any]]:
    """Slack, PagerDuty and e-mail channels that deliver to the demo's sinks."""
    base = sinks_url.rstrip("/")
    return [
        {"kind": "slack", "name": "demo-slack", "url": f"{base}{SLACK_HOOK}", "timeout_seconds": 5},
        {
            "kind": "pagerduty",
            "name": "demo-pagerduty",
            "url": f"{base}{PAGERDUTY_PATH}",
            "routing_key": PAGERDUTY_ROUTING_KEY,
            "timeout_seconds": 5,
        },
        {
            "kind": "email",
            "name": "demo-email",
            "host": smtp_host,
            "port": smtp_port,
            "security": "none",  # loopback only; a real relay uses starttls
            "sender": "alerts@fanzwatch.demo",
            "timeout_seconds": 5,
        },
    ]


def payment_failover_playbook(platform_url: str) -> dict[str, Any]:
    """Switch the platform's payments to the backup processor when payments fail."""
    return {
        "name": "payment-failover",
        "matchers": ['alertname="PaymentFailureRate"', 'service="payments"'],
        "action": {"kind": "payment_failover", "platform_url": platform_url, "target": "backup"},
        "label_rules": {"platform": "[a-z0-9][a-z0-9-]{0,31}"},
        "cooldown": "5m",
        "max_runs_per_hour": 3,
        "max_attempts": 3,
        "verify_within": "5m",
    }


def demo_alerting_config(
    *,
    server_url: str,
    platform_url: str,
    sinks_url: str,
    smtp_host: str,
    smtp_port: int,
    dry_run: bool,
    short_intervals: bool = False,
) -> dict[str, Any]:
    """The demo's part of ``alerting.yml`` (merged over the stack's own part).

    At the demo's short pace the incident's flap damping is 30 s instead of 2 min (still
    far above the 1 s grouping interval), so an incident resolves about half a minute
    after its alert does.
    """
    pace: dict[str, Any] = {"hold_down": "30s"} if short_intervals else {}
    return pace | {
        "external_url": server_url,
        "channels": demo_channels(sinks_url=sinks_url, smtp_host=smtp_host, smtp_port=smtp_port),
        "users": [dict(p) for p in PEOPLE],
        "schedules": [dict(s) for s in SCHEDULES],
        "remediation": {"dry_run": dry_run, "playbooks": [payment_failover_playbook(platform_url)]},
    }
