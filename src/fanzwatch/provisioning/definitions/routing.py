"""Where alerts go: the guide's routing, corrected.

Every alert first reaches the fanzwatch server's webhook (incidents, escalation and
remediation live there) and any configured extra webhooks, then exactly the people who
own it:

- ``MetricAnomaly`` (posted by the anomaly engine) → the anomalies channel only: a
  statistical detector should not wake anyone, whatever severity it guesses;
- ``severity="critical"`` → PagerDuty + the critical channel + on-call e-mail, and
  **continue**, so a critical payment alert also reaches…
- ``service="payments"`` → the payments channel;
- ``service="business"`` → the business channel + stakeholder e-mail;
- any other non-critical alert → the default channel.

Routes use ``matchers`` (the guide's ``match`` is deprecated). A critical alert mutes
the warning of the same alert on the same thing (``inhibit_rules``), and a faster SLO
burn-rate tier mutes the slower ones of the same SLO on the same platform.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

from ...settings.provisioning import ProvisioningSettings
from .._output import prom_duration
from ..alertmanager import (
    AlertmanagerConfig,
    EmailConfig,
    InhibitRule,
    Matcher,
    PagerDutyConfig,
    Receiver,
    Route,
    SlackConfig,
    WebhookConfig,
    eq,
)
from ..slo import DEFAULT_TIERS, SLO, BurnRateTier
from .slos import SLOS

FANZWATCH = "fanzwatch"
DEFAULT = "default"
CRITICAL = "critical"
PAYMENTS = "payments"
BUSINESS = "business"
ANOMALIES = "anomalies"
EXTRA_WEBHOOKS = "extra-webhooks"

WEBHOOK_PATH = "/api/v1/alerts/webhook"
SECRET_FILES = {
    "slack": "slack_api_url",
    "pagerduty": "pagerduty_routing_key",
    "smtp": "smtp_password",
    "webhook": "webhook_token",
}
"""File names, inside ``secrets_dir``, Alertmanager reads each secret from."""

INHIBIT_EQUAL = ("alertname", "platform", "job", "instance", "pool_name", "mountpoint", "check", "metric")
"""Labels that identify "the same alert on the same thing" for inhibition.

