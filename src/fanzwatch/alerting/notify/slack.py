"""Slack incoming webhooks: ``POST`` a JSON message with ``text`` and Block Kit ``blocks``.

Slack answers ``200 ok``; ``400 invalid_payload``, ``403``, ``404 no_service`` and
``410 channel_is_archived`` are final; ``429`` carries ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

import httpx

from ...core.clock import Clock
from .base import DeliveryResult, Notification, NotificationEvent, judge_error, judge_response

_EMOJI = {
    NotificationEvent.TRIGGER: ":rotating_light:",
    NotificationEvent.REOPEN: ":rotating_light:",
    NotificationEvent.PAGE: ":sos:",
    NotificationEvent.ACKNOWLEDGE: ":eyes:",
    NotificationEvent.RESOLVE: ":white_check_mark:",
}


def slack_message(n: Notification) -> dict[str, Any]:
    """The incoming-webhook body for ``n``."""
    text = f"{_EMOJI[n.event]} {n.headline}"
    facts = f"*Priority* {n.priority}   *Platform* {n.platform}" + (f"   *Service* {n.service}" if n.service else "")
    links = f"<{n.incident_url}|Incident #{n.incident_id}>" + (
        f"  ·  <{n.runbook_url}|Runbook>" if n.runbook_url else ""
    )
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*\n{n.summary}"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": f"{facts}\n_{n.reason}_ (for {n.recipient})"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": links}]},
        ],
    }


class SlackNotifier:
    kind = "slack"

    def __init__(
        self, name: str, url: str, http: httpx.AsyncClient, clock: Clock, *, timeout: float, concurrency: int
    ) -> None:
        self.name = name
        self._url = url
        self._http = http
        self._clock = clock
        self.timeout = timeout
        self.concurrency = concurrency

    async def send(self, notification: Notification) -> DeliveryResult:
        try:
            response = await self._http.post(self._url, json=slack_message(notification), timeout=self.timeout)
        except httpx.HTTPError as exc:
            return judge_error(exc)
        return judge_response(response, self._clock.now())
