"""Notification channels and the persisted outbox that delivers through them."""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from ...core.clock import Clock
from ...settings.alerting import ChannelConfig, EmailChannel, PagerDutyChannel, SlackChannel, WebhookChannel
from .base import DeliveryResult, Notification, NotificationEvent, Notifier, Outcome
from .dispatcher import OutboxDispatcher
from .email import EmailNotifier
from .outbox import OutboxStatus, enqueue
from .pagerduty import PagerDutyNotifier
from .slack import SlackApiNotifier, SlackNotifier
from .webhook import WebhookNotifier


def build_notifiers(channels: Iterable[ChannelConfig], http: httpx.AsyncClient, clock: Clock) -> dict[str, Notifier]:
    """One notifier per configured channel; secrets are read here (files at start-up)."""
    out: dict[str, Notifier] = {}
    for c in channels:
        where = f"alerting.channels.{c.name}"
        timeout, concurrency = c.timeout_seconds, c.concurrency
        if isinstance(c, SlackChannel) and c.bot_token is not None:
            token = c.bot_token.read(f"{where}.bot_token")
            out[c.name] = SlackApiNotifier(
                c.name,
                c.api_url,
                token,
                c.channel or "",
                http,
                clock,
                timeout=timeout,
                concurrency=concurrency,
            )
        elif isinstance(c, SlackChannel) and c.url is not None:
            url = c.url.read(f"{where}.url")
            out[c.name] = SlackNotifier(c.name, url, http, clock, timeout=timeout, concurrency=concurrency)
        elif isinstance(c, PagerDutyChannel):
            key = c.routing_key.read(f"{where}.routing_key")
            out[c.name] = PagerDutyNotifier(c.name, c.url, key, http, clock, timeout=timeout, concurrency=concurrency)
        elif isinstance(c, EmailChannel):
            out[c.name] = EmailNotifier(
                c.name,
                host=c.host,
                port=c.port,
                sender=c.sender,
                username=c.username,
                password=c.password.read(f"{where}.password") if c.password else None,
                security=c.security,
                timeout=timeout,
                concurrency=concurrency,
            )
        elif isinstance(c, WebhookChannel):
            bearer = c.bearer_token.read(f"{where}.bearer_token") if c.bearer_token else None
            out[c.name] = WebhookNotifier(
                c.name, c.url, http, clock, bearer_token=bearer, timeout=timeout, concurrency=concurrency
            )
    return out


__all__ = [
    "DeliveryResult",
    "EmailNotifier",
    "Notification",
    "NotificationEvent",
    "Notifier",
    "OutboxDispatcher",
    "OutboxStatus",
    "Outcome",
    "PagerDutyNotifier",
    "SlackApiNotifier",
    "SlackNotifier",
    "WebhookNotifier",
    "build_notifiers",
    "enqueue",
]