``metric`` keeps the anomaly engine's ``MetricAnomaly`` alerts apart: a critical anomaly on one metric must not mute
a warning anomaly on another metric of the same platform. A label absent from both alerts counts as equal, so rules'
alerts (which carry no ``metric``) are unaffected."""

SLACK_TITLE = (
    '[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] '
    "{{ .CommonLabels.alertname }}{{ with .CommonLabels.platform }} on {{ . }}{{ end }}"
)
SLACK_TEXT = (
    "{{ range .Alerts }}*{{ .Labels.priority }} {{ .Labels.severity }}*: {{ .Annotations.summary }}\n"
    "{{ .Annotations.description }}\n"
    "{{ with .Annotations.runbook_url }}<{{ . }}|Runbook>{{ end }}\n{{ end }}"
)
EMAIL_SUBJECT = "[{{ .Status | toUpper }}] {{ .CommonLabels.priority }} {{ .CommonLabels.alertname }}"


def _slack(settings: ProvisioningSettings, channel: str) -> tuple[SlackConfig, ...]:
    return (SlackConfig(channel, SLACK_TITLE, SLACK_TEXT),) if settings.slack else ()


def _email(settings: ProvisioningSettings, to: str) -> tuple[EmailConfig, ...]:
    return (EmailConfig(to, EMAIL_SUBJECT),) if settings.email else ()


def _secret(settings: ProvisioningSettings, key: str) -> str:
    return str(settings.secrets_dir / SECRET_FILES[key])


def receivers(settings: ProvisioningSettings) -> tuple[Receiver, ...]:
    pagerduty = (
        (
            PagerDutyConfig(
                routing_key_file=_secret(settings, "pagerduty"),
                description="{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}",
                severity="{{ .CommonLabels.severity }}",
                component="{{ .CommonLabels.service }}",
                group="{{ .CommonLabels.platform }}",
                runbook_link="{{ (index .Alerts 0).Annotations.runbook_url }}",
            ),
        )
        if settings.pagerduty
        else ()
    )
    webhook = WebhookConfig(
        url=f"http://{settings.targets.fanzwatch}{WEBHOOK_PATH}",
        bearer_token_file=_secret(settings, "webhook") if settings.webhook_token else None,
    )
    extra = tuple(WebhookConfig(url=url, bearer_token_file=token) for url, token in settings.resolved_extra_webhooks)
    return (
        Receiver(FANZWATCH, webhook=(webhook,)),
        *((Receiver(EXTRA_WEBHOOKS, webhook=extra),) if extra else ()),
        Receiver(DEFAULT, slack=_slack(settings, "#fanz-alerts")),
        Receiver(
            CRITICAL,
            slack=_slack(settings, "#fanz-critical"),
            pagerduty=pagerduty,
            email=_email(settings, settings.email_oncall),
        ),
        Receiver(PAYMENTS, slack=_slack(settings, "#fanz-payments")),
        Receiver(BUSINESS, slack=_slack(settings, "#fanz-business"), email=_email(settings, settings.email_business)),
        Receiver(ANOMALIES, slack=_slack(settings, "#fanz-anomalies")),
    )


def route(settings: ProvisioningSettings) -> Route:
    return Route(
        receiver=DEFAULT,
        group_by=("alertname", "service", "platform"),
        group_wait=settings.group_wait,
        group_interval=settings.group_interval,
        repeat_interval=settings.repeat_interval,
        routes=(
            # '...' disables grouping: the server gets each alert on its own and
            # deduplicates by fingerprint; it never waits for a group to fill.
            Route(receiver=FANZWATCH, group_by=("...",), group_wait=timedelta(0), continue_=True),
            # Every alert, grouped like the people's channels (one integration per URL,
            # each retried on its own by Alertmanager).
            *((Route(receiver=EXTRA_WEBHOOKS, continue_=True),) if settings.extra_webhooks else ()),
            Route(
                receiver=ANOMALIES,
                matchers=(eq("alertname", "MetricAnomaly"),),
                group_by=("alertname", "metric", "platform"),
            ),
            Route(
                receiver=CRITICAL,
                matchers=(eq("severity", "critical"),),
                repeat_interval=min(settings.repeat_interval, timedelta(hours=1)),
                continue_=True,
            ),
            Route(receiver=PAYMENTS, matchers=(eq("service", "payments"),)),
            Route(receiver=BUSINESS, matchers=(eq("service", "business"),)),
            # Explicit, because the fanzwatch route above matches everything, so the root's
            # own receiver is never used; critical alerts have already paged.
            Route(receiver=DEFAULT, matchers=(Matcher("severity", "!=", "critical"),)),
        ),
    )


SLO_INHIBIT_EQUAL = ("sloth_id", "platform", "page_template")
"""Labels that identify "the same SLO on the same thing" for burn-rate tier inhibition
(``page_template`` for the performance budgets; a label on neither alert counts as equal)."""


def slo_tier_inhibitions(tiers: tuple[BurnRateTier, ...] = DEFAULT_TIERS) -> tuple[InhibitRule, ...]:
    """Each tier mutes every slower tier (lower factor) of the same SLO and platform."""
    fastest_first = sorted(tiers, key=lambda t: -t.factor)
    return tuple(
        InhibitRule(
            source=(eq("alertname", tier.alert),),
            target=(Matcher("alertname", "=~", "|".join(t.alert for t in fastest_first[i + 1 :])),),
            equal=SLO_INHIBIT_EQUAL,
        )
        for i, tier in enumerate(fastest_first[:-1])
    )


def slo_tier_twins(tiers: tuple[BurnRateTier, ...] = DEFAULT_TIERS) -> tuple[InhibitRule, ...]:
    """What explains what among one SLO's tiers inside an incident: each tier explains the
    slower tiers of the same SLO and platform, except that a page never explains a ticket
    (``BurnRateTier.pages`` false): Alertmanager still mutes the ticket while a faster tier
    fires (``slo_tier_inhibitions``), but it outlives the outage by up to its short window
    (6 h for the default slow tier) and is a ticket of its own, not part of the page. Two
    tickets (the performance budgets' tiers) stay one incident."""
    fastest_first = sorted(tiers, key=lambda t: -t.factor)
    out = []
    for i, tier in enumerate(fastest_first[:-1]):
        # a page explains slower pages; a ticket, slower tickets (the performance budgets' two)
        slower = [t.alert for t in fastest_first[i + 1 :] if t.pages or not tier.pages]
        if slower:
            out.append(
                InhibitRule(
                    source=(eq("alertname", tier.alert),),
                    target=(Matcher("alertname", "=~", "|".join(slower)),),
                    equal=SLO_INHIBIT_EQUAL,
                )
            )
    return tuple(out)


def _with_severity_rule(
    slos: Iterable[SLO], per_tiers: Callable[[tuple[BurnRateTier, ...]], tuple[InhibitRule, ...]]
) -> tuple[InhibitRule, ...]:
    """Critical over warning on the same thing, then ``per_tiers`` of each SLO's tiers (each rule once)."""
    rules: list[InhibitRule] = [
        InhibitRule(source=(eq("severity", "critical"),), target=(eq("severity", "warning"),), equal=INHIBIT_EQUAL)
    ]
    for slo in slos:
        rules.extend(r for r in per_tiers(slo.tiers) if r not in rules)
    return tuple(rules)


def twin_rules(slos: Iterable[SLO] = SLOS) -> tuple[InhibitRule, ...]:
    """The severity twins the fanzwatch server correlates by: ``inhibit_rules`` with the SLO
    tiers' as ``slo_tier_twins`` says (a page never explains a ticket)."""
    return _with_severity_rule(slos, slo_tier_twins)


def inhibit_rules(slos: Iterable[SLO] = SLOS) -> tuple[InhibitRule, ...]:
    """Critical mutes warning on the same thing; and, for each set of burn-rate tiers the
    ``slos`` use (their own, when a definition chooses tiers), faster tiers mute slower ones.
    Equal tier sets give one set of rules (``sloth_id`` in ``equal`` keeps SLOs apart)."""
    return _with_severity_rule(slos, slo_tier_inhibitions)


def global_settings(settings: ProvisioningSettings) -> dict[str, object]:
    out: dict[str, object] = {"resolve_timeout": prom_duration(timedelta(minutes=5))}
    if settings.slack:
        out["slack_api_url_file"] = _secret(settings, "slack")
    if settings.pagerduty:
        out["pagerduty_url"] = settings.pagerduty_url
    if settings.email:
        out["smtp_smarthost"] = settings.smtp_smarthost
        out["smtp_from"] = settings.smtp_from
        out["smtp_require_tls"] = settings.smtp_require_tls
        if settings.smtp_auth_username:
            out["smtp_auth_username"] = settings.smtp_auth_username
            out["smtp_auth_password_file"] = _secret(settings, "smtp")
    return out


def alertmanager_config(settings: ProvisioningSettings, slos: Iterable[SLO] = SLOS) -> AlertmanagerConfig:
    return AlertmanagerConfig(
        route=route(settings),
        receivers=receivers(settings),
        inhibit_rules=inhibit_rules(slos),
        global_=global_settings(settings),
    )
