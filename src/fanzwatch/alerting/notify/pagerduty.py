"""PagerDuty Events API v2: one PagerDuty incident per fanzwatch incident (``dedup_key``).

``trigger`` (and ``reopen``/``page``) open or update it, ``acknowledge`` and ``resolve``
follow ours. PagerDuty answers ``202``; ``400`` means the event is invalid (final),
``429`` is its rate limit (retry), ``5xx`` retry.
"""

from __future__ import annotations

from typing import Any

import httpx

from ...core.clock import Clock
from .base import DeliveryResult, Notification, NotificationEvent, judge_error, judge_response

SEVERITY = {"P0": "critical", "P1": "error", "P2": "warning"}
_ACTION = {
    NotificationEvent.TRIGGER: "trigger",
    NotificationEvent.REOPEN: "trigger",
    NotificationEvent.PAGE: "trigger",
    NotificationEvent.ACKNOWLEDGE: "acknowledge",
    NotificationEvent.RESOLVE: "resolve",
}


def pagerduty_event(n: Notification, routing_key: str) -> dict[str, Any]:
    """The Events v2 body for ``n``."""
    action = _ACTION[n.event]
    body: dict[str, Any] = {"routing_key": routing_key, "event_action": action, "dedup_key": n.dedup_key}
    if action == "trigger":
        body["payload"] = {
            "summary": n.headline[:1024],
            "source": n.platform,
            "severity": SEVERITY.get(n.priority, "error"),
            "timestamp": n.at.isoformat(),
            "component": n.service or "unknown",
            "group": n.platform,
            "class": n.labels.get("alertname", "incident"),
            "custom_details": {
                "summary": n.summary,
                "reason": n.reason,
                "labels": n.labels,
                **({"money": n.money} if n.money else {}),
            },
        }
        body["client"] = "fanzwatch"
        body["client_url"] = n.incident_url
        if n.runbook_url:
            body["links"] = [{"href": n.runbook_url, "text": "Runbook"}]
    return body


class PagerDutyNotifier:
    kind = "pagerduty"

    def __init__(
        self,
        name: str,
        url: str,
        routing_key: str,
        http: httpx.AsyncClient,
        clock: Clock,
        *,
        timeout: float,
        concurrency: int,
    ) -> None:
        self.name = name
        self._url = url
        self._routing_key = routing_key
        self._http = http
        self._clock = clock
        self.timeout = timeout
        self.concurrency = concurrency

    async def send(self, notification: Notification) -> DeliveryResult:
        try:
            response = await self._http.post(
                self._url, json=pagerduty_event(notification, self._routing_key), timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            return judge_error(exc)
        return judge_response(response, self._clock.now())
